package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.Lion8bit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** What DL4J's own updaters accept or do, the 8-bit ones accept or do too. */
class Dl4jConventionsTest {

    private static final List<Function<ISchedule, BlockwiseUpdaterConfig>> WITH_SCHEDULE =
            TestUpdaters.ALL.stream().map(TestUpdaters.Entry::withSchedule).toList();

    private static MultiLayerNetwork net(IUpdater u) {
        return SpiralMlp.create(u, 3);
    }

    /** DL4J's updaters (and its tests) call applyUpdater with iteration -1: the first step. */
    @Test
    void iterationMinusOneIsTheFirstStep() {
        for (BlockwiseUpdaterConfig c : TestUpdaters.trainingAndA32BitTwin()) {
            long n = 8192;
            Nd4j.getRandom().setSeed(1);
            INDArray g = Nd4j.randn(DataType.FLOAT, 1, n);
            INDArray g1 = g.dup(), g2 = g.dup();
            GradientUpdater<?> a = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(n)), true);
            GradientUpdater<?> b = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(n)), true);
            a.applyUpdater(g1, -1, 0);
            b.applyUpdater(g2, 0, 0);
            assertEquals(g2, g1, c + ": iteration -1 gives the first step");
            assertTrue(g1.amaxNumber().doubleValue() > 0);
        }
    }

    /** DL4J's Adam(ISchedule) and net.setLearningRate(ISchedule) set learningRate to NaN; equal configs must compare equal. */
    @Test
    void scheduleConstructorsMatchSetLearningRate() {
        ISchedule s = new ExponentialSchedule(ScheduleType.ITERATION, 1e-2, 0.99);
        assertTrue(Double.isNaN(new Adam(s).getLearningRate()), "DL4J's own convention");
        for (Function<ISchedule, BlockwiseUpdaterConfig> make : WITH_SCHEDULE) {
            BlockwiseUpdaterConfig withSchedule = make.apply(s);
            assertTrue(Double.isNaN(withSchedule.getLearningRate()), withSchedule.toString());
            BlockwiseUpdaterConfig set = make.apply(null);
            set.setLearningRate(5e-3);
            set.setLrAndSchedule(Double.NaN, s); // what NetworkUtils.setLearningRate(ISchedule) does
            assertEquals(withSchedule, set);
            assertEquals(withSchedule.hashCode(), set.hashCode());
            assertEquals(1e-2 * 0.99, withSchedule.getLearningRate(1, 0), 1e-12);
        }
        // and through a network
        MultiLayerNetwork n = net(new Adam8bit(1e-2));
        n.setLearningRate(s);
        assertEquals(new Adam8bit(s), ((org.deeplearning4j.nn.conf.layers.BaseLayer) n.getLayer(0).conf().getLayer()).getIUpdater());
        // the JSON round trip keeps the NaN and the schedule
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(n.getLayerWiseConfigurations().toJson());
        assertEquals(new Adam8bit(s), ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(0).getLayer()).getIUpdater());
    }

    @Test
    void nonFiniteOrNegativeLearningRatesAreRejected() {
        for (double bad : new double[]{Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1e-3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adam8bit(bad));
            assertTrue(e.getMessage().contains("learningRate"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Lion8bit(bad));
        }
        Adam8bit nanWithoutSchedule = new Adam8bit();
        nanWithoutSchedule.setLearningRate(Double.NaN);
        assertThrows(IllegalStateException.class, () -> nanWithoutSchedule.stateSize(10));
        Adam8bit infBySetter = new Adam8bit();
        infBySetter.setLearningRate(Double.POSITIVE_INFINITY);
        assertThrows(IllegalStateException.class, infBySetter::validate);
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().learningRate(Double.POSITIVE_INFINITY).build());
    }

    /** A schedule is user code called each step: a rate it gives that is negative, NaN or infinite as a float stops the step. */
    @Test
    void badRatesFromASchedulesAreRefusedNamingTheSchedule() {
        ISchedule misbehaving = new ISchedule() {
            @Override
            public double valueAt(int iteration, int epoch) {
                return iteration < 2 ? 1e-2 : iteration == 2 ? -1e-3 : iteration == 3 ? Double.NaN : 1e40;
            }

            @Override
            public ISchedule clone() {
                return this;
            }

            @Override
            public String toString() {
                return "MisbehavingSchedule";
            }
        };
        for (Function<ISchedule, BlockwiseUpdaterConfig> make : WITH_SCHEDULE) {
            BlockwiseUpdaterConfig c = make.apply(misbehaving);
            long n = 8192;
            Nd4j.getRandom().setSeed(3);
            INDArray g = Nd4j.randn(DataType.FLOAT, 1, n);
            INDArray view = Nd4j.create(DataType.FLOAT, 1, c.stateSize(n));
            GradientUpdater<?> u = c.instantiate(view, true);
            u.applyUpdater(g.dup(), 0, 0);
            u.applyUpdater(g.dup(), 1, 0);
            INDArray stateBefore = view.dup();
            String[] expected = {"-0.001", "NaN", "1.0E40 (Infinity as the float"};
            for (int it = 2; it <= 4; it++) {
                int iteration = it;
                INDArray gi = g.dup();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> u.applyUpdater(gi, iteration, 7), c.toString());
                assertTrue(e.getMessage().contains("MisbehavingSchedule") && e.getMessage().contains("iteration " + it + ", epoch 7")
                        && e.getMessage().contains(expected[it - 2]), e.getMessage());
                assertEquals(g, gi, c + ": the gradient is left as it was");
                assertEquals(stateBefore, view, c + ": the state is left as it was");
            }
        }
        // and through a network: fit throws, the parameters are kept
        MultiLayerNetwork net = net(new Adam8bit(misbehaving));
        DataSet d = UpdatersTest.spirals(100, 4);
        net.fit(d);
        net.fit(d);
        INDArray params = net.params().dup();
        Exception e = assertThrows(IllegalStateException.class, () -> net.fit(d));
        assertTrue(e.getMessage().contains("MisbehavingSchedule"), e.getMessage());
        assertEquals(params, net.params());
    }

    /** A state started afresh after the first iteration (the view was zeroed, or DL4J rebuilt the blocks) is logged. */
    @Test
    void aStateStartedAfreshMidTrainingIsLogged() {
        Adam8bit c = new Adam8bit(1e-2);
        long len = 8192;
        INDArray view = Nd4j.create(DataType.FLOAT, 1, c.stateSize(len));
        GradientUpdater<?> u = c.instantiate(view, true);
        INDArray g = Nd4j.rand(DataType.FLOAT, 1, len);
        String first = stderrOf(() -> u.applyUpdater(g.dup(), 0, 0));
        assertFalse(first.contains("starts afresh"), "the first step of a new updater is not news: " + first);
        stderrOf(() -> u.applyUpdater(g.dup(), 1, 0));
        view.assign(0);
        String reset = stderrOf(() -> u.applyUpdater(g.dup(), 2, 0));
        assertTrue(reset.contains("Adam8bit: the updater view of a block of 8192 parameters is all zero at iteration 2"), reset);
        assertFalse(stderrOf(() -> u.applyUpdater(g.dup(), 3, 0)).contains("starts afresh"), "once per zeroing");
    }

    /** What slf4j-simple (the tests' binding, writing to the current System.err) printed while r ran. */
    private static String stderrOf(Runnable r) {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }

    @Test
    void constructorArgumentsAreCheckedAtConstruction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adam8bit(1e-3, 0.99999999999, 0.999, 1e-8));
        assertTrue(e.getMessage().startsWith("beta1 must be in [0, 1), got 0.99999999999 (1.0 as the float"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Adam8bit(1e-3, 0.9, 0.999, 1e-50));
        assertTrue(e.getMessage().startsWith("epsilon must be finite and > 0, got 1.0E-50 (0.0 as the float"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Adam8bit(1e40));
        assertTrue(e.getMessage().contains("learningRate") && e.getMessage().contains("Infinity as the float"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Lion8bit(1e-4, 0.9, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new org.bnb4j.updaters.config.SGD8bit(1e-2, 0));
        assertThrows(IllegalArgumentException.class, () -> new org.bnb4j.updaters.config.RMSprop8bit(1e-2, 0.99, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new org.bnb4j.updaters.config.Adagrad8bit(1e-2, -1));
        assertThrows(IllegalArgumentException.class, () -> new org.bnb4j.updaters.config.PagedAdam8bit(1e-3, 1.0, 0.999, 1e-8));
        // a schedule constructor given null (as DL4J's accept): named when the config is used without one
        Adam8bit noSchedule = new Adam8bit((ISchedule) null);
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> noSchedule.stateSize(10));
        assertTrue(s.getMessage().contains("no learningRateSchedule"), s.getMessage());
    }

    @Test
    void nullGradientIsAClearError() {
        Adam8bit c = new Adam8bit();
        GradientUpdater<?> u = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(8192)), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> u.applyUpdater(null, 0, 0));
        assertTrue(e.getMessage().contains("gradient"), e.getMessage());
    }

    /**
     * DL4J's Adam takes a view zeroed mid-training as a fresh state; so must the 8-bit updaters
     * (the view's tag word is then 0 as well). A view with a zero tag but other content is still refused.
     */
    @Test
    void viewZeroedMidTrainingRestartsTheState() {
        DataSet d = UpdatersTest.spirals(100, 4);
        for (IUpdater u : new IUpdater[]{new Adam(1e-2), new Adam8bit(1e-2), new Lion8bit(1e-3)}) {
            MultiLayerNetwork n = net(u);
            for (int i = 0; i < 3; i++) n.fit(d);
            n.getUpdater().getStateViewArray().assign(0);
            for (int i = 0; i < 3; i++) n.fit(d);
            assertFalse(n.params().isNaN().any() || n.params().isInfinite().any(), u + " trains on after the reset");
        }
        // a fresh updater from the zeroed view takes exactly the first step again
        Adam8bit c = new Adam8bit(1e-2);
        long len = 16384;
        INDArray view = Nd4j.create(DataType.FLOAT, 1, c.stateSize(len));
        GradientUpdater<?> u = c.instantiate(view, true);
        Nd4j.getRandom().setSeed(2);
        INDArray g = Nd4j.randn(DataType.FLOAT, 1, len);
        for (int i = 0; i < 3; i++) u.applyUpdater(g.dup(), i, 0);
        view.assign(0);
        INDArray afterReset = g.dup();
        u.applyUpdater(afterReset, 0, 0);
        INDArray fresh = g.dup();
        c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(len)), true).applyUpdater(fresh, 0, 0);
        assertEquals(fresh, afterReset);
        // zero tag over a non-zero state: not a reset, refused
        view.putScalar(0, 0f);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> u.applyUpdater(g.dup(), 1, 0));
        assertTrue(e.getMessage().contains("does not hold this updater's 8-bit state"), e.getMessage());
    }
}
