package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.AdEMAMix8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.weightinit.impl.XavierInitScheme;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The updaters on DOUBLE and HALF networks (DL4J allocates the updater view in the network's data
 * type): both keep the packed 8-bit state in the view's bytes (HALF in the HALF-word form, sized by
 * viewDataType(HALF)); the 32-bit twin keeps its state as values of the view's type. Training, ModelSerializer save + restore + continue, clone,
 * foreign views, convertDataType, SameDiff.
 */
class DataTypeNetworksTest {

    static DataSet data(int perClass, long seed, DataType t) {
        DataSet d = UpdatersTest.spirals(perClass, seed);
        return new DataSet(d.getFeatures().castTo(t), d.getLabels().castTo(t));
    }

    static MultiLayerNetwork net(IUpdater u, DataType t, int width) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(7).dataType(t).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(width).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(width).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    static MultiLayerNetwork restore(MultiLayerNetwork a) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(a, bytes, true);
        return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true);
    }

    /** Trains, then save + restore + continue and clone + continue give the same parameters bit for bit. */
    static void trainsAndResumes(IUpdater u, DataType t, int width, int steps, int perClass) throws Exception {
        DataSet train = data(perClass, 3, t);
        MultiLayerNetwork a = net(u, t, width);
        assertEquals(t, a.params().dataType());
        a.fit(train);
        double first = a.score();
        for (int i = 0; i < steps; i++) a.fit(train);
        assertTrue(a.score() < 0.9 * first, u + " on " + t + " learns: loss " + first + " -> " + a.score());
        assertEquals(t, a.getUpdater().getStateViewArray().dataType());
        MultiLayerNetwork b = restore(a), c = a.clone();
        assertEquals(t, b.getUpdater().getStateViewArray().dataType());
        for (int i = 0; i < 5; i++) {
            a.fit(train);
            b.fit(train);
            c.fit(train);
        }
        assertEquals(a.params(), b.params(), u + " on " + t + ": restored network continues exactly");
        assertEquals(a.params(), c.params(), u + " on " + t + ": cloned network continues exactly");
        assertEquals(a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray());
    }

    static Stream<BlockwiseUpdaterConfig> eightBit() {
        return Stream.of(new Adam8bit(3e-3), new Lion8bit(3e-3));
    }

    @ParameterizedTest
    @MethodSource("eightBit")
    void doubleNetworksKeepThePacked8bitState(BlockwiseUpdaterConfig u) throws Exception {
        trainsAndResumes(u, DataType.DOUBLE, 64, 20, 100); // W1: 4096 parameters, 8-bit
    }

    /**
     * epsilon 1e-4: Adam's v below 6e-8 (about |g| < 2.4e-4) underflows to 0 in a HALF state, and an
     * epsilon of 1e-8 then gives huge updates; DL4J's own Adam on a HALF network goes to NaN the same way.
     */
    static Stream<BlockwiseUpdaterConfig> thirtyTwoBit() {
        return Stream.of(Adam8bit.builder().learningRate(3e-3).epsilon(1e-4).optimBits(32).build(),
                Lion8bit.builder().learningRate(3e-3).optimBits(32).build());
    }

    @ParameterizedTest
    @MethodSource("thirtyTwoBit")
    void halfNetworksTrainWithThe32BitTwin(BlockwiseUpdaterConfig u) throws Exception {
        trainsAndResumes(u, DataType.HALF, 32, 20, 50); // HALF matmul runs without BLAS on CPU: small
    }

    @ParameterizedTest
    @MethodSource("thirtyTwoBit")
    void doubleNetworksTrainWithThe32BitTwin(BlockwiseUpdaterConfig u) throws Exception {
        trainsAndResumes(u, DataType.DOUBLE, 32, 20, 100);
    }

    /** Every 8-bit updater (TestUpdaters) on HALF views (the network's type, told to stateSize by viewDataType). */
    static Stream<BlockwiseUpdaterConfig> eightBitHalf() {
        return TestUpdaters.training().map(u -> {
            u.setViewDataType(DataType.HALF);
            return u;
        });
    }

    /** The 8-bit state in a HALF view: learns, save + restore and clone continue bit for bit, no half NaN in the view. */
    @ParameterizedTest
    @MethodSource("eightBitHalf")
    void halfNetworksKeepThePacked8bitState(BlockwiseUpdaterConfig u) throws Exception {
        trainsAndResumes(u, DataType.HALF, 64, 30, 50); // W1: 4096 parameters, 8-bit; 30 steps: Lion at its golden rate (1e-3) is slow here
        MultiLayerNetwork a = net(u, DataType.HALF, 64);
        DataSet train = data(50, 3, DataType.HALF);
        for (int i = 0; i < 5; i++) {
            // gradients of every scale, up to a batch whose inputs are 1e4 times larger
            a.fit(new DataSet(train.getFeatures().mul(Math.pow(10, (i % 5) - 1)), train.getLabels()));
            INDArray v = a.getUpdater().getStateViewArray();
            java.nio.ByteBuffer b = org.bnb4j.internal.kernels.HostBuffers.of(v);
            for (int w = 0; w < v.length(); w++) {
                int h = b.getShort(2 * w) & 0xffff;
                assertFalse(ViewDtypeFactsTest.halfNaN(h), u + ": view half " + w + " is a NaN pattern " + Integer.toHexString(h));
            }
        }
        assertEquals(a.getUpdater().getStateViewArray(), restore(a).getUpdater().getStateViewArray(), "every bit saved");
    }

    /**
     * Without viewDataType(HALF) DL4J allocates a HALF view with as many elements as FLOAT words, half
     * the bytes the state needs: a clear refusal that says what to set. So does percentile clipping,
     * whose norm history a HALF view cannot hold.
     */
    @Test
    void halfNetworksSayWhatTheyNeed() {
        MultiLayerNetwork a = net(new Adam8bit(3e-3), DataType.HALF, 128);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.fit(data(50, 1, DataType.HALF)));
        assertTrue(e.getMessage().contains("viewDataType(DataType.HALF)") && e.getMessage().contains("stateSize"), e.getMessage());
        MultiLayerNetwork c = net(Adam8bit.builder().viewDataType(DataType.HALF).percentileClipping(5).build(), DataType.HALF, 128);
        e = assertThrows(IllegalStateException.class, () -> c.fit(data(50, 1, DataType.HALF)));
        assertTrue(e.getMessage().contains("percentileClipping") && e.getMessage().contains("HALF"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Adam8bit.builder().viewDataType(DataType.BFLOAT16).build());
        assertTrue(e.getMessage().contains("BFLOAT16"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("eightBit")
    void doubleViewsSizedForDoubles(BlockwiseUpdaterConfig u) throws Exception {
        u.setViewDataType(DataType.DOUBLE);
        trainsAndResumes(u, DataType.DOUBLE, 64, 20, 100);
    }

    /**
     * Bytes of updater state per parameter, measured from the views DL4J allocates (2-128-128-3 MLP;
     * DL4J sizes the view per parameter, so the small parameters keep 32-bit room): the DOUBLE view has
     * the same number of elements as the FLOAT one (stateSize does not know the type), so twice the bytes.
     */
    @Test
    void bytesPerParameter() {
        MultiLayerNetwork f = net(new Adam8bit(3e-3), DataType.FLOAT, 128), d = net(new Adam8bit(3e-3), DataType.DOUBLE, 128);
        f.fit(data(20, 1, DataType.FLOAT));
        d.fit(data(20, 1, DataType.DOUBLE));
        long n = f.numParams();
        long viewF = f.getUpdater().getStateViewArray().length(), viewD = d.getUpdater().getStateViewArray().length();
        assertEquals(viewF, viewD);
        double bf = 4.0 * viewF / n, bd = 8.0 * viewD / n;
        Adam8bit a = new Adam8bit();
        long big = 10_000_000;
        double bigF = 4.0 * a.stateSize(big) / big, bigD = 8.0 * a.stateSize(big) / big;
        System.out.printf("Adam8bit bytes/param: MLP %.3f FLOAT, %.3f DOUBLE view; 10M block %.3f FLOAT, %.3f DOUBLE view%n", bf, bd, bigF, bigD);
        assertEquals(2 * bf, bd, 1e-9);
        assertTrue(bigD <= 4.07, "10M block on a DOUBLE view: " + bigD);
        MultiLayerNetwork h = net(Adam8bit.builder().learningRate(3e-3).optimBits(32).build(), DataType.HALF, 128);
        h.fit(data(20, 1, DataType.HALF));
        assertEquals(4.0, 2.0 * h.getUpdater().getStateViewArray().length() / h.numParams(), 1e-9, "HALF 32-bit twin: m, v as HALF");
        // told the view's type, 8-bit state takes FLOAT's bytes on HALF and DOUBLE views (rounded up to whole doubles)
        Adam8bit half = Adam8bit.builder().learningRate(3e-3).viewDataType(DataType.HALF).build();
        Adam8bit dbl = Adam8bit.builder().learningRate(3e-3).viewDataType(DataType.DOUBLE).build();
        MultiLayerNetwork h8 = net(half, DataType.HALF, 128), d8 = net(dbl, DataType.DOUBLE, 128);
        h8.fit(data(20, 1, DataType.HALF));
        d8.fit(data(20, 1, DataType.DOUBLE));
        double bh = 2.0 * h8.getUpdater().getStateViewArray().length() / n, bd8 = 8.0 * d8.getUpdater().getStateViewArray().length() / n;
        double bigH = 2.0 * half.stateSize(big) / big, bigD8 = 8.0 * dbl.stateSize(big) / big;
        System.out.printf("Adam8bit bytes/param, viewDataType set: MLP %.3f HALF, %.3f DOUBLE; 10M block %.4f HALF, %.4f DOUBLE%n", bh, bd8, bigH, bigD8);
        // the MLP's small parameters keep 32-bit state as values of the view's type: fewer bytes in HALF
        assertTrue(bh < bf, "HALF view " + bh + " vs FLOAT " + bf);
        // and more in DOUBLE; the 8-bit blocks take FLOAT's bytes, no longer twice them
        assertTrue(bd8 < 0.7 * bd, "DOUBLE view sized for doubles " + bd8 + " vs sized in floats " + bd);
        assertEquals(bigF, bigH, 1e-9);
        assertTrue(bigD8 <= 2.04, "10M block on a DOUBLE view sized for doubles: " + bigD8);
    }

    /** ComputationGraph, DOUBLE, with a layer on the 32-bit twin: save/restore and clone continue bit for bit. */
    @Test
    void doubleComputationGraph() throws Exception {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Adam8bit(3e-3)).weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(2).nOut(64).activation(Activation.RELU)
                        .updater(Adam8bit.builder().learningRate(3e-3).optimBits(32).build()).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(64).nOut(64).activation(Activation.RELU).build(), "a")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(64).nOut(3).activation(Activation.SOFTMAX).build(), "b")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        DataSet train = data(100, 5, DataType.DOUBLE);
        g.fit(train);
        double first = g.score();
        for (int i = 0; i < 15; i++) g.fit(train);
        assertTrue(g.score() < 0.9 * first, "learns: " + first + " -> " + g.score());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(g, bytes, true);
        ComputationGraph r = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), true);
        ComputationGraph c = g.clone();
        c.getConfiguration().setIterationCount(g.getIterationCount()); // DL4J's clone() resets it (see UpdatersTest)
        c.getConfiguration().setEpochCount(g.getEpochCount());
        for (int i = 0; i < 5; i++) {
            g.fit(train);
            r.fit(train);
            c.fit(train);
        }
        assertEquals(DataType.DOUBLE, r.getUpdater().getStateViewArray().dataType());
        assertEquals(g.params(), r.params(), "restored graph continues exactly");
        assertEquals(g.params(), c.params(), "cloned graph continues exactly");
    }

    /**
     * convertDataType casts the updater state by value. The 32-bit twin's state survives that (FLOAT ->
     * HALF -> training continues from the rounded state); packed 8-bit state cannot, and the next step
     * says so instead of training on garbage: a HALF view refuses 8-bit state, a DOUBLE one fails the tag.
     */
    @Test
    void convertDataTypeOfATrainedNetwork() {
        DataSet train = data(60, 7, DataType.FLOAT);
        MultiLayerNetwork a = net(new Adam8bit(3e-3), DataType.FLOAT, 64); // W1: 4096 parameters, 8-bit
        for (int i = 0; i < 3; i++) a.fit(train);

        MultiLayerNetwork half = a.convertDataType(DataType.HALF);
        assertEquals(DataType.HALF, half.getUpdater().getStateViewArray().dataType());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> half.fit(data(60, 7, DataType.HALF)));
        assertTrue(e.getMessage().contains("HALF") && e.getMessage().contains("convertDataType"), e.getMessage());

        MultiLayerNetwork dbl = a.convertDataType(DataType.DOUBLE);
        INDArray cast = dbl.getUpdater().getStateViewArray().dup();
        e = assertThrows(IllegalStateException.class, () -> dbl.fit(data(60, 7, DataType.DOUBLE)));
        assertTrue(e.getMessage().contains("does not hold") && e.getMessage().contains("convertDataType"), e.getMessage());
        assertEquals(cast, dbl.getUpdater().getStateViewArray(), "nothing was written");

        MultiLayerNetwork b = net(Adam8bit.builder().learningRate(3e-3).epsilon(1e-4).optimBits(32).build(), DataType.FLOAT, 64);
        for (int i = 0; i < 3; i++) b.fit(train);
        MultiLayerNetwork bh = b.convertDataType(DataType.HALF);
        assertEquals(b.getUpdater().getStateViewArray().castTo(DataType.HALF), bh.getUpdater().getStateViewArray());
        DataSet trainH = data(60, 7, DataType.HALF);
        bh.fit(trainH);
        double s0 = bh.score();
        for (int i = 0; i < 6; i++) bh.fit(trainH);
        assertTrue(Double.isFinite(bh.score()) && bh.score() < s0, "continues in HALF: " + s0 + " -> " + bh.score());
    }

    /** A DOUBLE view that holds something else fails the tag check; so does a FLOAT state cast to DOUBLE. */
    @Test
    void foreignDoubleViewsAreRejected() {
        Adam8bit cfg = new Adam8bit();
        long n = 10_000;
        INDArray grad = Nd4j.randn(DataType.DOUBLE, 1, n).muli(0.01);
        INDArray view = Nd4j.create(DataType.DOUBLE, 1, cfg.stateSize(n));
        cfg.instantiate(view, true).applyUpdater(grad.dup(), 0, 0);
        cfg.instantiate(view, false).applyUpdater(grad.dup(), 1, 0); // the genuine state continues
        INDArray junk = Nd4j.rand(DataType.DOUBLE, 1, view.length());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(junk, false).applyUpdater(grad.dup(), 2, 0));
        assertTrue(e.getMessage().contains("does not hold"), e.getMessage());

        INDArray floatView = Nd4j.create(DataType.FLOAT, 1, cfg.stateSize(n));
        cfg.instantiate(floatView, true).applyUpdater(grad.castTo(DataType.FLOAT), 0, 0);
        INDArray cast = floatView.castTo(DataType.DOUBLE);
        e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(cast, false).applyUpdater(grad.dup(), 1, 0));
        assertTrue(e.getMessage().contains("does not hold"), e.getMessage());
        // averaged state (ParallelWrapper) fails the checksum, as on FLOAT views
        INDArray other = Nd4j.create(DataType.DOUBLE, 1, cfg.stateSize(n));
        cfg.instantiate(other, true).applyUpdater(grad.mul(2), 0, 0);
        Nd4j.averageAndPropagate(new INDArray[]{view, other});
        assertThrows(IllegalStateException.class, () -> cfg.instantiate(view, false).applyUpdater(grad.dup(), 2, 0));
        // an integer view is no updater state at all
        e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(Nd4j.create(DataType.INT, 1, 100), false));
        assertTrue(e.getMessage().contains("INT"), e.getMessage());
    }

    static SameDiff mlp(IUpdater u, DataType t) {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", t, -1, 2);
        SDVariable label = sd.placeHolder("label", t, -1, 3);
        SDVariable w0 = sd.var("w0", new XavierInitScheme('c', 2, 128), t, 2, 128);
        SDVariable b0 = sd.zero("b0", t, 128);
        SDVariable w1 = sd.var("w1", new XavierInitScheme('c', 128, 128), t, 128, 128);
        SDVariable w2 = sd.var("w2", new XavierInitScheme('c', 128, 3), t, 128, 3);
        SDVariable h = sd.nn().relu(in.mmul(w0).add(b0), 0);
        h = sd.nn().relu(h.mmul(w1), 0);
        sd.loss().softmaxCrossEntropy("loss", label, h.mmul(w2), null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(u).dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        return sd;
    }

    /** SameDiff with DOUBLE variables: the views are DOUBLE too; save/load with updater state resumes bit for bit. */
    @Test
    void sameDiffDoubleSaveLoadResumes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        for (IUpdater u : new IUpdater[]{new Adam8bit(3e-3), new Lion8bit(1e-3)}) {
            DataSet train = data(100, 23, DataType.DOUBLE);
            Nd4j.getRandom().setSeed(6);
            SameDiff sd = mlp(u, DataType.DOUBLE);
            for (int i = 0; i < 5; i++) sd.fit(train);
            @SuppressWarnings("unchecked") Map<String, INDArray> st = sd.getUpdaterMap().get("w1").getState();
            assertEquals(DataType.UBYTE, st.get("codes").dataType(), "w1 (16384 params) holds 8-bit state");
            File f = dir.resolve(u.getClass().getSimpleName() + ".sd").toFile();
            sd.save(f, true);
            SameDiff restored = SameDiff.load(f, true);
            for (int i = 0; i < 5; i++) {
                sd.fit(train);
                restored.fit(train);
            }
            for (String v : new String[]{"w0", "b0", "w1", "w2"}) {
                assertEquals(DataType.DOUBLE, sd.getArrForVarName(v).dataType());
                assertEquals(sd.getArrForVarName(v), restored.getArrForVarName(v), u + ": " + v + " after resume");
            }
        }
    }

    /**
     * SameDiff with HALF variables: 8-bit state needs viewDataType(HALF), as in DL4J networks, and then
     * sd.save/load resumes bit for bit (the saved codes say they are in the HALF-word form); the 32-bit
     * twin keeps HALF state and resumes bit for bit too.
     */
    @Test
    void sameDiffHalf(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        DataSet train = data(50, 29, DataType.HALF);
        SameDiff eight = mlp(new Adam8bit(3e-3), DataType.HALF);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> eight.fit(train));
        assertTrue(e.getMessage().contains("HALF") && e.getMessage().contains("viewDataType"), e.getMessage());

        for (IUpdater u : new IUpdater[]{Adam8bit.builder().learningRate(3e-3).viewDataType(DataType.HALF).build(),
                AdEMAMix8bit.builder().learningRate(2e-3).viewDataType(DataType.HALF).build()}) {
            Nd4j.getRandom().setSeed(9);
            SameDiff s8 = mlp(u, DataType.HALF);
            for (int i = 0; i < 3; i++) s8.fit(train);
            @SuppressWarnings("unchecked") Map<String, INDArray> st8 = s8.getUpdaterMap().get("w1").getState();
            assertEquals(DataType.UBYTE, st8.get("codes").dataType(), "w1 (16384 params) holds 8-bit state");
            assertEquals(2, st8.get("check").getInt(0), "codes in the HALF-word form");
            File f8 = dir.resolve(u.getClass().getSimpleName() + "-half8.sd").toFile();
            s8.save(f8, true);
            SameDiff r8 = SameDiff.load(f8, true);
            for (int i = 0; i < 3; i++) {
                s8.fit(train);
                r8.fit(train);
            }
            for (String v : new String[]{"w0", "b0", "w1", "w2"}) {
                assertEquals(DataType.HALF, r8.getArrForVarName(v).dataType());
                assertEquals(s8.getArrForVarName(v), r8.getArrForVarName(v), u + ": HALF " + v + " after resume");
            }
        }

        Nd4j.getRandom().setSeed(8);
        SameDiff sd = mlp(Lion8bit.builder().learningRate(3e-3).optimBits(32).build(), DataType.HALF);
        for (int i = 0; i < 3; i++) sd.fit(train);
        @SuppressWarnings("unchecked") Map<String, INDArray> st = sd.getUpdaterMap().get("w1").getState();
        assertEquals(DataType.HALF, st.get("state").dataType());
        File f = dir.resolve("half.sd").toFile();
        sd.save(f, true);
        SameDiff restored = SameDiff.load(f, true);
        for (int i = 0; i < 3; i++) {
            sd.fit(train);
            restored.fit(train);
        }
        for (String v : new String[]{"w0", "b0", "w1", "w2"}) {
            assertEquals(sd.getArrForVarName(v), restored.getArrForVarName(v), "HALF " + v + " after resume");
        }
    }
}
