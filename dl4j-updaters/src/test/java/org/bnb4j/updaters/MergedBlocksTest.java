package org.bnb4j.updaters;

import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DL4J sizes an updater block's view as the sum of stateSize over its parameters and merges adjacent
 * parameters with equal configs into one block, which then keeps 8-bit state when the sum is large
 * enough: whatever parameters are merged, the block's state must fit the view (dl4j-internals: "Sum of
 * stateSize(n_i) >= stateSize(sum n_i)"). The case that needs care: a weight matrix of whole blocks and
 * a bias of one element (a regression head), where the bias opens one more block.
 */
class MergedBlocksTest {

    /** Every optimizer, with each view type, blocksize and min8bitSize below, percentile clipping off and on. */
    static List<BlockwiseUpdaterConfig> variants() {
        List<BlockwiseUpdaterConfig> all = new ArrayList<>();
        for (BlockwiseUpdaterConfig base : TestUpdaters.training().toList()) {
            for (DataType t : new DataType[]{DataType.FLOAT, DataType.HALF, DataType.DOUBLE}) {
                for (int bs : new int[]{64, 256, 4096}) {
                    for (int min8 : new int[]{0, 1, 2, 3, 5, 9, 17, 32, 33, 40, 64, 4096}) {
                        for (int clip : new int[]{100, 95}) {
                            BlockwiseUpdaterConfig c = base.clone();
                            c.setViewDataType(t);
                            c.setBlocksize(bs);
                            c.setMin8bitSize(min8);
                            c.setPercentileClipping(clip);
                            all.add(c);
                        }
                    }
                }
            }
        }
        return all;
    }

    /** The view elements a merged block of n parameters needs (what the updater checks). */
    static long need(BlockwiseUpdaterConfig c, long n) {
        long k = c.kind().numStates();
        if (!c.uses8bit(n)) return k * n + c.clippingWords();
        long words = c.eightBitWords(n) + c.clippingWords();
        return switch (c.getViewDataType()) {
            case HALF -> 2 * words;
            case DOUBLE -> (words + 1) / 2;
            default -> words;
        };
    }

    static String check(BlockwiseUpdaterConfig c, long... pieces) {
        long have = 0, n = 0;
        for (long p : pieces) {
            have += c.stateSize(p);
            n += p;
        }
        if (n == 0) return null; // no parameters, no updater block
        return have >= need(c, n) ? null : c + " pieces " + java.util.Arrays.toString(pieces) + ": view " + have + ", block needs " + need(c, n);
    }

    /** Every way of cutting 1..12 parameters into consecutive pieces, and whole-block matrices beside small pieces. */
    @Test
    void everyMergedBlockFitsTheSumOfItsPiecesStateSizes() {
        List<String> bad = new ArrayList<>();
        long[] big = {64, 256, 4096, 4352, 8192, 65536, 4095, 4097, 4160};
        for (BlockwiseUpdaterConfig c : variants()) {
            for (int n = 1; n <= 12; n++) {
                for (int cuts = 0; cuts < 1 << (n - 1); cuts++) {
                    List<Long> pieces = new ArrayList<>();
                    long run = 1;
                    for (int i = 1; i < n; i++) {
                        if ((cuts >> (i - 1) & 1) != 0) {
                            pieces.add(run);
                            run = 0;
                        }
                        run++;
                    }
                    pieces.add(run);
                    String e = check(c, pieces.stream().mapToLong(Long::longValue).toArray());
                    if (e != null) bad.add(e);
                }
            }
            for (long w : big) {
                for (long b = 0; b <= 12; b++) {
                    for (String e : new String[]{check(c, w, b), check(c, b, w), check(c, w, b, b), check(c, w, w, b), check(c, b, w, b)}) {
                        if (e != null) bad.add(e);
                    }
                }
            }
        }
        Random r = new Random(3);
        List<BlockwiseUpdaterConfig> vs = variants();
        for (int i = 0; i < 50_000; i++) {
            BlockwiseUpdaterConfig c = vs.get(r.nextInt(vs.size()));
            long[] pieces = new long[1 + r.nextInt(i % 2 == 0 ? 5 : 40)];
            for (int j = 0; j < pieces.length; j++) {
                pieces[j] = switch (r.nextInt(3)) {
                    case 0 -> r.nextInt(8);       // biases of a few outputs
                    case 1 -> 1 + r.nextInt(80);  // small layers, near small min8bitSize values
                    default -> r.nextInt(20_000);
                };
            }
            String e = check(c, pieces);
            if (e != null) bad.add(e);
        }
        assertEquals(List.of(), bad.subList(0, Math.min(bad.size(), 20)), bad.size() + " merged blocks do not fit");
    }

    /** Where the reservation differs from the 32-bit state: one-element parameters (FLOAT), a few more for HALF. */
    @Test
    void smallParametersReserveTheirBlockScalesAndCodes() {
        Adam8bit a = new Adam8bit();
        assertEquals(3, a.stateSize(1), "m and v of one element: two block scales and one word of codes");
        assertEquals(4, a.stateSize(2));
        assertEquals(2 * 1000, a.stateSize(1000));
        assertEquals(0, a.stateSize(0));
        Adam8bit twin = Adam8bit.builder().optimBits(32).build();
        assertEquals(2, twin.stateSize(1), "32-bit twin: never merged into 8-bit state");
        for (BlockwiseUpdaterConfig c : TestUpdaters.training().toList()) {
            long k = c.kind().numStates();
            for (long n = 2; n < 4096; n++) assertEquals(k * n, c.stateSize(n), c + " FLOAT view, n = " + n);
            BlockwiseUpdaterConfig half = c.clone();
            half.setViewDataType(DataType.HALF);
            for (long n = 6; n < 4096; n++) assertEquals(k * n, half.stateSize(n), c + " HALF view, n = " + n);
            assertTrue(half.stateSize(1) > k, c + " HALF view, n = 1");
            assertEquals(k + 1, c.stateSize(1), c.toString());
        }
    }

    static Stream<BlockwiseUpdaterConfig> all() {
        return TestUpdaters.training();
    }

    static MultiLayerNetwork regressionHead(BlockwiseUpdaterConfig u, DataType t, int nIn, int nOut) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(t).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(nIn).nOut(nOut).activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    /** Inputs of unit norm (so the spiral learning rates of TestUpdaters are stable here too), random targets. */
    static DataSet regressionData(DataType t, int nIn, int nOut) {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 32, nIn).muli(1 / Math.sqrt(nIn));
        INDArray y = Nd4j.randn(DataType.FLOAT, 32, nOut).muli(0.5);
        return new DataSet(x.castTo(t), y.castTo(t));
    }

    /** OutputLayer(4096 -> 1): W and b are one block of 4097 parameters with 8-bit state; it trains and resumes exactly. */
    @ParameterizedTest
    @MethodSource("all")
    void regressionHeadOfWholeBlocksAndABiasOfOneTrainsAndResumes(BlockwiseUpdaterConfig u) throws Exception {
        MultiLayerNetwork a = regressionHead(u, DataType.FLOAT, 4096, 1);
        assertEquals(u.stateSize(4096) + u.stateSize(1), a.getUpdater().getStateViewArray().length());
        DataSet d = regressionData(DataType.FLOAT, 4096, 1);
        a.fit(d);
        double first = a.score();
        for (int i = 0; i < 10; i++) a.fit(d);
        assertTrue(a.score() < first, u + ": loss " + first + " -> " + a.score());
        BlockwiseGradientUpdater g = (BlockwiseGradientUpdater) ((MultiLayerUpdater) a.getUpdater()).getUpdaterBlocks().get(0).getGradientUpdater();
        assertNotNull(g.packedState(4097), "one block of 4097 parameters keeps 8-bit state");
        MultiLayerNetwork b = DataTypeNetworksTest.restore(a);
        for (int i = 0; i < 3; i++) {
            a.fit(d);
            b.fit(d);
        }
        assertEquals(a.params(), b.params(), u + ": restored network continues exactly");
    }

    /** The same in HALF (viewDataType(HALF)), where up to a few elements open a block: a two-output head. */
    @ParameterizedTest
    @MethodSource("all")
    void halfHeadsOfWholeBlocksAndSmallBiasesTrain(BlockwiseUpdaterConfig u0) {
        BlockwiseUpdaterConfig u = u0.clone();
        u.setViewDataType(DataType.HALF);
        for (int nOut : new int[]{1, 2, 3}) {
            int nIn = nOut == 3 ? 2048 : 4096 / nOut; // W: 4096, 4096, 6144 parameters (whole blocks)
            MultiLayerNetwork a = regressionHead(u, DataType.HALF, nIn, nOut);
            DataSet d = regressionData(DataType.HALF, nIn, nOut);
            assertDoesNotThrow(() -> a.fit(d), u + " nOut " + nOut);
            assertTrue(Double.isFinite(a.score()), u + " nOut " + nOut);
        }
    }

    /** A short HALF view names the fix only when the config lacks it: viewDataType(HALF) set, it says the view is foreign. */
    @Test
    void shortHalfViewMessageFitsTheConfig() {
        long n = 8192;
        INDArray g = Nd4j.randn(DataType.HALF, 1, n).muli(0.01);
        Adam8bit floatSized = new Adam8bit();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> floatSized.instantiate(Nd4j.create(DataType.HALF, 1, floatSized.stateSize(n)), true).applyUpdater(g.dup(), 0, 0));
        assertTrue(e.getMessage().contains("needs viewDataType(DataType.HALF)"), e.getMessage());
        Adam8bit half = Adam8bit.builder().viewDataType(DataType.HALF).build();
        e = assertThrows(IllegalStateException.class,
                () -> half.instantiate(Nd4j.create(DataType.HALF, 1, half.stateSize(n) - 2), true).applyUpdater(g.dup(), 0, 0));
        assertTrue(e.getMessage().contains("8192 parameters need") && !e.getMessage().contains("needs viewDataType"), e.getMessage());
    }

    /** A new regression head after a frozen feature extractor: the head is a block of its own. */
    @Test
    void transferLearningRegressionHead() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(2).updater(new Sgd(0.01)).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(16).nOut(4096).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4096).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork base = new MultiLayerNetwork(conf);
        base.init();
        MultiLayerNetwork tl = new TransferLearning.Builder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam8bit(1e-4)).build())
                .setFeatureExtractor(0)
                .removeOutputLayer()
                .addLayer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4096).nOut(1).activation(Activation.IDENTITY).build())
                .build();
        Nd4j.getRandom().setSeed(4);
        DataSet d = new DataSet(Nd4j.randn(DataType.FLOAT, 32, 16), Nd4j.randn(DataType.FLOAT, 32, 1));
        tl.fit(d);
        double first = tl.score();
        for (int i = 0; i < 20; i++) tl.fit(d);
        assertTrue(tl.score() < first, "loss " + first + " -> " + tl.score());
    }
}
