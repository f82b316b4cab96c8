package org.bnb4j.examples;

import org.bnb4j.Bnb4j;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Locale;
import java.util.Map;

/**
 * The first thing to run: trains a small DL4J network on a real (generated) classification task,
 * quantizes its trained weights block-wise to 8 bits, reports the error and the accuracy of the
 * network running on the dequantized weights, then measures quantize/dequantize throughput.
 */
public final class QuantizeDemo {
    public static void main(String[] args) {
        System.out.println("bnb4j demo: kernels = " + Bnb4j.kernels());

        DataSet train = SpiralData.generate(3, 1000, 0.2, 1);
        DataSet test = SpiralData.generate(3, 300, 0.2, 2);
        MultiLayerNetwork net = trainSpiralNet(train);
        double accuracy = accuracy(net, test);
        System.out.printf(Locale.ROOT, "trained a 2-256-256-3 MLP on 3 spiral arms: test accuracy %.2f%%%n%n", 100 * accuracy);

        System.out.println("quantizing each trained weight matrix (signed dynamic map):");
        System.out.println("param        shape        blocksize  mean|err|    mean rel err  8-bit bytes / fp32 bytes");
        for (int blocksize : new int[]{64, 256, 4096}) {
            MultiLayerNetwork q = net.clone();
            for (Map.Entry<String, INDArray> p : net.paramTable().entrySet()) {
                INDArray w = p.getValue();
                QuantState s = Blockwise.quantize(w, QuantMap.dynamic(), blocksize);
                INDArray back = Blockwise.dequantize(s);
                q.setParam(p.getKey(), back);
                if (p.getKey().endsWith("W")) {
                    INDArray err = Transforms.abs(w.sub(back));
                    System.out.printf(Locale.ROOT, "%-12s %-12s %9d  %.3e    %.3e     %d / %d%n", p.getKey(),
                            java.util.Arrays.toString(w.shape()), blocksize, err.meanNumber().doubleValue(),
                            err.div(Transforms.abs(w).add(1e-8)).meanNumber().doubleValue(), s.sizeInBytes(), 4 * w.length());
                }
            }
            System.out.printf(Locale.ROOT, "  -> network on 8-bit weights (blocksize %d): test accuracy %.2f%% (fp32: %.2f%%)%n",
                    blocksize, 100 * accuracy(q, test), 100 * accuracy);
        }

        long n = 16L << 20;
        INDArray x = Nd4j.randn(DataType.FLOAT, n);
        QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        INDArray out = Nd4j.create(DataType.FLOAT, n);
        int reps = 10;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) Blockwise.quantize(x, QuantMap.dynamic(), 256, s.codes(), s.absmax());
        long t1 = System.nanoTime();
        for (int i = 0; i < reps; i++) Blockwise.dequantize(s, out);
        long t2 = System.nanoTime();
        double q = reps * n / ((t1 - t0) / 1e9), d = reps * n / ((t2 - t1) / 1e9);
        double err = Transforms.abs(x.sub(out)).meanNumber().doubleValue();
        System.out.printf(Locale.ROOT, "%nthroughput on %,d randn floats, blocksize 256: quantize %.2f G elements/s (%.1f GB/s in), "
                + "dequantize %.2f G elements/s (%.1f GB/s out); mean |err| %.4f%n", n, q / 1e9, 4 * q / 1e9, d / 1e9, 4 * d / 1e9, err);
        System.out.println("(for the benchmark against a memory copy: see docs/BENCHMARKS.md)");
    }

    static MultiLayerNetwork trainSpiralNet(DataSet train) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(3e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(256).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(256).nOut(256).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(256).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int epoch = 0; epoch < 300; epoch++) net.fit(train);
        return net;
    }

    static double accuracy(MultiLayerNetwork net, DataSet test) {
        Evaluation e = new Evaluation(3);
        e.eval(test.getLabels(), net.output(test.getFeatures()));
        return e.accuracy();
    }
}
