package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class Adam8bitTest {

    /** Interleaved spirals: a task with known structure, no download. */
    static DataSet spirals(int perClass, long seed) {
        Random r = new Random(seed);
        int classes = 3, n = classes * perClass;
        float[][] x = new float[n][2], y = new float[n][classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) {
                double rad = (double) i / perClass, ang = c * 2 * Math.PI / classes + rad * 4.5 + r.nextGaussian() * 0.2;
                x[c * perClass + i][0] = (float) (rad * Math.sin(ang));
                x[c * perClass + i][1] = (float) (rad * Math.cos(ang));
                y[c * perClass + i][c] = 1;
            }
        }
        DataSet d = new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
        d.shuffle(seed);
        return d;
    }

    static MultiLayerConfiguration conf(IUpdater u) {
        return new NeuralNetConfiguration.Builder().seed(7).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(256).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(256).nOut(256).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(256).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
    }

    static MultiLayerNetwork net(IUpdater u) {
        MultiLayerNetwork n = new MultiLayerNetwork(conf(u));
        n.init();
        return n;
    }

    @Test
    void jsonRoundTripInAMultiLayerConfiguration() {
        Adam8bit a = Adam8bit.builder().learningRate(3e-3).beta1(0.8).beta2(0.99).epsilon(1e-6).blocksize(128).min8bitSize(1000).build();
        MultiLayerConfiguration c = conf(a);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(c.toJson());
        assertEquals(c, back);
        IUpdater u = ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(1).getLayer()).getIUpdater();
        assertEquals(a, u);
        Adam8bit s = new Adam8bit(new ExponentialSchedule(ScheduleType.ITERATION, 1e-3, 0.99));
        assertEquals(s, ((org.deeplearning4j.nn.conf.layers.BaseLayer) MultiLayerConfiguration.fromJson(conf(s).toJson())
                .getConf(0).getLayer()).getIUpdater());
        assertEquals(1e-3 * 0.99, s.getLearningRate(1, 0), 1e-12);
    }

    @Test
    void trainsLikeAdam() {
        DataSet train = spirals(600, 1), test = spirals(200, 2);
        MultiLayerNetwork adam = net(new Adam(3e-3)), adam8 = net(new Adam8bit(3e-3));
        assertEquals(adam.params(), adam8.params());
        for (int i = 0; i < 200; i++) {
            adam.fit(train);
            adam8.fit(train);
        }
        double l32 = adam.score(test), l8 = adam8.score(test);
        Evaluation e32 = new Evaluation(3), e8 = new Evaluation(3);
        e32.eval(test.getLabels(), adam.output(test.getFeatures()));
        e8.eval(test.getLabels(), adam8.output(test.getFeatures()));
        assertTrue(Math.abs(e32.accuracy() - e8.accuracy()) <= 0.01, "accuracy " + e32.accuracy() + " vs " + e8.accuracy());
        assertTrue(Math.abs(l8 - l32) <= 0.02 * l32 + 0.005, "loss " + l32 + " vs " + l8);
        assertTrue(e8.accuracy() > 0.9, "learns the task: " + e8.accuracy());
    }

    @Test
    void saveRestoreResumesBitForBit() throws Exception {
        DataSet train = spirals(300, 3);
        MultiLayerNetwork a = net(new Adam8bit(3e-3));
        for (int i = 0; i < 5; i++) a.fit(train);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(a, bytes, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true);
        MultiLayerNetwork c = a.clone();
        for (int i = 0; i < 5; i++) {
            a.fit(train);
            b.fit(train);
            c.fit(train);
        }
        assertEquals(a.params(), b.params(), "restored network continues exactly");
        assertEquals(a.params(), c.params(), "cloned network continues exactly");
        INDArray view = a.getUpdater().getStateViewArray();
        assertEquals(DataType.FLOAT, view.dataType());
        assertTrue(view.length() < a.numParams(), "8-bit packed state: " + view.length() + " floats for " + a.numParams() + " params");
    }

    @Test
    void stateIsAboutTwoBytesPerParameterForLargeBlocks() {
        Adam8bit a = new Adam8bit();
        long n = 10_000_000;
        assertTrue(a.stateSize(n) * 4.0 / n <= 2.04, "bytes/param " + a.stateSize(n) * 4.0 / n);
        assertEquals(2 * 1000, a.stateSize(1000), "below min8bitSize: 32-bit m and v");
        assertEquals(2 * n, Adam8bit.builder().optimBits(32).build().stateSize(n));
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().blocksize(100).build());
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().optimBits(16).build());
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().beta1(1.0).build());
    }
}
