package org.bnb4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.bnb4j.distributed.Spirals;
import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.repartitioner.DefaultRepartitioner;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SharedTrainingMaster (gradient sharing over Aeron UDP on the loopback interface), Spark local[2]:
 * each worker applies the shared encoded updates with its own updater; at the end of each fit() the
 * results' state is averaged into the master's network, which {@link SharedTrainingMaster8bit} does in
 * float (DL4J's master averages the packed words).
 */
class SharedTrainingMasterTest {
    static final DataSet TRAIN = Spirals.data(200, 1), TEST = Spirals.data(100, 2);
    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        // DL4J's AeronUdpTransport sets aeron.client.liveness.timeout to 30 s; the Aeron 1.39 media driver that
        // nd4j-aeron 1.0.0-M2.1 brings refuses to start unless the publication unblock timeout (15 s by default)
        // is longer. On a cluster: -Daeron.publication.unblock.timeout=60000000000 on the driver and executors.
        System.setProperty("aeron.publication.unblock.timeout", "60000000000");
        // One executor thread: DL4J's SharedTrainingWrapper makes the first concurrent task of an executor the
        // trainer and the others feeders that wait for it; a feeder that attaches after the trainer has drained the
        // data waits forever (seen once in local[2]: a feeder parked in BlockingObserver.waitTillDone, no trainer
        // left). With one thread the tasks run one after another, each as the trainer.
        sc = SparkLocal.start("bnb4j-shared", 1);
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.stop();
        sc = null;
    }

    static SharedTrainingMaster master(int port) {
        VoidConfiguration voidConf = VoidConfiguration.builder()
                .unicastPort(port)                 // the controller's Aeron UDP port (loopback)
                .controllerAddress("127.0.0.1")    // local mode: the driver is the controller
                .build();
        return new SharedTrainingMaster8bit.Builder(voidConf, 2, new AdaptiveThresholdAlgorithm(1e-3), 1)
                .batchSizePerWorker(32)
                // one model per executor: with more, DL4J's SharedTrainingWrapper runs a ParallelWrapper whose replicas
                // copy the root's updater state while the root may be in a step (a torn copy, which 8-bit state refuses)
                .workersPerNode(1)
                .rngSeed(12345)
                .repartitioner(new DefaultRepartitioner())
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .collectTrainingStats(false)
                .build();
    }

    /**
     * Adam8bit trains several fit() calls without error and learns; after each fit() the master's network
     * holds a valid 8-bit state (the results' average, requantized) that its updater steps on.
     */
    @Tag("trajectory")
    @Test
    void adam8bitTrains() {
        MultiLayerNetwork net = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        double initial = net.score(TEST);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master(40123));
        JavaRDD<DataSet> rdd = SparkLocal.rdd(sc, TRAIN, 2);
        long t0 = System.nanoTime();
        StringBuilder curve = new StringBuilder();
        double[] losses = new double[6];
        for (int e = 0; e < losses.length; e++) {
            spark.fit(rdd);
            losses[e] = net.score(TEST);
            curve.append(String.format(" %.4f", losses[e]));
            assertNotNull(FloatUpdaterState.dequantize(net), "fit " + e);   // tag and checksum checked
        }
        double loss = net.score(TEST);
        System.out.printf("Spark SharedTrainingMaster Adam8bit: initial %.4f, after 6 fit() %.4f (%.1f s); per fit():%s%n", initial, loss,
                (System.nanoTime() - t0) / 1e9, curve);
        // gradient sharing on this small task is noisy and not repeatable (asynchronous, threshold-encoded updates; the
        // 32-bit twin's curves jump about as much): every loss finite, the median below half the initial one
        double[] sorted = losses.clone();
        java.util.Arrays.sort(sorted);
        for (double l : losses) assertTrue(Double.isFinite(l), "loss per fit():" + curve);
        assertTrue((sorted[2] + sorted[3]) / 2 < 0.5 * initial, "median loss above half the initial " + initial + "; per fit():" + curve);
        INDArray state = net.getUpdater().getStateViewArray();
        assertTrue(state.amaxNumber().doubleValue() > 0, "the master's state is zero");
        assertTrue(FloatUpdaterState.has8bitState(net));
        FloatUpdaterState.dequantize(net);   // a valid, sealed state (tag and checksum checked)
        net.fit(TEST);                       // which the updater steps on
    }
}
