package org.bnb4j.updaters;

import org.bnb4j.optim.OptimKind;
import org.bnb4j.updaters.config.AdEMAMix8bit;
import org.bnb4j.updaters.config.Adagrad8bit;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.updaters.config.RMSprop8bit;
import org.bnb4j.updaters.config.SGD8bit;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Every optimizer's updater config and test data, in one place: the tests that run each optimizer
 * take them from here (golden checkpoints, JSON round trips, 8-bit vs 32-bit training, schedules,
 * HALF and DOUBLE views, maxUnorm, validation, the moment bound), and
 * {@code UpdatersTest.everyOptimizerHasOneEntry} fails for an {@link OptimKind} without an entry. A new
 * optimizer adds its entry here (and its golden checkpoint files, see GoldenCheckpointsTest).
 */
public final class TestUpdaters {
    private TestUpdaters() {}

    /**
     * One optimizer's test data.
     *
     * @param kind         the kernel its config runs
     * @param trains       defaults but a learning rate that trains the spiral MLPs of these tests
     *                     (the golden checkpoints were written with it: do not change it)
     * @param custom       every hyper-parameter of its own off its default (JSON, clone, 8- vs 32-bit training)
     * @param withSchedule its constructor from a learning-rate schedule (null: a fixed rate)
     * @param invalid      builds its validation must reject (one per hyper-parameter check)
     */
    public record Entry(OptimKind kind, Supplier<BlockwiseUpdaterConfig> trains, Supplier<BlockwiseUpdaterConfig> custom,
                        Function<ISchedule, BlockwiseUpdaterConfig> withSchedule, List<Supplier<BlockwiseUpdaterConfig>> invalid) {
        @Override
        public String toString() {
            return kind.toString();
        }
    }

    /** In OptimKind order. */
    public static final List<Entry> ALL = List.of(
            new Entry(OptimKind.ADAM, () -> new Adam8bit(3e-3),
                    () -> Adam8bit.builder().learningRate(3e-3).beta1(0.8).beta2(0.99).epsilon(1e-6).blocksize(128).min8bitSize(1000).build(),
                    Adam8bit::new,
                    List.of(() -> Adam8bit.builder().beta1(1.0).build(), () -> Adam8bit.builder().beta2(Double.NaN).build(),
                            () -> Adam8bit.builder().epsilon(0).build(),
                            // valid as doubles, not as the floats the kernels compute in
                            () -> Adam8bit.builder().beta2(0.99999999999).build(), () -> Adam8bit.builder().epsilon(1e-50).build(),
                            () -> Adam8bit.builder().epsilon(Double.POSITIVE_INFINITY).build(),
                            () -> Adam8bit.builder().learningRate(1e40).build())),
            new Entry(OptimKind.MOMENTUM, () -> new SGD8bit(0.05, 0.9),
                    () -> SGD8bit.builder().learningRate(0.1).momentum(0.9).build(),
                    SGD8bit::new,
                    List.of(() -> SGD8bit.builder().momentum(Double.NaN).build(), () -> SGD8bit.builder().momentum(-0.1).build(),
                            () -> SGD8bit.builder().momentum(0).build(),
                            () -> SGD8bit.builder().momentum(0.99999999999).build(), () -> SGD8bit.builder().momentum(1e-50).build())),
            new Entry(OptimKind.RMSPROP, () -> RMSprop8bit.builder().learningRate(1e-3).build(),
                    () -> RMSprop8bit.builder().learningRate(1e-3).rmsDecay(0.9).epsilon(1e-7).build(),
                    RMSprop8bit::new,
                    List.of(() -> RMSprop8bit.builder().epsilon(0).build(), () -> RMSprop8bit.builder().rmsDecay(1.0).build(),
                            () -> RMSprop8bit.builder().rmsDecay(0).build(),
                            () -> RMSprop8bit.builder().rmsDecay(0.99999999999).build(), () -> RMSprop8bit.builder().epsilon(1e-50).build())),
            new Entry(OptimKind.ADAGRAD, () -> Adagrad8bit.builder().learningRate(0.03).build(),
                    () -> Adagrad8bit.builder().learningRate(0.05).epsilon(1e-6).build(),
                    Adagrad8bit::new,
                    List.of(() -> Adagrad8bit.builder().learningRate(-1).build(), () -> Adagrad8bit.builder().epsilon(-1e-6).build(),
                            () -> Adagrad8bit.builder().epsilon(1e-46).build(), () -> Adagrad8bit.builder().epsilon(1e39).build())),
            new Entry(OptimKind.LION, () -> new Lion8bit(1e-3),
                    () -> Lion8bit.builder().learningRate(1e-3).beta1(0.95).beta2(0.98).optimBits(32).build(),
                    Lion8bit::new,
                    List.of(() -> Lion8bit.builder().beta2(1.5).build(), () -> Lion8bit.builder().beta1(Double.NaN).build(),
                            () -> Lion8bit.builder().beta1(0.99999999999).build())),
            new Entry(OptimKind.ADEMAMIX, () -> AdEMAMix8bit.builder().learningRate(2e-3).build(),
                    () -> AdEMAMix8bit.builder().learningRate(2e-3).alpha(2.0).beta3(0.999).tAlpha(100).tBeta3(100).build(),
                    AdEMAMix8bit::new,
                    List.of(() -> AdEMAMix8bit.builder().beta3(1.0).build(), () -> AdEMAMix8bit.builder().tAlpha(-5).build(),
                            () -> AdEMAMix8bit.builder().alpha(-1).build(), () -> AdEMAMix8bit.builder().beta1(0).tBeta3(100).build(),
                            () -> AdEMAMix8bit.builder().beta3(0).tBeta3(100).build(),
                            () -> AdEMAMix8bit.builder().alpha(Double.POSITIVE_INFINITY).build(),
                            () -> AdEMAMix8bit.builder().alpha(1e39).build(),
                            () -> AdEMAMix8bit.builder().beta3(0.99999999999).build(),
                            () -> AdEMAMix8bit.builder().beta1(1e-50).tBeta3(100).build())));

    /** Each optimizer with the learning rate that trains the spiral MLPs. */
    public static Stream<BlockwiseUpdaterConfig> training() {
        return ALL.stream().map(e -> e.trains().get());
    }

    /** Each optimizer with its own hyper-parameters off their defaults. */
    public static Stream<BlockwiseUpdaterConfig> custom() {
        return ALL.stream().map(e -> e.custom().get());
    }

    /** {@link #training()}, each followed by the 32-bit twin of the first (Adam): 8-bit and 32-bit state. */
    public static List<BlockwiseUpdaterConfig> trainingAndA32BitTwin() {
        List<BlockwiseUpdaterConfig> all = new java.util.ArrayList<>(training().toList());
        BlockwiseUpdaterConfig twin = all.get(0).clone();
        twin.setOptimBits(32);
        all.add(twin);
        return all;
    }
}
