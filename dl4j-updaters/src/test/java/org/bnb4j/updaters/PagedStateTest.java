package org.bnb4j.updaters;

import org.bnb4j.internal.nativeops.NativeLibraryLoader;
import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.AdEMAMix8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.updaters.config.PagedAdEMAMix8bit;
import org.bnb4j.updaters.config.PagedAdam8bit;
import org.bnb4j.updaters.config.PagedLion8bit;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.weightinit.impl.XavierInitScheme;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Paged state (config paged(true)) behaves exactly as in-memory state as far as DL4J and SameDiff can
 * tell: bit-identical training, save/restore, clone, a state dropped from memory and read back from
 * its file; the mapping goes with the network; a bad directory fails before the first step with the
 * network as it was. The networks' state views are over 64 MiB, which is always paged (docs/PAGED.md).
 */
class PagedStateTest {
    static final int IN = 64, HIDDEN = 6000;   // Adam8bit state of 73 MB: over 64 MiB, always paged

    @TempDir
    Path dir;

    static boolean nativeLoaded() {
        return NativeLibraryLoader.load().loaded;
    }

    BlockwiseUpdaterConfig paged(BlockwiseUpdaterConfig c) {
        BlockwiseUpdaterConfig p = c.clone();
        p.setPaged(true);
        p.setPagedDirectory(dir.toString());
        return p;
    }

    static MultiLayerNetwork net(BlockwiseUpdaterConfig u) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(11).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(IN).nOut(HIDDEN).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(HIDDEN).nOut(HIDDEN).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    static DataSet batch(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, 16, IN);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
        for (int i = 0; i < 16; i++) y.putScalar(i, i % 3, 1);
        return new DataSet(x, y);
    }

    static void fit(MultiLayerNetwork n, int from, int steps) {
        for (int i = from; i < from + steps; i++) n.fit(batch(100 + i));
    }

    static BlockwiseGradientUpdater updater(MultiLayerNetwork n) {
        Updater u = n.getUpdater();
        GradientUpdater<?> g = ((MultiLayerUpdater) u).getUpdaterBlocks().get(0).getGradientUpdater();
        return (BlockwiseGradientUpdater) g;
    }

    static long pagedMappings() throws IOException {
        return Files.readAllLines(Paths.get("/proc/self/maps")).stream().filter(l -> l.contains("/bnb4j-paged-")).count();
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 32})
    void trainsBitForBitLikeInMemoryState(int bits) throws IOException {
        assumeTrue(nativeLoaded(), "paging needs the native library");
        BlockwiseUpdaterConfig base = Adam8bit.builder().learningRate(1e-3).optimBits(bits).build();
        MultiLayerNetwork mem = net(base), pag = net(paged(base));
        long before = pagedMappings();
        fit(mem, 0, 4);
        fit(pag, 0, 4);
        assertTrue(updater(pag).pagedBytes() > 32L << 20, "paged bytes " + updater(pag).pagedBytes());
        assertEquals(0, updater(mem).pagedBytes());
        assertEquals(before + 1, pagedMappings());
        assertEquals(mem.params(), pag.params());
        assertEquals(mem.getUpdater().getStateViewArray(), pag.getUpdater().getStateViewArray());
        // the state is the file's: dropped from memory, read back, training goes on identically
        INDArray view = pag.getUpdater().getStateViewArray();
        long resident = PagedMemory.residentBytes(view);
        BlockwiseGradientUpdater g = updater(pag);
        assertTrue(pageOut(view));
        assertTrue(PagedMemory.residentBytes(view) < resident / 2,
                "resident before page-out " + resident + ", after " + PagedMemory.residentBytes(view) + " of " + g.pagedBytes() + " paged");
        fit(mem, 4, 2);
        fit(pag, 4, 2);
        assertEquals(mem.params(), pag.params());
        mem.close();
        pag.close();
        assertEquals(before, pagedMappings(), "close() unmaps the state (its file had no name: nothing is left)");
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    /**
     * Streamed steps (what paged state does when it does not fit in the memory left: a range of blocks at
     * a time, each written to the file and dropped behind the step) give the bits of whole steps, and
     * leave only a sliver of the state mapped in the process.
     */
    @ParameterizedTest
    @ValueSource(ints = {8, 32})
    void streamedStepsAreBitIdenticalAndLeaveLittleResident(int bits) throws IOException {
        assumeTrue(nativeLoaded(), "paging needs the native library");
        BlockwiseUpdaterConfig base = Adam8bit.builder().learningRate(1e-3).optimBits(bits).build();
        MultiLayerNetwork mem = net(base);
        MultiLayerNetwork pag;
        System.setProperty("bnb4j.paged.streaming", "always");
        try {
            pag = net(paged(base));
            fit(pag, 0, 1);   // the updater (and its streaming choice) is made on the first fit
        } finally {
            System.clearProperty("bnb4j.paged.streaming");
        }
        fit(mem, 0, 1);
        INDArray view = pag.getUpdater().getStateViewArray();
        long before = PagedMemory.mappedResidentBytes(view);
        fit(mem, 1, 3);
        fit(pag, 1, 3);
        assertEquals(mem.params(), pag.params());
        assertEquals(mem.getUpdater().getStateViewArray(), pag.getUpdater().getStateViewArray());
        fit(mem, 4, 1);
        fit(pag, 4, 1);
        long after = PagedMemory.mappedResidentBytes(view), paged = updater(pag).pagedBytes();
        assertEquals(mem.params(), pag.params());
        // 8-bit: the block scales (~1.6% of the state) stay; the codes are written out behind the step
        assertTrue(after >= 0, "the view is paged");
        assertTrue(after < paged / 8, "mapped resident " + after + " of " + paged + " paged bytes (before the checks: " + before + ")");
        mem.close();
        pag.close();
    }

    private static boolean pageOut(INDArray view) {
        long addr = org.bnb4j.internal.kernels.ArrayMemory.of(view).address();
        return PagedMemory.pageOut(addr, 4 * view.length());
    }

    @Test
    void saveRestoreAndCloneResumeBitForBit(@TempDir Path files) throws IOException {
        assumeTrue(nativeLoaded(), "paging needs the native library");
        MultiLayerNetwork a = net(paged(Lion8bit.builder().learningRate(1e-4).build()));
        fit(a, 0, 3);
        File f = files.resolve("paged.zip").toFile();
        ModelSerializer.writeModel(a, f, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(f, true);
        MultiLayerNetwork cloned = a.clone();
        assertEquals(a.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        fit(a, 3, 2);
        fit(restored, 3, 2);
        fit(cloned, 3, 2);
        assertTrue(updater(restored).pagedBytes() > 0, "the restored network's state is paged too");
        assertTrue(updater(cloned).pagedBytes() > 0, "the clone's state is paged too");
        assertEquals(a.params(), restored.params());
        assertEquals(a.params(), cloned.params());
        assertEquals(a.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        // and a paged checkpoint resumes in memory (and back) the same way
        BlockwiseUpdaterConfig inMemory = Lion8bit.builder().learningRate(1e-4).build();
        MultiLayerNetwork mem = net(inMemory);
        mem.setParams(restored.params().dup());
        mem.getUpdater().setStateViewArray(mem, restored.getUpdater().getStateViewArray().dup(), false);
        fit(mem, 5, 1);
        fit(restored, 5, 1);
        assertEquals(restored.params(), mem.params());
    }

    /**
     * install(): DL4J's updater on a view that is paged memory from the start. Nothing of it is resident
     * until a step uses it, training is bit-identical, a state already there is kept, and a
     * ComputationGraph gets the same.
     */
    @Test
    void installPagesTheWholeViewFromTheStart() throws IOException {
        assumeTrue(nativeLoaded(), "paging needs the native library");
        BlockwiseUpdaterConfig base = Adam8bit.builder().learningRate(1e-3).build();
        MultiLayerNetwork mem = net(base), pag = net(paged(base));
        long bytes = PagedUpdaterState.install(pag);
        INDArray view = pag.getUpdater().getStateViewArray();
        assertEquals(bytes, 4 * view.length());
        assertEquals(4 * mem.getUpdater().getStateViewArray().length(), bytes, "DL4J's own sizing");
        assertTrue(PagedMemory.residentBytes(view) < bytes / 100, "resident before the first step: " + PagedMemory.residentBytes(view));
        fit(mem, 0, 3);
        fit(pag, 0, 3);
        assertEquals(mem.params(), pag.params());
        assertEquals(mem.getUpdater().getStateViewArray(), pag.getUpdater().getStateViewArray());
        // installing again (a trained network) keeps the state
        PagedUpdaterState.install(pag);
        assertNotSame(view, pag.getUpdater().getStateViewArray());
        fit(mem, 3, 2);
        fit(pag, 3, 2);
        assertEquals(mem.params(), pag.params());
        // a network without paged updaters is refused
        MultiLayerNetwork plain = net(base);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PagedUpdaterState.install(plain));
        assertTrue(e.getMessage().contains("paged(true)"), e.getMessage());

        ComputationGraph g = mem.toComputationGraph(), gp = net(paged(base)).toComputationGraph();
        gp.setParams(g.params().dup());
        gp.getUpdater().setStateViewArray(g.getUpdater().getStateViewArray().dup());
        PagedUpdaterState.install(gp);
        for (int i = 5; i < 7; i++) {
            g.fit(batch(100 + i));
            gp.fit(batch(100 + i));
        }
        assertEquals(g.params(), gp.params());
        mem.close();
        pag.close();
    }

    /** A first step with paged state in pagedDir: refused, and the parameters are as they were. */
    private IllegalStateException refusedAtTheFirstStep(Path pagedDir) {
        MultiLayerNetwork n = net(Adam8bit.builder().paged(true).pagedDirectory(pagedDir.toString()).build());
        INDArray params = n.params().dup();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> n.fit(batch(1)));
        assertEquals(params, n.params());
        return e;
    }

    @Test
    void badDirectoryFailsBeforeTheFirstStepAndLosesNothing() {
        IllegalStateException e = refusedAtTheFirstStep(dir.resolve("missing"));
        if (nativeLoaded()) {
            assertTrue(e.getMessage().contains(dir.resolve("missing").toString()) && e.getMessage().contains("does not exist"), e.getMessage());
        } else {
            assertTrue(e.getMessage().contains("native library"), e.getMessage());
        }
    }

    /**
     * A directory whose name has characters outside the Basic Multilingual Plane is refused with a message
     * (JNI's modified UTF-8 handed open() another name: "cannot create ... No such file or directory").
     */
    @Test
    void aDirectoryNameTheNativeLibraryCannotPassIsRefusedWithAMessage() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(nativeLoaded());
        Path odd = Files.createDirectory(dir.resolve("st\uD83D\uDE00te"));
        IllegalStateException e = refusedAtTheFirstStep(odd);
        assertTrue(e.getMessage().contains("Basic Multilingual Plane"), e.getMessage());
    }

    /**
     * A state file name left by a crash of an earlier process with this PID (containers run the JVM as
     * PID 1 every time) is skipped, not an error on every later run.
     */
    @Test
    void fileNamesLeftWithThisProcessIdAreSkipped() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(nativeLoaded());
        Path d = Files.createDirectory(dir.resolve("stale"));
        long pid = ProcessHandle.current().pid();
        for (int i = 0; i < 3000; i++) Files.createFile(d.resolve("bnb4j-paged-" + pid + "-" + i));
        MultiLayerNetwork mem = net(new Adam8bit(1e-3)), pag = net(Adam8bit.builder().learningRate(1e-3).paged(true).pagedDirectory(d.toString()).build());
        fit(mem, 0, 3);
        fit(pag, 0, 3);
        assertEquals(mem.params(), pag.params());
        assertTrue(updater(pag).pagedBytes() > 0);
        pag.close();
    }

    /**
     * A view that arrives with state is mapped at its first step; when that fails (here the directory is
     * gone by then; a full disk or a file-size limit alike) the state stays in memory with a warning and the
     * step runs whole: the failure used to come after DL4J had stepped the blocks before this one.
     */
    @Test
    void aViewWithStateThatCannotBePagedStaysInMemory() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(nativeLoaded());
        Path gone = Files.createDirectory(dir.resolve("gone"));
        MultiLayerNetwork mem = net(new Adam8bit(1e-3));
        MultiLayerNetwork pag = net(Adam8bit.builder().learningRate(1e-3).paged(true).pagedDirectory(gone.toString()).build());
        fit(mem, 0, 3);
        pag.setParams(mem.params().dup());
        pag.getLayerWiseConfigurations().setIterationCount(mem.getLayerWiseConfigurations().getIterationCount());
        pag.setUpdater(new MultiLayerUpdater(pag, mem.getUpdater().getStateViewArray().dup()));
        Files.delete(gone);
        fit(mem, 3, 2);
        fit(pag, 3, 2);
        assertEquals(mem.params(), pag.params());
        assertEquals(0, updater(pag).pagedBytes(), "the state stayed in memory");
    }

    /** bitsandbytes' names: PagedAdam8bit, PagedLion8bit, PagedAdEMAMix8bit are their optimizer with paged on. */
    @Test
    void pagedConfigClassesAreTheirOptimizerWithPagingOn() {
        List<BlockwiseUpdaterConfig> configs = List.of(new PagedAdam8bit(2e-3), PagedLion8bit.builder().learningRate(1e-4).beta1(0.95).build(),
                PagedAdEMAMix8bit.builder().learningRate(1e-3).alpha(4).pagedDirectory("/var/tmp").build(), new PagedAdam8bit());
        for (BlockwiseUpdaterConfig c : configs) {
            assertTrue(c.isPaged(), c.toString());
            BlockwiseUpdaterConfig copy = c.clone();
            assertEquals(c.getClass(), copy.getClass());
            assertEquals(c, copy);
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().updater(c).list()
                    .layer(new OutputLayer.Builder().nIn(4).nOut(2).build()).build();
            IUpdater back = ((org.deeplearning4j.nn.conf.layers.BaseLayer) MultiLayerConfiguration.fromJson(conf.toJson()).getConf(0).getLayer()).getIUpdater();
            assertEquals(c.getClass(), back.getClass());
            assertEquals(c, back);
        }
        assertEquals(PagedLion8bit.class, configs.get(1).getClass());
        assertEquals(0.95, ((Lion8bit) configs.get(1)).getBeta1());
        assertEquals("/var/tmp", configs.get(2).getPagedDirectory());
        assertEquals(4.0, ((AdEMAMix8bit) configs.get(2)).getAlpha());
        // the same values with paging off are another configuration
        Adam8bit plain = new Adam8bit(2e-3);
        assertNotEquals(plain, configs.get(0));
        assertNotEquals(configs.get(0), plain);
        if (nativeLoaded()) {
            // and it trains exactly as its optimizer with paged(true)
            MultiLayerNetwork a = net(new PagedAdam8bit(1e-3)), b = net(Adam8bit.builder().learningRate(1e-3).paged(true).build());
            fit(a, 0, 2);
            fit(b, 0, 2);
            assertEquals(a.params(), b.params());
            assertTrue(updater(a).pagedBytes() > 0);
            a.close();
            b.close();
        }
    }

    @Test
    void jsonRoundTripKeepsThePagedSettings() {
        Adam8bit c = Adam8bit.builder().learningRate(2e-3).paged(true).pagedDirectory("/var/tmp/state").build();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().updater(c).list()
                .layer(new OutputLayer.Builder().nIn(4).nOut(2).build()).build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        Adam8bit u = (Adam8bit) ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(0).getLayer()).getIUpdater();
        assertTrue(u.isPaged());
        assertEquals("/var/tmp/state", u.getPagedDirectory());
        assertFalse(new Adam8bit().isPaged(), "off by default");
        assertThrows(IllegalStateException.class, () -> Adam8bit.builder().pagedDirectory(" ").build());
    }

    static SameDiff graph(BlockwiseUpdaterConfig u) {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, IN);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 3);
        SDVariable w0 = sd.var("w0", new XavierInitScheme('c', IN, HIDDEN), DataType.FLOAT, IN, HIDDEN);
        SDVariable w1 = sd.var("w1", new XavierInitScheme('c', HIDDEN, HIDDEN), DataType.FLOAT, HIDDEN, HIDDEN);
        SDVariable w2 = sd.var("w2", new XavierInitScheme('c', HIDDEN, 3), DataType.FLOAT, HIDDEN, 3);
        SDVariable h = sd.nn().relu(in.mmul(w0), 0);
        h = sd.nn().relu(h.mmul(w1), 0);
        sd.loss().softmaxCrossEntropy("loss", label, h.mmul(w2), null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(u).dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        return sd;
    }

    @Test
    void sameDiffTrainsSavesAndLoadsPagedStateBitForBit(@TempDir Path files) throws IOException {
        assumeTrue(nativeLoaded(), "paging needs the native library");
        BlockwiseUpdaterConfig base = Adam8bit.builder().learningRate(1e-3).build();
        Nd4j.getRandom().setSeed(3);
        SameDiff mem = graph(base);
        Nd4j.getRandom().setSeed(3);
        SameDiff pag = graph(paged(base));
        long before = pagedMappings();
        for (int i = 0; i < 3; i++) {
            mem.fit(batch(200 + i));
            pag.fit(batch(200 + i));
        }
        assertTrue(pagedMappings() > before, "w1's state (73 MB) is paged");
        assertEquals(mem.getArrForVarName("w1"), pag.getArrForVarName("w1"));
        File f = files.resolve("paged.sd").toFile();
        pag.save(f, true);
        SameDiff loaded = SameDiff.load(f, true);
        for (int i = 3; i < 5; i++) {
            mem.fit(batch(200 + i));
            pag.fit(batch(200 + i));
            loaded.fit(batch(200 + i));
        }
        assertEquals(mem.getArrForVarName("w1"), pag.getArrForVarName("w1"));
        assertEquals(mem.getArrForVarName("w1"), loaded.getArrForVarName("w1"));
        assertEquals(mem.getArrForVarName("w0"), loaded.getArrForVarName("w0"));
    }

    /** install() on a network or graph that has not been initialised says so instead of failing inside DL4J. */
    @Test
    void installBeforeInitIsRefusedWithAMessage() {
        BlockwiseUpdaterConfig u = paged(new Adam8bit(1e-3));
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(11).updater(u).list()
                .layer(new DenseLayer.Builder().nIn(IN).nOut(HIDDEN).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PagedUpdaterState.install(new MultiLayerNetwork(c)));
        assertTrue(e.getMessage().contains("call init() first"), e.getMessage());
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().updater(u).graphBuilder().addInputs("in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(IN).nOut(3).activation(Activation.SOFTMAX).build(), "in")
                .setOutputs("out").build());
        e = assertThrows(IllegalStateException.class, () -> PagedUpdaterState.install(g));
        assertTrue(e.getMessage().contains("call init() first"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PagedUpdaterState.install((MultiLayerNetwork) null));
    }
}
