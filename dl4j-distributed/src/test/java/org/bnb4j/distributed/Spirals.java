package org.bnb4j.distributed;

import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Random;

/**
 * Three interleaved spirals in 2-D and the 2-64-64-3 RELU MLP the distributed tests train on them;
 * dl4j-spark's tests train the same ones (public for them: they take it from this module's test-jar).
 */
public final class Spirals {
    private Spirals() {}

    public static DataSet data(int perClass, long seed) {
        Random r = new Random(seed);
        int classes = 3, n = classes * perClass;
        float[][] x = new float[n][2], y = new float[n][classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) {
                double rad = (double) i / perClass, ang = c * 2 * Math.PI / classes + rad * 4.0 + r.nextGaussian() * 0.2;
                x[c * perClass + i][0] = (float) (rad * Math.sin(ang));
                x[c * perClass + i][1] = (float) (rad * Math.cos(ang));
                y[c * perClass + i][c] = 1;
            }
        }
        DataSet d = new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
        d.shuffle(seed);
        return d;
    }

    public static DataSetIterator iterator(DataSet d, int batch) {
        return new ListDataSetIterator<>(d.asList(), batch);
    }

    /** 2-64-64-3: 4547 parameters, one updater block (above the default min8bitSize of 4096). */
    public static MultiLayerNetwork mlp(IUpdater u, long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).updater(u).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(64).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(64).nOut(64).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(64).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    /** The same 2-64-64-3 network as a ComputationGraph. */
    public static ComputationGraph graph(IUpdater u, long seed) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).updater(u).weightInit(WeightInit.XAVIER)
                .graphBuilder().addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(2).nOut(64).activation(Activation.RELU).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(64).nOut(64).activation(Activation.RELU).build(), "a")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(64).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "b")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }
}
