package org.bnb4j.examples.lm;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A character-level LSTM language model (Karpathy's char-rnn shape) in DL4J. */
public final class CharLstm {
    private CharLstm() {}

    public static MultiLayerNetwork build(int vocab, int hidden, int layers, IUpdater updater, long seed) {
        if (hidden < 1 || layers < 1) throw new IllegalArgumentException("hidden and layers must be >= 1");
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.XAVIER)
                .gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
                .gradientNormalizationThreshold(5.0)
                .list();
        for (int i = 0; i < layers; i++) {
            b.layer(new LSTM.Builder().nIn(i == 0 ? vocab : hidden).nOut(hidden).activation(Activation.TANH).build());
        }
        b.layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(vocab)
                .activation(Activation.SOFTMAX).build());
        MultiLayerConfiguration conf = b.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
