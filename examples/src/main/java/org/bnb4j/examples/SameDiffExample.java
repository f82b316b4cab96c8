package org.bnb4j.examples;

import org.bnb4j.quant.QuantMap;
import org.bnb4j.samediff.SDBlockwise;
import org.bnb4j.updaters.config.Adam8bit;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.weightinit.impl.XavierInitScheme;

import java.io.File;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Map;

/**
 * SameDiff with bnb4j: trains an MLP with Adam8bit, saves it with its updater state, loads it and
 * continues, then adds an 8-bit quantize/dequantize of a trained weight to the graph.
 *
 * <pre>mvn -B -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.SameDiffExample</pre>
 */
public final class SameDiffExample {
    public static void main(String[] args) throws Exception {
        DataSet train = SpiralData.generate(3, 500, 0.2, 1);
        Nd4j.getRandom().setSeed(7);
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 2);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 3);
        SDVariable w0 = sd.var("w0", new XavierInitScheme('c', 2, 128), DataType.FLOAT, 2, 128);
        SDVariable w1 = sd.var("w1", new XavierInitScheme('c', 128, 128), DataType.FLOAT, 128, 128);
        SDVariable w2 = sd.var("w2", new XavierInitScheme('c', 128, 3), DataType.FLOAT, 128, 3);
        SDVariable h = sd.nn().relu(sd.nn().relu(in.mmul(w0), 0).mmul(w1), 0);
        sd.loss().softmaxCrossEntropy("loss", label, h.mmul(w2), null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam8bit(1e-2))
                .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());

        for (int i = 0; i < 100; i++) sd.fit(train);
        System.out.printf(Locale.ROOT, "after 100 steps: loss %.4f%n", loss(sd, train));
        // getState() of 8-bit state: "codes" (UINT8), "absmax" and "check" (32-bit state: one FLOAT "state")
        @SuppressWarnings("unchecked")
        Map<String, INDArray> state = sd.getUpdaterMap().get("w1").getState();
        long bytes = 0;
        for (INDArray a : state.values()) bytes += a.length() * a.dataType().width();
        System.out.printf(Locale.ROOT, "w1: %d parameters, Adam8bit state %s: %d bytes (%.2f bytes/param)%n", 128 * 128,
                new java.util.TreeSet<>(state.keySet()), bytes, bytes / (128.0 * 128));

        File f = Files.createTempFile("bnb4j-samediff", ".sd").toFile();
        f.deleteOnExit();
        sd.save(f, true);
        SameDiff loaded = SameDiff.load(f, true);
        for (int i = 0; i < 50; i++) loaded.fit(train);
        System.out.printf(Locale.ROOT, "saved, loaded with updater state, 50 more steps: loss %.4f%n", loss(loaded, train));

        SDVariable[] q = SDBlockwise.quantize(loaded, "w1q", loaded.getVariable("w1"), new long[]{128, 128}, QuantMap.dynamic(), 256);
        SDBlockwise.dequantize(loaded, "w1_8bit", q[0], q[1], QuantMap.dynamic(), 256, new long[]{128, 128}, DataType.FLOAT);
        INDArray w = loaded.getArrForVarName("w1");
        INDArray back = loaded.output(Map.of("in", train.getFeatures(), "label", train.getLabels()), "w1_8bit").get("w1_8bit");
        System.out.printf(Locale.ROOT, "w1 through the in-graph 8-bit quantize/dequantize: mean |error| %.2e%n",
                Nd4j.math().abs(w.sub(back)).meanNumber().doubleValue());
        f.delete();
    }

    static double loss(SameDiff sd, DataSet d) {
        return sd.output(Map.of("in", d.getFeatures(), "label", d.getLabels()), "loss").get("loss").getDouble(0);
    }
}
