package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SameDiff saves what getState() returns; a state edited in the saved file, or handed to
 * instantiate(Map) with impossible scales, must be refused on load with a clear message.
 */
class TamperedStateTest {

    @SuppressWarnings("unchecked")
    private static Map<String, INDArray> state(SameDiff sd, String var) {
        return sd.getUpdaterMap().get(var).getState();
    }

    private static SameDiff trained(IUpdater u, int steps) {
        DataSet train = UpdatersTest.spirals(200, 31);
        Nd4j.getRandom().setSeed(9);
        SameDiff sd = SameDiffTest.mlp(u);
        for (int i = 0; i < steps; i++) sd.fit(train);
        return sd;
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> m) {
        Map<String, INDArray> c = new HashMap<>();
        m.forEach((k, v) -> c.put(k, v.dup()));
        return c;
    }

    @Test
    void stateCarriesCheckWordsAndReloadsThem() {
        SameDiff sd = trained(new Adam8bit(3e-3), 3);
        Map<String, INDArray> st = state(sd, "w1");
        assertEquals(Set.of("codes", "absmax", "check"), st.keySet());
        assertEquals(DataType.INT32, st.get("check").dataType());
        // instantiate(Map) gives a state whose getState() is the same 8-bit state again (not the raw view)
        GradientUpdater<?> u = new Adam8bit(3e-3).instantiate(copy(st), false);
        @SuppressWarnings("unchecked") Map<String, INDArray> again = u.getState();
        assertEquals(st.keySet(), again.keySet());
        for (String k : st.keySet()) assertEquals(st.get(k), again.get(k), k);
    }

    @Test
    void editedScalesCodesOrChecksAreRejected() {
        Map<String, INDArray> good = copy(state(trained(new Adam8bit(3e-3), 3), "w1"));
        new Adam8bit(3e-3).instantiate(copy(good), false); // intact: accepted

        int cases = 0;
        // a scale changed by one ulp, scaled, zeroed, NaN, +Inf, negative
        float a0 = good.get("absmax").getFloat(0);
        for (float bad : new float[]{Math.nextUp(a0), a0 * 2, 0f, Float.NaN, Float.POSITIVE_INFINITY, -a0}) {
            Map<String, INDArray> m = copy(good);
            m.get("absmax").putScalar(0, bad);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Adam8bit(3e-3).instantiate(m, false),
                    "absmax[0] = " + bad);
            assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
            cases++;
        }
        // one code byte changed, in state 1 and in state 2
        for (long[] at : new long[][]{{0, 5}, {1, 16000}}) {
            Map<String, INDArray> m = copy(good);
            INDArray codes = m.get("codes");
            codes.putScalar(at, (codes.getInt((int) at[0], (int) at[1]) + 3) & 0xff);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Adam8bit(3e-3).instantiate(m, false));
            assertTrue(e.getMessage().contains("codes do not match"), e.getMessage());
            cases++;
        }
        // check words of another format or shape
        for (INDArray check : new INDArray[]{Nd4j.createFromArray(2, 0, 0), Nd4j.createFromArray(1, 2),
                Nd4j.createFromArray(1f, 2f, 3f)}) {
            Map<String, INDArray> m = copy(good);
            m.put("check", check);
            assertThrows(IllegalStateException.class, () -> new Adam8bit(3e-3).instantiate(m, false));
            cases++;
        }
        assertEquals(11, cases);
    }

    @Test
    void legacyStateWithoutCheckIsStillValidated() {
        Map<String, INDArray> m = copy(state(trained(new Lion8bit(1e-3), 2), "w1"));
        m.remove("check");
        new Lion8bit(1e-3).instantiate(copy(m), false); // a file saved before the check words: accepted
        m.get("absmax").putScalar(3, Float.NaN);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Lion8bit(1e-3).instantiate(m, false));
        assertTrue(e.getMessage().contains("absmax") && e.getMessage().contains("NaN"), e.getMessage());
        m.get("absmax").putScalar(3, -1f);
        assertThrows(IllegalStateException.class, () -> new Lion8bit(1e-3).instantiate(m, false));
    }

    /** The case: an absmax edited inside the saved .sd file. */
    @Test
    void absmaxEditedInTheSavedFileFailsOnLoad(@TempDir Path dir) throws Exception {
        SameDiff sd = trained(new Adam8bit(3e-3), 4);
        float[] absmax = state(sd, "w1").get("absmax").reshape(-1).toFloatVector();
        File f = dir.resolve("model.sd").toFile();
        sd.save(f, true);
        byte[] bytes = Files.readAllBytes(f.toPath());
        int at = find(bytes, absmax, ByteOrder.LITTLE_ENDIAN);
        if (at < 0) at = find(bytes, absmax, ByteOrder.BIG_ENDIAN);
        assertTrue(at >= 0, "the saved file holds the absmax values");
        SameDiff.load(f, true); // intact: loads
        bytes[at + 4 * 5 + 1] ^= 0x10; // absmax[5]: a mantissa bit
        Files.write(f.toPath(), bytes);
        Exception e = assertThrows(Exception.class, () -> SameDiff.load(f, true));
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalStateException)) root = root.getCause();
        assertTrue(String.valueOf(root.getMessage()).contains("corrupted"), String.valueOf(e));
    }

    private static int find(byte[] hay, float[] values, ByteOrder order) {
        int len = Math.min(values.length, 16);
        ByteBuffer b = ByteBuffer.allocate(4 * len).order(order);
        for (int i = 0; i < len; i++) b.putFloat(values[i]);
        byte[] needle = b.array();
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    /**
     * A state in the HALF-word form (a HALF view's) round trips through getState / instantiate(Map)
     * and continues bit for bit; a scale no HALF-view step writes (a half NaN in its low half) or an
     * edited one is refused; an unknown check format is refused.
     */
    @Test
    void halfWordStatesReloadAndRefuseScalesNoStepWrites() {
        Adam8bit cfg = Adam8bit.builder().learningRate(3e-3).viewDataType(DataType.HALF).build();
        long n = 10_000;
        Nd4j.getRandom().setSeed(4);
        INDArray g = Nd4j.randn(DataType.HALF, 1, n).muli(0.01);
        INDArray view = Nd4j.create(DataType.HALF, 1, cfg.stateSize(n));
        GradientUpdater<?> a = cfg.instantiate(view, true);
        for (int t = 0; t < 3; t++) a.applyUpdater(g.dup(), t, 0);
        @SuppressWarnings("unchecked") Map<String, INDArray> st = copy(a.getState());
        assertEquals(2, st.get("check").getInt(0), "HALF-word form");
        GradientUpdater<?> b = cfg.instantiate(copy(st), false);
        INDArray ga = g.dup(), gb = g.dup();
        a.applyUpdater(ga, 3, 0);
        b.applyUpdater(gb, 3, 0);
        assertEquals(ga, gb, "reloaded HALF-word state continues bit for bit");

        Map<String, INDArray> nanHalf = copy(st);
        float s = nanHalf.get("absmax").getFloat(0L, 1L);
        nanHalf.get("absmax").putScalar(new long[]{0, 1}, Float.intBitsToFloat((Float.floatToRawIntBits(s) & 0xffff0000) | 0x7d01));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(nanHalf, false));
        assertTrue(e.getMessage().contains("block scale 1") && e.getMessage().contains("HALF view"), e.getMessage());

        Map<String, INDArray> edited = copy(st);
        edited.get("absmax").putScalar(new long[]{0, 1}, s * 2);
        e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(edited, false));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());

        Map<String, INDArray> format = copy(st);
        format.get("check").putScalar(0, 3);
        e = assertThrows(IllegalStateException.class, () -> cfg.instantiate(format, false));
        assertTrue(e.getMessage().contains("format 3"), e.getMessage());
    }
}
