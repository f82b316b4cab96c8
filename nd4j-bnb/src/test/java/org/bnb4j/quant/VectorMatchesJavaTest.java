package org.bnb4j.quant;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.quant.NonFiniteInputException;
import org.bnb4j.internal.kernels.QuantKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.bnb4j.quant.TestArrays.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The vectorised pure-Java kernels (JDK Vector API) must equal the scalar pure-Java oracle bit for
 * bit: codes, absmax and dequantized values, for every data type, blocksize and layout.
 */
class VectorMatchesJavaTest {
    static final BlockwiseQuantizer JAVA = new BlockwiseQuantizer(KernelProvider.reference().quantKernels());
    static BlockwiseQuantizer vec;

    @BeforeAll
    static void vectorKernels() {
        assumeTrue(KernelProvider.vectorModulePresent(), "run with --add-modules jdk.incubator.vector");
        QuantKernels k = KernelProvider.vectorized().map(KernelProvider::quantKernels).orElseThrow(() -> new AssertionError("module present but no vector kernels: "
                + KernelProvider.vectorUnavailableReason()));
        assertTrue(k.name().contains("vectorized"), k.name());
        String lanes = System.getProperty("bnb4j.expectVectorLanes");   // set by the 128-bit test run
        if (lanes != null) assertTrue(k.name().contains("(Vector API, " + lanes + " float lanes)"), k.name());
        vec = new BlockwiseQuantizer(k);
    }

    static Stream<Object[]> typeBlock() {
        List<Object[]> cases = new ArrayList<>();
        for (DataType t : FLOAT_TYPES) for (int b : BLOCKSIZES) cases.add(new Object[]{t, b});
        return cases.stream();
    }

    static Stream<DataType> types() {
        return Stream.of(FLOAT_TYPES);
    }

    static void assertSameQuantization(INDArray x, QuantMap map, int blocksize, String what) {
        QuantState j = JAVA.quantize(x, map, blocksize);
        QuantState v = vec.quantize(x, map, blocksize);
        assertSameBits(j.absmax(), v.absmax(), what + " absmax");
        assertSameBits(j.codes(), v.codes(), what + " codes");
        for (DataType out : FLOAT_TYPES) {
            INDArray dj = JAVA.dequantize(j.codes(), j.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            INDArray dv = vec.dequantize(v.codes(), v.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            assertSameBits(dj, dv, what + " dequantized to " + out);
        }
    }

    /** Any positive blocksize, blocks above the vector kernels' run length included, equals the oracle. */
    @Test
    void anyPositiveBlocksizeMatches() {
        for (int b : new int[]{1, 3, 100, 4095, 4097, 16384}) {
            INDArray x = randn(DataType.FLOAT, b, Math.max(3L * b + 7, 5000));
            assertSameQuantization(x, QuantMap.dynamic(), b, "blocksize " + b);
            assertSameQuantization(x.castTo(DataType.BFLOAT16), QuantMap.dynamic(), b, "BFLOAT16 blocksize " + b);
        }
    }

    /** A strided view holding x's values: column 1 of a [n, 3] C-order array. */
    static INDArray stridedCopy(INDArray x) {
        long n = x.length();
        INDArray big = Nd4j.create(x.dataType(), n, 3);
        INDArray col = big.get(NDArrayIndex.all(), NDArrayIndex.point(1));
        col.assign(x.reshape(n));
        return col;
    }

    @ParameterizedTest(name = "{0} blocksize {1}")
    @MethodSource("typeBlock")
    void randomAndAdversarialDataMatchBitForBit(DataType type, int blocksize) {
        INDArray adv = adversarialArray(type, blocksize, 18, blocksize);
        INDArray gauss = randn(type, blocksize, 3, 7 * blocksize + 5);
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false), QuantMap.linear(true)}) {
            assertSameQuantization(adv, map, blocksize, type + " adversarial " + map.name());
            assertSameQuantization(gauss, map, blocksize, type + " randn " + map.name());
        }
        // layouts: an F-order array (strided when read in C order), a column view, a transposed view
        assertSameQuantization(gauss.dup('f'), QuantMap.dynamic(), blocksize, type + " f-order");
        assertSameQuantization(stridedCopy(adv), QuantMap.dynamic(), blocksize, type + " column view");
        assertSameQuantization(gauss.transpose(), QuantMap.dynamic(), blocksize, type + " transposed view");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void dequantizeIntoStridedViews(DataType type) {
        INDArray x = randn(DataType.FLOAT, 11, 5000);
        QuantState s = JAVA.quantize(x, QuantMap.dynamic(), 256);
        INDArray oj = stridedCopy(Nd4j.zeros(type, 5000)), ov = stridedCopy(Nd4j.zeros(type, 5000));
        JAVA.dequantize(s.codes(), s.absmax(), QuantMap.dynamic(), 256, oj);
        vec.dequantize(s.codes(), s.absmax(), QuantMap.dynamic(), 256, ov);
        assertSameBits(oj, ov, type + " strided dequantize");
        INDArray fj = Nd4j.create(type, new long[]{50, 100}, 'f'), fv = Nd4j.create(type, new long[]{50, 100}, 'f');
        JAVA.dequantize(s.codes(), s.absmax(), QuantMap.dynamic(), 256, fj);
        vec.dequantize(s.codes(), s.absmax(), QuantMap.dynamic(), 256, fv);
        assertSameBits(fj, fv, type + " f-order dequantize");
    }

    @Test
    void edgeLengthsMatch() {
        for (int b : BLOCKSIZES) {
            for (long len : new long[]{1, 2, 5, 15, 17, b - 1, b, b + 1, 3L * b + 17, 4096 + 3, 3 * 4096 + 1}) {
                assertSameQuantization(randn(DataType.FLOAT, len, len), QuantMap.dynamic(), b, "blocksize " + b + " len " + len);
            }
        }
        assertSameQuantization(randn(DataType.FLOAT, 9, 1_000_003), QuantMap.dynamic(), 256, "len 10^6+3");
    }

    @Test
    void stochasticRoundingMatches() {
        INDArray x = randn(DataType.FLOAT, 5, 300_001);
        assertSameBits(JAVA.quantizeStochastic(x, QuantMap.dynamic(), 256, 1234).codes(),
                vec.quantizeStochastic(x, QuantMap.dynamic(), 256, 1234).codes(), "stochastic codes");
    }

    @Test
    void customMapsMatch() {
        // repeated entries (the search skips codes)
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = i < 100 ? -0.5f : i < 200 ? (i - 150) / 1000f : (float) Math.pow((i - 199) / 56.0, 3);
        java.util.Arrays.sort(v);
        QuantMap m = QuantMap.of(v);
        assertSameQuantization(randn(DataType.FLOAT, 3, 50_000), m, 128, "custom map");
        assertSameQuantization(adversarialArray(DataType.FLOAT, 128, 18, 4), m, 128, "custom map adversarial");
        // reaching +-MAX with signed zeros and denormals
        float[] w = new float[256];
        for (int i = 0; i < 256; i++) w[i] = (i - 127.5f) / 127.5f;
        w[0] = -Float.MAX_VALUE;
        w[255] = Float.MAX_VALUE;
        w[127] = -0.0f;
        w[128] = Float.MIN_VALUE;
        QuantMap wide = QuantMap.of(w);
        assertSameQuantization(adversarialArray(DataType.FLOAT, 256, 18, 5), wide, 256, "wide map adversarial");
        assertSameQuantization(randn(DataType.FLOAT, 6, 20_000), QuantMap.dynamic(true, 4, 8), 512, "dynamic(4, 8)");
        // values packed among the denormals: no search table, the scalar search runs
        float[] d = new float[256];
        for (int i = 0; i < 256; i++) d[i] = (float) Math.sinh((i - 127.5) / 127.5 * 8) / 1490f;
        d[126] = -Float.MIN_VALUE;
        d[127] = -0.0f;
        d[128] = 0.0f;
        d[129] = Float.MIN_VALUE * 3;
        assertSameQuantization(adversarialArray(DataType.FLOAT, 64, 18, 6), QuantMap.of(d), 64, "denormal map adversarial");
    }

    @Test
    void infIsRejectedWithTheSameBlock() {
        INDArray x = randn(DataType.FLOAT, 1, 100_000);
        x.putScalar(50_000, Float.POSITIVE_INFINITY);
        x.putScalar(90_000, Float.NEGATIVE_INFINITY);
        NonFiniteInputException a = assertThrows(NonFiniteInputException.class, () -> JAVA.quantize(x, QuantMap.dynamic(), 256));
        NonFiniteInputException b = assertThrows(NonFiniteInputException.class, () -> vec.quantize(x, QuantMap.dynamic(), 256));
        assertEquals(50_000 / 256, a.block());
        assertEquals(a.block(), b.block());
    }
}
