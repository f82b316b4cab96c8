package org.bnb4j.distributed;

import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.util.CrashReportingUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker that fails makes fit() throw (never wait forever), and the wrapper trains again afterwards.
 * DL4J's DefaultTrainer records only Exceptions, so an Error in a worker (an OutOfMemoryError in a
 * step, an AssertionError in a listener) used to leave fit() waiting in waitTillRunning() for good.
 */
class WorkerFailureTest {
    private static final DataSet TRAIN = Spirals.data(100, 1);

    /** DL4J writes a memory crash dump into the working directory on an OutOfMemoryError, the simulated one too. */
    @BeforeAll
    static void noCrashDumps() {
        CrashReportingUtil.crashDumpsEnabled(false);
    }

    @AfterAll
    static void crashDumpsAgain() {
        CrashReportingUtil.crashDumpsEnabled(true);
    }

    /** A listener that throws {@code toThrow} at the third step of the root model (or of a replica). */
    private static BaseTrainingListener failing(Model root, boolean onReplica, Throwable toThrow) {
        return new BaseTrainingListener() {
            private int n;

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                if ((model == root) != onReplica && ++n == 3) {
                    if (toThrow instanceof Error) throw (Error) toThrow;
                    throw (RuntimeException) toThrow;
                }
            }
        };
    }

    private static boolean causedBy(Throwable t, Throwable cause) {
        for (Throwable c = t; c != null; c = c.getCause()) if (c == cause) return true;
        return false;
    }

    private static void failsWith(Throwable toThrow, boolean onReplica, int averagingFrequency) {
        MultiLayerNetwork net = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        ParallelWrapper pw = new ParallelWrapper8bit.Builder<>(net).workers(2).prefetchBuffer(2)
                .averagingFrequency(averagingFrequency).averageUpdaters(true).build();
        pw.setListeners(failing(net, onReplica, toThrow));
        Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(90),
                () -> assertThrows(Throwable.class, () -> pw.fit(Spirals.iterator(TRAIN, 16))),
                toThrow + " in a worker: fit() must throw, not wait forever");
        assertTrue(causedBy(thrown, toThrow), "fit() reports the worker's failure: " + thrown);
        assertTimeoutPreemptively(Duration.ofSeconds(60), pw::shutdown, "shutdown after the failure");
    }

    @Test
    void anErrorInAReplicaEndsFit() {
        failsWith(new AssertionError("listener assertion"), true, 1);
    }

    @Test
    void anErrorInTheRootWorkerEndsFit() {
        failsWith(new OutOfMemoryError("simulated off-heap allocation failure"), false, 1);
    }

    /** With averagingFrequency > 1 ParallelWrapper feeds a dead worker again before asking whether it failed. */
    @Test
    void aFailedWorkerIsNotFedForever() {
        failsWith(new IllegalStateException("replica failure"), true, 4);
        failsWith(new AssertionError("replica error"), true, 4);
    }

    /**
     * After a fit() that failed (labels of the wrong width), the same wrapper trains on good data (it
     * threw the old exception again at every later fit()), and the root keeps the updater state it had.
     */
    @Test
    void theWrapperTrainsAgainAfterAFailedFit() {
        MultiLayerNetwork net = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        ParallelWrapper pw = new ParallelWrapper8bit.Builder<>(net).workers(2).prefetchBuffer(2)
                .averagingFrequency(1).averageUpdaters(true).build();
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> pw.fit(Spirals.iterator(TRAIN, 16)));
        INDArray trained = net.getUpdater().getStateViewArray().dup();
        assertTrue(trained.amaxNumber().doubleValue() > 0, "the first fit() leaves updater state");

        DataSet bad = new DataSet(TRAIN.getFeatures(), Nd4j.zeros(DataType.FLOAT, TRAIN.numExamples(), 5));
        assertTimeoutPreemptively(Duration.ofSeconds(90),
                () -> assertThrows(RuntimeException.class, () -> pw.fit(Spirals.iterator(bad, 16))));
        assertNotEquals(0.0, net.getUpdater().getStateViewArray().amaxNumber().doubleValue(),
                "the failed fit() does not zero the root's updater state");

        double before = net.score(TRAIN);
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> pw.fit(Spirals.iterator(TRAIN, 16)),
                "a fit() after the failed one trains instead of rethrowing the old exception");
        assertTrue(net.score(TRAIN) < before, "and learns: " + before + " -> " + net.score(TRAIN));
        pw.shutdown();
    }

    /**
     * SHARED_GRADIENTS and CUSTOM: the surviving worker waited forever at the accumulator's barrier for
     * the dead one, and fit() with it. Now fit() throws the worker's failure; the accumulator cannot be
     * used again (DL4J keeps its barrier counts), so a later fit() is refused with a message, and a new
     * wrapper trains the same model on.
     */
    @Test
    void aWorkerThatDiesWhileGradientsAreSharedEndsFit() {
        for (ParallelWrapper.TrainingMode mode : new ParallelWrapper.TrainingMode[]{ParallelWrapper.TrainingMode.SHARED_GRADIENTS,
                ParallelWrapper.TrainingMode.CUSTOM}) {
            MultiLayerNetwork net = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
            ParallelWrapper pw = ParallelWrapper8bitTest.wrapper(net, mode);
            java.util.List<DataSet> batches = new java.util.ArrayList<>();
            for (DataSet d : TRAIN.batchBy(10)) batches.add(d);
            DataSet b4 = batches.get(4);
            batches.set(4, new DataSet(b4.getFeatures(), Nd4j.zeros(DataType.FLOAT, b4.numExamples(), 5)));   // 3 outputs
            Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(90),
                    () -> assertThrows(Throwable.class, () -> pw.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(batches, 1))),
                    mode + ": a worker that throws makes fit() throw, not wait forever");
            assertTrue(String.valueOf(thrown).contains("shape") || String.valueOf(thrown.getCause()).contains("shape"), mode + ": " + thrown);
            IllegalStateException again = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> assertThrows(IllegalStateException.class, () -> pw.fit(Spirals.iterator(TRAIN, 16))));
            assertTrue(again.getMessage().contains("build a new wrapper"), again.getMessage());
            assertTimeoutPreemptively(Duration.ofSeconds(60), pw::shutdown, mode + ": shutdown after the failure");
            double before = net.score(TRAIN);
            ParallelWrapper fresh = ParallelWrapper8bitTest.wrapper(net, mode);
            assertTimeoutPreemptively(Duration.ofSeconds(120), () -> fresh.fit(Spirals.iterator(TRAIN, 16)));
            fresh.shutdown();
            assertTrue(net.score(TRAIN) < before, mode + ": a new wrapper trains the model on: " + before + " -> " + net.score(TRAIN));
        }
    }
}
