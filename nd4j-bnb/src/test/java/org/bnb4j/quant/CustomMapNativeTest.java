package org.bnb4j.quant;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.CodeSearch;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.BnbNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.bnb4j.quant.TestArrays.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every map QuantMap.of accepts must work on the native library too, with the Java kernels' codes:
 * maps whose float midpoints overflow (values near +-Float.MAX_VALUE), runs of equal values, mixed
 * signed zeros, denormals, values beyond 1 (never chosen, still decoded), entirely negative maps and
 * random maps of huge dynamic range. Compared on every instruction set of this CPU, bit for bit:
 * codes, absmax, dequantized values in every float type, and stochastic codes for a fixed seed.
 */
class CustomMapNativeTest {
    static final BlockwiseQuantizer JAVA = new BlockwiseQuantizer(KernelProvider.reference().quantKernels());
    static final float MAX = Float.MAX_VALUE;
    static String defaultIsa;

    @BeforeAll
    static void needsNative() {
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
        defaultIsa = BnbNative.activeIsa();
    }

    @AfterAll
    static void restoreIsa() {
        if (defaultIsa != null) assertTrue(BnbNative.selectIsa(defaultIsa));
    }

    static Stream<String> isas() {
        if (KernelProvider.nativeKernels().isEmpty()) return Stream.of("none");
        return Stream.of(BnbNative.supportedIsas().split(","));
    }

    static final class Named {
        final String name;
        final QuantMap map;

        Named(String name, float[] v) {
            this.name = name;
            this.map = QuantMap.of(v);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static float[] fill(java.util.function.IntToDoubleFunction f) {
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = (float) Math.max(-MAX, Math.min(MAX, f.applyAsDouble(i)));
        return v;
    }

    static float[] sorted(float[] v) {
        Arrays.sort(v);
        return v;
    }

    /** A random sorted map over [-MAX, MAX] with magnitudes 10^-45 .. 10^38.5, some ends at +-MAX and some zeros. */
    static float[] randomWide(SplittableRandom r) {
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) {
            double mag = Math.min(MAX, Math.pow(10, r.nextDouble(-45, 38.5)));
            v[i] = (float) (r.nextBoolean() ? mag : -mag);
            if (r.nextInt(17) == 0) v[i] = r.nextBoolean() ? MAX : -MAX;
            if (r.nextInt(23) == 0) v[i] = r.nextBoolean() ? 0.0f : -0.0f;
        }
        return sorted(v);
    }

    /** The adversarial maps (deterministic). */
    static List<Named> maps() {
        List<Named> m = new ArrayList<>();
        m.add(new Named("linear to +-MAX", fill(i -> (i - 127.5) / 127.5 * MAX)));
        m.add(new Named("unit, ends +-1.28e38", fill(i -> i == 0 ? -1.28e38 : i == 255 ? 1.28e38 : (i - 127.5) / 127.5)));
        m.add(new Named("unit, two ends +-MAX", fill(i -> i <= 1 ? -MAX : i >= 254 ? MAX : (i - 127.5) / 127.5)));
        m.add(new Named("sinh to +-MAX", fill(i -> Math.sinh((i - 127.5) / 127.5 * 89.0))));
        // every midpoint of one sign overflows: (a + b) * 0.5f is +-inf
        m.add(new Named("1e37 .. MAX both signs", fill(i -> Math.copySign(1e37 * Math.pow(34.0, Math.abs(i - 127.5) / 127.5), i - 127.5))));
        m.add(new Named("all MAX", fill(i -> MAX)));
        m.add(new Named("all -MAX", fill(i -> -MAX)));
        m.add(new Named("halves +-MAX", fill(i -> i < 128 ? -MAX : MAX)));
        m.add(new Named("all 0.5", fill(i -> 0.5)));
        m.add(new Named("all +0", fill(i -> 0.0)));
        m.add(new Named("runs of 16", fill(i -> ((i >> 4) - 8) / 8.0)));
        SplittableRandom r = new SplittableRandom(2024);
        float[] pool = {-0.75f, -0.1f, -1e-3f, 0.0f, 2e-4f, 0.05f, 0.3f, 0.3f, 1.0f};
        m.add(new Named("random runs", sorted(fill(i -> pool[r.nextInt(pool.length)]))));
        // -0.0 == +0.0, so any order of signed zeros is sorted
        m.add(new Named("signed zeros mixed", fill(i -> i < 200 ? (r.nextBoolean() ? -0.0 : 0.0) : (i - 199) / 56.0)));
        m.add(new Named("only signed zeros", fill(i -> r.nextBoolean() ? -0.0 : 0.0)));
        m.add(new Named("negatives, signed zeros, positives",
                fill(i -> i < 60 ? -1 + i / 60.0 : i < 196 ? (r.nextBoolean() ? -0.0 : 0.0) : (i - 195) / 60.0)));
        m.add(new Named("denormals only", fill(i -> Float.intBitsToFloat(1 + 1000 * i))));
        m.add(new Named("signed denormals", sorted(fill(i -> (i < 128 ? -1 : 1) * Float.intBitsToFloat(30000 * Math.abs(i - 127) + 1)))));
        m.add(new Named("values above 1", fill(i -> 1 + i * 0.25)));
        m.add(new Named("just above 1", fill(i -> i == 255 ? 1e30 : Math.nextUp(1.0f))));
        m.add(new Named("entirely negative", fill(i -> -2 + i * (1.9 / 255))));
        m.add(new Named("negative, 1.6e38 .. denormal", fill(i -> -Math.pow(10, 38.2 - i * 0.3))));
        for (int k = 0; k < 6; k++) m.add(new Named("random wide " + k, randomWide(r)));
        m.add(new Named("dynamic signed", QuantMap.dynamic(true).values()));
        m.add(new Named("dynamic unsigned", QuantMap.dynamic(false).values()));
        return m;
    }

    static float[] randomVector(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    // y = x * (1 / absmax) exactly for absmax = 2^-k: the map's transition points land in the data as they are
    static float[] nearTransitions(QuantMap map, SplittableRandom r, int n, float absmax) {
        float[] t = CodeSearch.thresholds(map.values());
        float[] c = map.values();
        float[] v = new float[n];
        v[0] = r.nextBoolean() ? 1.0f : -1.0f;
        for (int i = 1; i < n; i++) {
            float base = r.nextBoolean() ? t[1 + r.nextInt(255)] : c[r.nextInt(256)];
            if (!(Math.abs(base) <= 1.0f)) base = (float) r.nextGaussian() * 0.3f;
            int steps = r.nextInt(7) - 3;
            for (int s = 0; s < Math.abs(steps); s++) base = steps < 0 ? Math.nextDown(base) : Math.nextUp(base);
            if (!(Math.abs(base) <= 1.0f)) base = Math.signum(base);
            v[i] = base;
        }
        for (int i = 0; i < n; i++) v[i] *= absmax;
        return v;
    }

    /** Block by block: every kind of input the contract names, then a partial last block. */
    static INDArray input(QuantMap map, int blocksize, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 9 * blocksize + blocksize / 3 + 1;
        float[] x = new float[n];
        for (int b = 0; b * blocksize < n; b++) {
            int start = b * blocksize, len = Math.min(blocksize, n - start);
            float[] v;
            switch (b) {
                case 0: { // normal with outliers
                    v = randomVector(r, len);
                    for (int i = 0; i < len; i++) if (r.nextInt(50) == 0) v[i] *= 1000;
                    break;
                }
                case 1: v = new float[len]; for (int i = 0; i < len; i++) v[i] = r.nextBoolean() ? 0.0f : -0.0f; break;
                case 2: { // denormals (1 / absmax overflows: the kernels divide)
                    v = new float[len];
                    for (int i = 0; i < len; i++) v[i] = Float.intBitsToFloat(r.nextInt(0x00800000) | (r.nextBoolean() ? 0x80000000 : 0));
                    break;
                }
                case 3: {
                    v = randomVector(r, len);
                    for (int i = 0; i < len; i++) if (r.nextInt(5) == 0) v[i] = Float.NaN;
                    break;
                }
                case 4: v = nearTransitions(map, r, len, 1.0f); break;
                case 5: v = nearTransitions(map, r, len, 0x1p-100f); break;
                case 6: { // huge: absmax MAX, whose reciprocal is denormal
                    v = randomVector(r, len);
                    for (int i = 0; i < len; i++) v[i] *= 1e37f;
                    v[len / 2] = -MAX;
                    break;
                }
                case 7: v = randomVector(r, len); for (int i = 0; i < len; i++) v[i] *= 1e-30f; break;
                default: v = randomVector(r, len); break;
            }
            System.arraycopy(v, 0, x, start, len);
        }
        return Nd4j.createFromArray(x);
    }

    static void assertSame(BlockwiseQuantizer nat, QuantMap map, INDArray x, int blocksize, long seed, String what) {
        QuantState j = JAVA.quantize(x, map, blocksize);
        QuantState n = nat.quantize(x, map, blocksize);
        assertSameBits(j.absmax(), n.absmax(), what + " absmax");
        assertSameBits(j.codes(), n.codes(), what + " codes");
        for (DataType out : FLOAT_TYPES) {
            INDArray dj = JAVA.dequantize(j.codes(), j.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            INDArray dn = nat.dequantize(n.codes(), n.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            assertSameBits(dj, dn, what + " dequantized to " + out);
        }
        QuantState sj = JAVA.quantizeStochastic(x, map, blocksize, seed);
        QuantState sn = nat.quantizeStochastic(x, map, blocksize, seed);
        assertSameBits(sj.absmax(), sn.absmax(), what + " stochastic absmax");
        assertSameBits(sj.codes(), sn.codes(), what + " stochastic codes");
    }

    static BlockwiseQuantizer select(String isa) {
        assertTrue(BnbNative.selectIsa(isa), isa);
        assertEquals(isa, BnbNative.activeIsa());
        return new BlockwiseQuantizer(KernelProvider.nativeKernels().orElseThrow().quantKernels());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void adversarialMapsMatchJava(String isa) {
        BlockwiseQuantizer nat = select(isa);
        List<Named> maps = maps();
        for (int k = 0; k < maps.size(); k++) {
            Named m = maps.get(k);
            for (int blocksize : new int[]{64, 4096}) {
                assertSame(nat, m.map, input(m.map, blocksize, 31L * k + blocksize), blocksize, 1234 + k,
                        isa + " map '" + m + "' blocksize " + blocksize);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void randomMapsMatchJava(String isa) {
        BlockwiseQuantizer nat = select(isa);
        SplittableRandom r = new SplittableRandom(77);
        for (int k = 0; k < 100; k++) {
            float[] v;
            switch (k % 4) {
                case 0: v = randomWide(r); break;
                case 1: v = sorted(fill(i -> r.nextGaussian() * Math.pow(10, r.nextInt(77) - 38))); break;
                case 2: { // few distinct values: long runs
                    float[] pool = randomWide(r);
                    v = sorted(fill(i -> pool[r.nextInt(6)]));
                    break;
                }
                default: v = sorted(fill(i -> r.nextGaussian() * 0.3 * (r.nextInt(40) == 0 ? 1e38 : 1))); break;
            }
            QuantMap map = QuantMap.of(v);
            assertSame(nat, map, input(map, 64, 1000 + k), 64, k, isa + " random map " + k + " " + map);
        }
    }

    @Test
    void valuesBeyondOneAreNeverChosenButDecode() {
        // y = x / absmax lies in [-1, 1], so a map above 1 gives code 0 everywhere; code 255 still decodes
        BlockwiseQuantizer nat = new BlockwiseQuantizer(KernelProvider.nativeKernels().orElseThrow().quantKernels());
        QuantMap m = QuantMap.of(fill(i -> i == 255 ? 1e30 : 1 + i * 0.25));
        INDArray x = Nd4j.createFromArray(new float[]{0.5f, -2.0f, 1.0f, 0.0f});
        QuantState s = nat.quantize(x, m, 64);
        assertArrayEquals(new byte[4], bytes(s.codes()));
        INDArray codes = Nd4j.createFromArray(new int[]{255, 0, 1, 0}).castTo(DataType.UBYTE);
        INDArray d = nat.dequantize(codes, Nd4j.createFromArray(new float[]{2.0f}), m, 64, Nd4j.create(DataType.FLOAT, 4));
        assertArrayEquals(new float[]{2e30f, 2.0f, 2.5f, 2.0f}, d.toFloatVector());
    }
}
