package org.bnb4j.updaters;

import org.bnb4j.optim.OptimKind;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
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
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class UpdatersTest {

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

        // viewDataType round trips; a configuration written before it existed reads as FLOAT
        Adam8bit h = Adam8bit.builder().viewDataType(org.nd4j.linalg.api.buffer.DataType.HALF).build();
        assertNotEquals(new Adam8bit(), h);
        assertEquals(h, ((org.deeplearning4j.nn.conf.layers.BaseLayer) MultiLayerConfiguration.fromJson(conf(h).toJson())
                .getConf(1).getLayer()).getIUpdater());
        String json = conf(new Adam8bit()).toJson();
        String old = json.replaceAll(",\\s*\"viewDataType\"\\s*:\\s*\"FLOAT\"", "");
        assertNotEquals(json, old);
        assertEquals(new Adam8bit(), ((org.deeplearning4j.nn.conf.layers.BaseLayer) MultiLayerConfiguration.fromJson(old)
                .getConf(1).getLayer()).getIUpdater());
    }

    static Stream<BlockwiseUpdaterConfig> configs() {
        return TestUpdaters.custom();
    }

    /** TestUpdaters holds one entry per optimizer, and each entry's configs run that optimizer. */
    @Test
    void everyOptimizerHasOneEntry() {
        java.util.Set<OptimKind> seen = java.util.EnumSet.noneOf(OptimKind.class);
        for (TestUpdaters.Entry e : TestUpdaters.ALL) {
            assertTrue(seen.add(e.kind()), e.kind() + " is registered twice");
            assertEquals(e.kind(), e.trains().get().kind(), e + ": trains");
            assertEquals(e.kind(), e.custom().get().kind(), e + ": custom");
            assertEquals(e.kind(), e.withSchedule().apply(null).kind(), e + ": withSchedule");
            assertFalse(e.invalid().isEmpty(), e + ": its validation is tested");
        }
        assertEquals(java.util.EnumSet.allOf(OptimKind.class), seen, "every OptimKind needs its entry in TestUpdaters");
    }

    /** BlockwiseUpdaterConfig.forKind gives each optimizer's config class (the one its entry tests) with the learning rate asked for. */
    @Test
    void forKindGivesEachOptimizersConfig() {
        for (TestUpdaters.Entry e : TestUpdaters.ALL) {
            BlockwiseUpdaterConfig c = BlockwiseUpdaterConfig.forKind(e.kind(), 0.0125);
            assertEquals(e.kind(), c.kind(), e + ": kind");
            assertEquals(e.trains().get().getClass(), c.getClass(), e + ": config class");
            assertEquals(0.0125, c.getLearningRate(), e + ": learning rate");
            c.validate();   // its other hyper-parameters are valid defaults
            // a rate the constructor refuses comes back as the constructor's own exception, not as a broken declaration
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> BlockwiseUpdaterConfig.forKind(e.kind(), Double.POSITIVE_INFINITY));
            assertTrue(bad.getMessage().contains("learningRate"), bad.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void everyUpdaterRoundTripsThroughJson(BlockwiseUpdaterConfig u) {
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf(u).toJson());
        assertEquals(u, ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(2).getLayer()).getIUpdater());
        assertEquals(u, u.clone());
        assertNotSame(u, u.clone());
    }

    /** Each 8-bit updater trains the spiral task as well as its own 32-bit twin (same seed). */
    @Tag("trajectory")
    @ParameterizedTest
    @MethodSource("configs")
    void eightBitTrainsLikeThe32BitTwin(BlockwiseUpdaterConfig u) {
        BlockwiseUpdaterConfig u8 = u.clone(), u32 = u.clone();
        u8.setOptimBits(8);
        u8.setMin8bitSize(4096);
        u32.setOptimBits(32);
        DataSet train = spirals(500, 11), test = spirals(200, 12);
        MultiLayerNetwork a = net(u8), b = net(u32);
        for (int i = 0; i < 150; i++) {
            a.fit(train);
            b.fit(train);
        }
        Evaluation e8 = new Evaluation(3), e32 = new Evaluation(3);
        e8.eval(test.getLabels(), a.output(test.getFeatures()));
        e32.eval(test.getLabels(), b.output(test.getFeatures()));
        assertTrue(Math.abs(e8.accuracy() - e32.accuracy()) <= 0.02, u + ": accuracy 8-bit " + e8.accuracy() + " vs 32-bit " + e32.accuracy());
        assertTrue(e8.accuracy() > 0.8, u + " learns: " + e8.accuracy());
        assertTrue(a.getUpdater().getStateViewArray().length() < b.getUpdater().getStateViewArray().length());
    }

    @Tag("trajectory")
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

    static ComputationGraph graph(IUpdater global, IUpdater firstLayer) {
        ComputationGraphConfiguration c = new NeuralNetConfiguration.Builder().seed(3).updater(global).weightInit(WeightInit.XAVIER)
                .graphBuilder().addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(2).nOut(128).activation(Activation.RELU).updater(firstLayer).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(128).nOut(128).activation(Activation.RELU).build(), "a")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(128).nOut(3).activation(Activation.SOFTMAX).build(), "b")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(c);
        g.init();
        return g;
    }

    /**
     * ComputationGraph, with a per-layer override (bitsandbytes' GlobalOptimManager): layer "a" keeps
     * 32-bit Adam state while the rest is 8-bit; save/restore and clone continue bit for bit; JSON.
     */
    @Test
    void computationGraphWithPerLayerOverride() throws Exception {
        Adam8bit eight = new Adam8bit(3e-3);
        Adam8bit thirtyTwo = Adam8bit.builder().learningRate(3e-3).optimBits(32).build();
        ComputationGraph g = graph(eight, thirtyTwo);
        assertEquals(g.getConfiguration(), ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson()));
        DataSet train = spirals(300, 5);
        for (int i = 0; i < 5; i++) g.fit(train);
        long aParams = g.getLayer("a").numParams();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(g, bytes, true);
        ComputationGraph r = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), true);
        ComputationGraph c = g.clone();
        // DL4J's ComputationGraph.clone() resets the iteration count (DL4J's own Adam then diverges
        // too, through its bias correction); carry it over to compare the updater state alone.
        c.getConfiguration().setIterationCount(g.getIterationCount());
        c.getConfiguration().setEpochCount(g.getEpochCount());
        for (int i = 0; i < 5; i++) {
            g.fit(train);
            r.fit(train);
            c.fit(train);
        }
        assertEquals(g.params(), r.params(), "restored graph continues exactly");
        assertEquals(g.params(), c.params(), "cloned graph continues exactly");
        // layer a: 2 x 32-bit states; the rest: 8-bit blocks (the 128x128 matrix) plus small 32-bit ones
        long view = g.getUpdater().getStateViewArray().length();
        long rest = g.numParams() - aParams;
        assertTrue(view < 2 * aParams + 2 * rest, "8-bit part is smaller than 32-bit: " + view);
        assertTrue(view >= 2 * aParams, "32-bit override keeps full state for layer a: " + view);
        assertEquals(thirtyTwo, ((org.deeplearning4j.nn.conf.layers.BaseLayer) g.getLayer("a").conf().getLayer()).getIUpdater());
    }

    /** net.setLearningRate(lr) changes every layer alike: the blocks stay, the state stays valid. */
    @Test
    void globalSetLearningRateKeepsTheState() {
        DataSet train = spirals(200, 3);
        MultiLayerNetwork a = net(new Adam8bit(3e-3)), b = net(new Adam8bit(3e-3));
        for (int i = 0; i < 3; i++) {
            a.fit(train);
            b.fit(train);
        }
        a.setLearningRate(1e-4);
        for (int i = 0; i < 3; i++) a.fit(train);
        assertEquals(1e-4, ((Adam8bit) ((org.deeplearning4j.nn.conf.layers.BaseLayer) a.getLayer(1).conf().getLayer()).getIUpdater()).getLearningRate(), 0);
        assertTrue(Double.isFinite(a.score()));
    }

    @Test
    void stateIsAboutTwoBytesPerParameterForLargeBlocks() {
        Adam8bit a = new Adam8bit();
        long n = 10_000_000;
        assertTrue(a.stateSize(n) * 4.0 / n <= 2.04, "bytes/param " + a.stateSize(n) * 4.0 / n);
        assertEquals(2 * 1000, a.stateSize(1000), "below min8bitSize: 32-bit m and v");
        assertEquals(2 * n, Adam8bit.builder().optimBits(32).build().stateSize(n));
    }

    /** A view that does not hold this updater's state fails loudly instead of training on garbage. */
    @Test
    void foreignOrCorruptedStateViewsAreRejected() {
        Adam8bit cfg = new Adam8bit();
        long n = 10_000;
        INDArray grad = Nd4j.randn(DataType.FLOAT, 1, n).muli(0.01);
        INDArray view = Nd4j.create(DataType.FLOAT, 1, cfg.stateSize(n));
        cfg.instantiate(view, true).applyUpdater(grad.dup(), 0, 0);
        INDArray saved = view.dup();

        // the same view for a block of another length (e.g. after DL4J rebuilt its blocks)
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> cfg.instantiate(view, false).applyUpdater(Nd4j.randn(DataType.FLOAT, 1, n - 1), 1, 0));
        assertTrue(e.getMessage().contains("does not hold"), e.getMessage());
        assertEquals(saved, view, "nothing was written");
        // another blocksize
        Adam8bit other = Adam8bit.builder().blocksize(128).build();
        INDArray bigger = Nd4j.create(DataType.FLOAT, 1, other.stateSize(n));
        bigger.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, view.length())).assign(view);
        assertThrows(IllegalStateException.class, () -> other.instantiate(bigger, false).applyUpdater(grad.dup(), 1, 0));
        // garbage, and a cast state
        INDArray junk = Nd4j.rand(DataType.FLOAT, 1, view.length());
        assertThrows(IllegalStateException.class, () -> cfg.instantiate(junk, false).applyUpdater(grad.dup(), 1, 0));
        // a HALF view takes only the 32-bit twin's state (DataTypeNetworksTest); a DOUBLE cast fails the tag
        e = assertThrows(IllegalStateException.class,
                () -> cfg.instantiate(view.castTo(DataType.HALF), false).applyUpdater(grad.castTo(DataType.HALF), 1, 0));
        assertTrue(e.getMessage().contains("HALF"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> cfg.instantiate(view.castTo(DataType.DOUBLE), false).applyUpdater(grad.castTo(DataType.DOUBLE), 1, 0));
        assertTrue(e.getMessage().contains("does not hold"), e.getMessage());
        // the genuine state is accepted again
        cfg.instantiate(view, false).applyUpdater(grad.dup(), 1, 0);
    }

    /**
     * ParallelWrapper(averageUpdaters=true) averages the workers' updater state arrays with
     * Nd4j.averageAndPropagate; on packed 8-bit state that is garbage, and the next step must say so.
     * An edited block scale is caught the same way; the 32-bit twin averages like DL4J's own Adam.
     */
    @Test
    void averagedOrEditedStateIsRejected() {
        DataSet d1 = spirals(100, 1), d2 = spirals(100, 2);
        MultiLayerNetwork a = net(new Adam8bit(3e-3)), b = net(new Adam8bit(3e-3));
        for (int i = 0; i < 3; i++) {
            a.fit(d1);
            b.fit(d2);
        }
        INDArray before = a.getUpdater().getStateViewArray().dup();
        Nd4j.averageAndPropagate(new INDArray[]{a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray()});
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.fit(d1));
        assertTrue(e.getMessage().contains("changed outside the updater") && e.getMessage().contains("ParallelWrapper"), e.getMessage());
        // the message names the supported settings of both engines
        for (String hint : new String[]{"ParallelWrapper8bit", "averageUpdaters(false)", "SHARED_GRADIENTS", "optimBits(32)",
                "ParameterAveragingTrainingMaster8bit", "SharedTrainingMaster", "saveUpdater(false)", "saveUpdater(true)"}) {
            assertTrue(e.getMessage().contains(hint), hint + " missing: " + e.getMessage());
        }

        // one block scale edited by hand
        a.getUpdater().getStateViewArray().assign(before);
        a.fit(d1);
        INDArray view = a.getUpdater().getStateViewArray();
        long absmaxWord = 3; // after the tag and checksum words of the first block: its first absmax
        view.putScalar(absmaxWord, view.getFloat(absmaxWord) * 1.5f);
        assertThrows(IllegalStateException.class, () -> a.fit(d1));

        MultiLayerNetwork c = net(Adam8bit.builder().learningRate(3e-3).optimBits(32).build());
        MultiLayerNetwork d = net(Adam8bit.builder().learningRate(3e-3).optimBits(32).build());
        c.fit(d1);
        d.fit(d2);
        Nd4j.averageAndPropagate(new INDArray[]{c.getUpdater().getStateViewArray(), d.getUpdater().getStateViewArray()});
        c.fit(d1);
        assertTrue(Double.isFinite(c.score()));
    }

    /**
     * A view whose two header words are zero but whose content is not is refused, also by an updater that
     * has not stepped yet (a restored network): it was taken as a fresh state without looking further, and
     * the step read the content as packed 8-bit state (NaN parameters when DL4J's setLearningRate merged
     * 32-bit blocks whose first moments were 0). An all-zero view is a fresh state, as for DL4J's updaters.
     */
    @Test
    void aZeroHeaderOverOtherContentIsRefusedAfterARestore() throws Exception {
        DataSet d = spirals(100, 1);
        MultiLayerNetwork a = net(new Adam8bit(3e-3));
        for (int i = 0; i < 3; i++) a.fit(d);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ModelSerializer.writeModel(a, bos, true);
        MultiLayerNetwork r = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bos.toByteArray()), true);
        INDArray view = r.getUpdater().getStateViewArray();
        view.putScalar(0, 0f);
        view.putScalar(1, 0f);
        for (int i = 2; i < 40; i++) view.putScalar(i, 12345f);
        INDArray params = r.params().dup();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.fit(d));
        assertTrue(e.getMessage().contains("does not hold this updater's 8-bit state"), e.getMessage());
        assertEquals(params, r.params(), "nothing was stepped");

        r.getUpdater().getStateViewArray().assign(0);   // a reset by the user: a fresh state
        r.fit(d);
        assertTrue(Double.isFinite(r.score()));
    }

    /**
     * clone() never throws (DL4J clones the updater per layer while building a configuration): a rate set
     * out of range is reported at the first step, for every config alike (SGD8bit, RMSprop8bit and
     * Adagrad8bit threw from clone()). A clone shares the schedule, as DL4J's configs do: a RampSchedule
     * (no equals()) made clones unequal and DL4J split its updater blocks per layer.
     */
    @Test
    void cloneNeverThrowsAndSharesTheSchedule() {
        for (TestUpdaters.Entry e : TestUpdaters.ALL) {
            BlockwiseUpdaterConfig c = e.trains().get();
            c.setLearningRate(-0.01);
            BlockwiseUpdaterConfig copy = assertDoesNotThrow(c::clone, e.toString());
            assertEquals(c, copy);
            MultiLayerNetwork n = net(c);
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> n.fit(spirals(20, 1)), e.toString());
            assertTrue(ex.getMessage().contains("learningRate"), ex.getMessage());

            BlockwiseUpdaterConfig ramp = e.trains().get();
            ramp.setLrAndSchedule(Double.NaN, new org.nd4j.linalg.schedule.RampSchedule(new ExponentialSchedule(ScheduleType.ITERATION, 0.01, 0.99), 10));
            assertEquals(ramp, ramp.clone(), e + ": a clone with a RampSchedule");
            MultiLayerNetwork r = net(ramp);
            assertEquals(1, ((org.deeplearning4j.nn.updater.MultiLayerUpdater) r.getUpdater()).getUpdaterBlocks().size(), e + ": one updater block");
        }
    }

    /** Defaults are bitsandbytes' optimizers' (lr, betas/decay, eps), not DL4J's RmsProp/AdaGrad ones. */
    @Test
    void defaultsAreBitsandbytes() {
        Adam8bit adam = new Adam8bit();
        assertArrayEquals(new double[]{1e-3, 0.9, 0.999, 1e-8}, new double[]{adam.getLearningRate(), adam.getBeta1(), adam.getBeta2(), adam.getEpsilon()});
        org.bnb4j.updaters.config.RMSprop8bit rms = new org.bnb4j.updaters.config.RMSprop8bit();
        assertArrayEquals(new double[]{1e-2, 0.99, 1e-8}, new double[]{rms.getLearningRate(), rms.getRmsDecay(), rms.getEpsilon()});
        org.bnb4j.updaters.config.Adagrad8bit ada = new org.bnb4j.updaters.config.Adagrad8bit();
        assertArrayEquals(new double[]{1e-2, 1e-10}, new double[]{ada.getLearningRate(), ada.getEpsilon()});
        org.bnb4j.updaters.config.Lion8bit lion = new org.bnb4j.updaters.config.Lion8bit();
        assertArrayEquals(new double[]{1e-4, 0.9, 0.99}, new double[]{lion.getLearningRate(), lion.getBeta1(), lion.getBeta2()});
        org.bnb4j.updaters.config.AdEMAMix8bit mix = new org.bnb4j.updaters.config.AdEMAMix8bit();
        assertArrayEquals(new double[]{1e-3, 0.9, 0.999, 0.9999, 5.0, 1e-8, 0, 0},
                new double[]{mix.getLearningRate(), mix.getBeta1(), mix.getBeta2(), mix.getBeta3(), mix.getAlpha(), mix.getEpsilon(), mix.getTAlpha(), mix.getTBeta3()});
        assertEquals(0.9, new org.bnb4j.updaters.config.SGD8bit().getMomentum());
    }

    /**
     * bitsandbytes' ranges: AdEMAMix's beta1 and beta3 may be 0 without the beta3 scheduler (the slow EMA
     * is then the gradient itself); the resulting step is finite. SGD8bit's refusal of momentum 0 says what to use.
     */
    @Test
    void bitsandbytesRangesAreAccepted() {
        for (org.bnb4j.updaters.config.AdEMAMix8bit c : List.of(
                org.bnb4j.updaters.config.AdEMAMix8bit.builder().beta1(0).build(),
                org.bnb4j.updaters.config.AdEMAMix8bit.builder().beta3(0).build())) {
            org.nd4j.linalg.learning.GradientUpdater<?> u = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(5000)), true);
            INDArray g = Nd4j.rand(DataType.FLOAT, 1, 5000).subi(0.5);
            for (int it = 0; it < 3; it++) {
                INDArray step = g.dup();
                u.applyUpdater(step, it, 0);
                for (float x : step.toFloatVector()) assertTrue(Float.isFinite(x), c + ": finite update");
                assertTrue(step.amaxNumber().doubleValue() > 0, c + ": moves");
            }
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> org.bnb4j.updaters.config.SGD8bit.builder().momentum(0).build());
        assertTrue(e.getMessage().contains("Sgd"), e.getMessage());
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().blocksize(100).build());
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().optimBits(16).build());
        for (TestUpdaters.Entry e : TestUpdaters.ALL) {
            for (java.util.function.Supplier<BlockwiseUpdaterConfig> bad : e.invalid()) assertThrows(IllegalStateException.class, bad::get, e.toString());
            // about 1.02 bytes per parameter and state: a code byte, a 4-byte scale per 256 (blocksize)
            BlockwiseUpdaterConfig c = e.trains().get();
            double bytes = c.stateSize(10_000_000) * 4.0 / 10_000_000;
            assertTrue(bytes <= 1.02 * e.kind().numStates(), e + ": " + bytes + " bytes per parameter for " + e.kind().numStates() + " state(s)");
        }
    }
}
