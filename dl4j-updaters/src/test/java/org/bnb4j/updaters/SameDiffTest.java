package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.weightinit.impl.XavierInitScheme;

import java.io.File;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The same updater classes train SameDiff graphs, and sd.save/load with updater state resumes exactly. */
class SameDiffTest {

    static SameDiff mlp(IUpdater u) {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 2);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 3);
        SDVariable w0 = sd.var("w0", new XavierInitScheme('c', 2, 128), DataType.FLOAT, 2, 128);
        SDVariable b0 = sd.zero("b0", DataType.FLOAT, 128);
        SDVariable w1 = sd.var("w1", new XavierInitScheme('c', 128, 128), DataType.FLOAT, 128, 128);
        SDVariable b1 = sd.zero("b1", DataType.FLOAT, 128);
        SDVariable w2 = sd.var("w2", new XavierInitScheme('c', 128, 3), DataType.FLOAT, 128, 3);
        SDVariable h = sd.nn().relu(in.mmul(w0).add(b0), 0);
        h = sd.nn().relu(h.mmul(w1).add(b1), 0);
        SDVariable logits = h.mmul(w2);
        sd.loss().softmaxCrossEntropy("loss", label, logits, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(u).dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        return sd;
    }

    static double loss(SameDiff sd, DataSet d) {
        Map<String, INDArray> out = sd.output(Map.of("in", d.getFeatures(), "label", d.getLabels()), "loss");
        return out.get("loss").getDouble(0);
    }

    @Test
    void adam8bitTrainsLikeAdam() {
        DataSet train = UpdatersTest.spirals(400, 21), test = UpdatersTest.spirals(200, 22);
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(5);
        SameDiff a = mlp(new Adam(1e-2));
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(5);
        SameDiff b = mlp(new Adam8bit(1e-2));
        assertEquals(a.getArrForVarName("w1"), b.getArrForVarName("w1"), "same initialisation");
        for (int i = 0; i < 200; i++) {
            a.fit(train);
            b.fit(train);
        }
        double la = loss(a, test), lb = loss(b, test);
        assertTrue(la < 0.9, "Adam learns (chance level is ln 3 = 1.10): " + la);
        assertTrue(Math.abs(la - lb) <= 0.02 * la + 0.01, "loss Adam " + la + " vs Adam8bit " + lb);
        // w1 (16384 params) holds 8-bit state: real UINT8 codes and FLOAT absmax arrays
        @SuppressWarnings("unchecked") Map<String, INDArray> st = b.getUpdaterMap().get("w1").getState();
        INDArray codes = st.get("codes"), absmax = st.get("absmax");
        assertEquals(DataType.UBYTE, codes.dataType());
        assertArrayEquals(new long[]{2, 16384}, codes.shape());
        assertEquals(DataType.FLOAT, absmax.dataType());
        double bytes = codes.length() + 4.0 * absmax.length();
        assertTrue(bytes / 16384 <= 2.04, "w1 state bytes/param from getState(): " + bytes / 16384);
        // the small w2 (384 params) keeps 32-bit state
        assertEquals(DataType.FLOAT, ((INDArray) b.getUpdaterMap().get("w2").getState().get("state")).dataType());
    }

    @Test
    void foreignOrIncompleteStateMapsAreRejected() {
        Map<String, INDArray> good = Map.of("codes", org.nd4j.linalg.factory.Nd4j.create(DataType.UBYTE, 2, 5000),
                "absmax", org.nd4j.linalg.factory.Nd4j.create(DataType.FLOAT, 2, 20));
        new Adam8bit().instantiate(good, false); // accepted
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Adam8bit().instantiate(Map.of("codes", good.get("codes")), false));
        assertTrue(e.getMessage().contains("expected state arrays"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> new Lion8bit().instantiate(good, false));
        assertTrue(e.getMessage().contains("another optimizer"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Adam8bit.builder().blocksize(128).build().instantiate(good, false));
        assertTrue(e.getMessage().contains("blocksize"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> new Adam8bit().instantiate(
                Map.of("codes", good.get("codes").castTo(DataType.FLOAT), "absmax", good.get("absmax")), false));
        assertTrue(e.getMessage().contains("UINT8"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> new Adam8bit().instantiate(Map.of("m", good.get("absmax")), false));
        assertTrue(e.getMessage().contains("[m]"), e.getMessage());
    }

    @Test
    void saveLoadResumesBitForBit(@TempDir Path dir) throws Exception {
        for (IUpdater u : new IUpdater[]{new Adam8bit(3e-3), new Lion8bit(1e-3)}) {
            DataSet train = UpdatersTest.spirals(200, 23);
            org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(6);
            SameDiff sd = mlp(u);
            for (int i = 0; i < 5; i++) sd.fit(train);
            File f = dir.resolve(u.getClass().getSimpleName() + ".sd").toFile();
            sd.save(f, true);
            SameDiff restored = SameDiff.load(f, true);
            for (int i = 0; i < 5; i++) {
                sd.fit(train);
                restored.fit(train);
            }
            for (String v : new String[]{"w0", "b0", "w1", "b1", "w2"}) {
                assertEquals(sd.getArrForVarName(v), restored.getArrForVarName(v), u + ": " + v + " after resume");
            }
        }
    }

    /** One weight vector w of n elements; loss = mean(w^2) * mean(in * label). */
    private static SameDiff vectorGraph(IUpdater u, long n) {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 4);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 4);
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(5);
        SDVariable w = sd.var("w", org.nd4j.linalg.factory.Nd4j.rand(DataType.FLOAT, n).subi(0.5));
        sd.math().square(w).mean().mul(in.mul(label).mean()).rename("loss");
        sd.setLossVariables("loss");
        sd.setTrainingConfig(TrainingConfig.builder().updater(u).dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        return sd;
    }

    private static DataSet ones(int rows) {
        return new DataSet(org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, rows, 4), org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, rows, 4));
    }

    /**
     * A variable resized after training started is refused at its next step (DL4J's Adam refuses it too):
     * the state was laid out for the old length, and was read misaligned (32-bit) or as floats (8-bit state
     * of a variable that fell below min8bitSize), giving NaN parameters.
     */
    @Test
    void aVariableResizedMidTrainingIsRefused() {
        DataSet d = ones(8);
        for (long[] sizes : new long[][]{{63, 60}, {100_000, 99_999}, {100_000, 4000}, {5000, 4097}}) {
            for (IUpdater u : new IUpdater[]{new Adam8bit(1e-2), Adam8bit.builder().learningRate(1e-2).optimBits(32).build(),
                    new org.bnb4j.updaters.config.RMSprop8bit(1e-2)}) {
                SameDiff sd = vectorGraph(u, sizes[0]);
                for (int i = 0; i < 2; i++) sd.fit(d);
                sd.getVariable("w").setArray(org.nd4j.linalg.factory.Nd4j.rand(DataType.FLOAT, sizes[1]).subi(0.5));
                INDArray before = sd.getArrForVarName("w").dup();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.fit(d), u + " " + sizes[0] + " -> " + sizes[1]);
                assertTrue(e.getMessage().contains("resized") || e.getMessage().contains("another size"), e.getMessage());
                assertEquals(before, sd.getArrForVarName("w"), "nothing was stepped");
            }
        }
    }

    /** A 32-bit state map of another optimizer (another number of states) is refused at the first step. */
    @Test
    void anotherOptimizersSmallStateIsRefused() {
        SameDiff adam = vectorGraph(new Adam8bit(1e-2), 63);
        adam.fit(ones(8));
        Map<String, INDArray> state = adam.getUpdaterMap().get("w").getState();
        org.nd4j.linalg.learning.GradientUpdater<?> rms = new org.bnb4j.updaters.config.RMSprop8bit(1e-2).instantiate(state, false);
        INDArray g = org.nd4j.linalg.factory.Nd4j.rand(DataType.FLOAT, 1, 63);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> rms.applyUpdater(g, 1, 0));
        assertTrue(e.getMessage().contains("another optimizer"), e.getMessage());
        // its own state map is accepted
        org.nd4j.linalg.learning.GradientUpdater<?> again = new Adam8bit(1e-2).instantiate(state, false);
        again.applyUpdater(g, 1, 0);
        for (float x : g.toFloatVector()) assertTrue(Float.isFinite(x));
    }
}
