package org.bnb4j.updaters;

import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Checkpoints saved by this version with each 8-bit updater (a MultiLayerNetwork through
 * ModelSerializer and a SameDiff graph through sd.save, both with updater state) are committed under
 * src/test/resources/golden/v1, with the parameters two further steps gave when they were written.
 * Every later version must load them, accept their 8-bit state (tag, checksum, check words) and
 * continue from it: the continued parameters match the recorded ones (to 1e-5 relative: ND4J's
 * matrix products may round differently on another CPU), and differ clearly from continuing with a
 * fresh state, so the saved moments are what is used.
 *
 * <p>To write them (for a new optimizer: its own files; for a new format version: all, in a new
 * directory) run this class with {@code -Dbnb4j.writeGolden=<module>/src/test/resources/golden/v1}:
 * it writes the files of the updaters that have none and leaves the others alone.
 */
class GoldenCheckpointsTest {
    private static final String DIR = "/golden/v1/";
    private static final int SAVED_AFTER = 5, CONTINUED = 2;

    /** Every registered optimizer (TestUpdaters), each with its golden files. */
    static List<BlockwiseUpdaterConfig> updaters() {
        return TestUpdaters.training().toList();
    }

    static String name(BlockwiseUpdaterConfig u) {
        return u.getClass().getSimpleName();
    }

    static DataSet data() {
        return UpdatersTest.spirals(100, 5);
    }

    static MultiLayerNetwork freshNet(BlockwiseUpdaterConfig u) {
        return DataTypeNetworksTest.net(u, DataType.FLOAT, 64); // W1: 4096 parameters, 8-bit state
    }

    static SameDiff freshGraph(BlockwiseUpdaterConfig u) {
        Nd4j.getRandom().setSeed(11);
        return SameDiffTest.mlp(u); // w1: 16384 parameters, 8-bit state
    }

    @Test
    @EnabledIfSystemProperty(named = "bnb4j.writeGolden", matches = ".+")
    void write() throws IOException {
        Path dir = Path.of(System.getProperty("bnb4j.writeGolden"));
        Files.createDirectories(dir);
        DataSet d = data();
        for (BlockwiseUpdaterConfig u : updaters()) {
            if (Files.exists(dir.resolve(name(u) + ".mln.zip"))) continue; // written once, never again (a new optimizer adds its own)
            MultiLayerNetwork net = freshNet(u);
            for (int i = 0; i < SAVED_AFTER; i++) net.fit(d);
            ModelSerializer.writeModel(net, dir.resolve(name(u) + ".mln.zip").toFile(), true);
            for (int i = 0; i < CONTINUED; i++) net.fit(d);
            writeArray(net.params(), dir.resolve(name(u) + ".mln.expected"));

            SameDiff sd = freshGraph(u);
            for (int i = 0; i < SAVED_AFTER; i++) sd.fit(d);
            sd.save(dir.resolve(name(u) + ".sd").toFile(), true);
            for (int i = 0; i < CONTINUED; i++) sd.fit(d);
            writeArray(sd.getArrForVarName("w1"), dir.resolve(name(u) + ".sd.expected"));
        }
    }

    @ParameterizedTest
    @MethodSource("updaters")
    void networkCheckpointLoadsAndResumes(BlockwiseUpdaterConfig u) throws IOException {
        MultiLayerNetwork net;
        try (InputStream in = resource(name(u) + ".mln.zip")) {
            net = ModelSerializer.restoreMultiLayerNetwork(in, true);
        }
        assertEquals(u.getClass(), net.getLayer(1).conf().getLayer().getUpdaterByParam("W").getClass(), "the config's JSON parses");
        INDArray start = net.params().dup();
        DataSet d = data();
        for (int i = 0; i < CONTINUED; i++) net.fit(d);
        INDArray expected = readArray(name(u) + ".mln.expected");

        MultiLayerNetwork fresh = freshNet(u);
        fresh.setParams(start);
        for (int i = 0; i < CONTINUED; i++) fresh.fit(d);
        assertResumes(expected, net.params(), fresh.params(), name(u) + " network");
    }

    @ParameterizedTest
    @MethodSource("updaters")
    void sameDiffCheckpointLoadsAndResumes(BlockwiseUpdaterConfig u) throws IOException {
        Path tmp = Files.createTempFile("golden", ".sd");
        try {
            try (InputStream in = resource(name(u) + ".sd")) {
                Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            SameDiff sd = SameDiff.load(tmp.toFile(), true);
            @SuppressWarnings("unchecked") Map<String, INDArray> st = sd.getUpdaterMap().get("w1").getState();
            assertEquals(DataType.UBYTE, st.get("codes").dataType(), "w1 keeps its 8-bit state");
            Map<String, INDArray> start = new java.util.HashMap<>();
            for (String v : new String[]{"w0", "b0", "w1", "b1", "w2"}) start.put(v, sd.getArrForVarName(v).dup());
            DataSet d = data();
            for (int i = 0; i < CONTINUED; i++) sd.fit(d);

            SameDiff fresh = freshGraph(u);
            start.forEach((v, a) -> fresh.getArrForVarName(v).assign(a));
            for (int i = 0; i < CONTINUED; i++) fresh.fit(d);
            assertResumes(readArray(name(u) + ".sd.expected"), sd.getArrForVarName("w1"), fresh.getArrForVarName("w1"), name(u) + " SameDiff w1");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** got matches expected to 1e-5 relative, and a fresh state's result is at least 100x further away. */
    static void assertResumes(INDArray expected, INDArray got, INDArray freshState, String what) {
        INDArray e = expected.reshape(expected.length()), g = got.reshape(got.length()), f = freshState.reshape(freshState.length());
        double scale = Transforms.abs(e).maxNumber().doubleValue();
        double off = Transforms.abs(g.sub(e)).maxNumber().doubleValue() / scale;
        double freshOff = Transforms.abs(f.sub(e)).maxNumber().doubleValue() / scale;
        assertTrue(off <= 1e-5, what + ": resumed parameters differ from the recorded ones by " + off + " (relative)");
        assertTrue(freshOff > 100 * Math.max(off, 1e-7), what + ": a fresh state gives " + freshOff + " vs " + off
                + ": the saved state was not what the steps used");
    }

    private static InputStream resource(String file) {
        InputStream in = GoldenCheckpointsTest.class.getResourceAsStream(DIR + file);
        assertNotNull(in, "golden file " + DIR + file);
        return in;
    }

    private static void writeArray(INDArray a, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            Nd4j.write(a, out);
        }
    }

    private static INDArray readArray(String file) throws IOException {
        try (DataInputStream in = new DataInputStream(resource(file))) {
            return Nd4j.read(in);
        }
    }
}
