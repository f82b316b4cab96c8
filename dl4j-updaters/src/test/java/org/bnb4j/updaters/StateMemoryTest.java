package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The updater keeps its state's addresses from step to step, so every step must find the state view's
 * memory still its own: a view closed since (or whose parent was), one in a workspace closed since, or
 * a gradient lying over the state is refused with a message before the kernel reads or writes anything
 * (the steps would otherwise write freed or reused memory: heap corruption, or another array changed).
 */
class StateMemoryTest {
    static final int N = 8192;
    static final WorkspaceConfiguration WS = WorkspaceConfiguration.builder().initialSize(4 << 20)
            .policyAllocation(AllocationPolicy.STRICT).policyLearning(LearningPolicy.NONE).build();

    private static INDArray gradient(long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, 1, N);
    }

    private static <T extends Throwable> void assertRefused(Class<T> type, String fragment, Runnable r) {
        T e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(fragment), "message should mention '" + fragment + "': " + e.getMessage());
    }

    /** 8-bit (Adam8bit) and 32-bit state (Lion8bit below min8bitSize) alike. */
    private static IUpdater[] configs() {
        return new IUpdater[]{new Adam8bit(1e-3), Lion8bit.builder().learningRate(1e-4).min8bitSize(N + 1).build()};
    }

    @Test
    void aClosedStateViewOrParentIsRefused() {
        for (IUpdater cfg : configs()) {
            long size = cfg.stateSize(N);
            INDArray parent = Nd4j.create(DataType.FLOAT, 1, size + 100);
            INDArray view = parent.get(NDArrayIndex.point(0), NDArrayIndex.interval(100, size + 100)).reshape(1, size);
            GradientUpdater<?> u = cfg.instantiate(view, true);
            u.applyUpdater(gradient(1), 0, 0);
            parent.close();
            INDArray g = gradient(2), before = g.dup();
            assertRefused(IllegalArgumentException.class, "state view", () -> u.applyUpdater(g, 1, 0));
            assertEquals(before, g, "the gradient is left as it was");

            INDArray own = Nd4j.create(DataType.FLOAT, 1, size);
            GradientUpdater<?> u2 = cfg.instantiate(own, true);
            u2.applyUpdater(gradient(1), 0, 0);
            own.close();
            assertRefused(IllegalArgumentException.class, "was closed", () -> u2.applyUpdater(gradient(2), 1, 0));
        }
    }

    /** A state view in a workspace that closed and reopened: its memory now belongs to a live array, which must not change. */
    @Test
    void aStateViewOfAClosedWorkspaceIsRefused() {
        for (IUpdater cfg : configs()) {
            long size = cfg.stateSize(N);
            GradientUpdater<?> u;
            GradientUpdater<?> viewed;
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-state-ws")) {
                u = cfg.instantiate(Nd4j.create(DataType.FLOAT, 1, size), true);
                viewed = cfg.instantiate(Nd4j.create(DataType.FLOAT, 1, size + 10)
                        .get(NDArrayIndex.point(0), NDArrayIndex.interval(10, size + 10)).reshape(1, size), true);
                u.applyUpdater(gradient(1), 0, 0);
                viewed.applyUpdater(gradient(1), 0, 0);
            }
            assertRefused(IllegalStateException.class, "has been closed", () -> u.applyUpdater(gradient(2), 1, 0));
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-state-ws")) {
                INDArray live = Nd4j.valueArrayOf(new long[]{2 * size + 20}, 3.0f, DataType.FLOAT);
                assertRefused(IllegalStateException.class, "closed and reopened", () -> u.applyUpdater(gradient(2), 1, 0));
                assertRefused(IllegalStateException.class, "closed and reopened", () -> viewed.applyUpdater(gradient(2), 1, 0));
                assertEquals(live.length(), live.eq(3.0f).castTo(DataType.INT).sumNumber().longValue(), "the live array is untouched");
            }
        }
    }

    /** A gradient over the state's memory (codes, scales or header): refused, the state not stepped. */
    @Test
    void aGradientOverTheStateIsRefused() {
        for (IUpdater cfg : configs()) {
            long size = cfg.stateSize(N);
            INDArray big = Nd4j.create(DataType.FLOAT, 1, size + N);
            INDArray view = big.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, size)).reshape(1, size);
            GradientUpdater<?> u = cfg.instantiate(view, true);
            u.applyUpdater(gradient(1), 0, 0);
            INDArray stateBefore = view.dup();
            INDArray over = big.get(NDArrayIndex.point(0), NDArrayIndex.interval(size - N / 2, size + N / 2)).reshape(1, N);
            assertRefused(IllegalArgumentException.class, "shares memory", () -> u.applyUpdater(over, 1, 0));
            assertEquals(stateBefore, view, "the state is untouched");
            // the next step with a separate gradient is the step a fresh copy of the state takes
            GradientUpdater<?> ref = cfg.instantiate(stateBefore, false);
            INDArray g = gradient(3), gRef = g.dup();
            u.applyUpdater(g, 1, 0);
            ref.applyUpdater(gRef, 1, 0);
            assertEquals(gRef, g);
        }
    }
}
