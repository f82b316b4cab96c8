package org.bnb4j.quant;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.quant.NonFiniteInputException;
import org.bnb4j.internal.nativeops.BnbNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.bnb4j.quant.TestArrays.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native kernels, on every instruction set this CPU has, must equal the pure-Java oracle bit for
 * bit: codes, absmax and dequantized values, for every data type and blocksize.
 */
class NativeMatchesJavaTest {
    static final BlockwiseQuantizer JAVA = new BlockwiseQuantizer(KernelProvider.reference().quantKernels());

    static BlockwiseQuantizer nativeQuantizer() {
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
        return new BlockwiseQuantizer(KernelProvider.nativeKernels().get().quantKernels());
    }

    static Stream<String> isas() {
        if (KernelProvider.nativeKernels().isEmpty()) return Stream.of("none");
        return Stream.of(BnbNative.supportedIsas().split(","));
    }

    static Stream<Object[]> isaTypeBlock() {
        List<Object[]> cases = new ArrayList<>();
        isas().forEach(isa -> {
            for (DataType t : FLOAT_TYPES) for (int b : BLOCKSIZES) cases.add(new Object[]{isa, t, b});
        });
        return cases.stream();
    }

    @AfterAll
    static void restoreIsa() {
        if (KernelProvider.nativeKernels().isPresent()) {
            String[] all = BnbNative.supportedIsas().split(",");
            BnbNative.selectIsa(all[all.length - 1]);
        }
    }

    static void select(String isa) {
        BlockwiseQuantizer q = nativeQuantizer();
        assertNotNull(q);
        assertTrue(BnbNative.selectIsa(isa), isa);
        assertEquals(isa, BnbNative.activeIsa());
    }

    static void assertSameQuantization(BlockwiseQuantizer nat, INDArray x, QuantMap map, int blocksize, String what) {
        QuantState j = JAVA.quantize(x, map, blocksize);
        QuantState n = nat.quantize(x, map, blocksize);
        assertSameBits(j.absmax(), n.absmax(), what + " absmax");
        assertSameBits(j.codes(), n.codes(), what + " codes");
        for (DataType out : FLOAT_TYPES) {
            INDArray dj = JAVA.dequantize(j.codes(), j.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            INDArray dn = nat.dequantize(n.codes(), n.absmax(), map, blocksize, Nd4j.create(out, x.shape()));
            assertSameBits(dj, dn, what + " dequantized to " + out);
        }
    }

    @ParameterizedTest(name = "{0} {1} blocksize {2}")
    @MethodSource("isaTypeBlock")
    void randomAndAdversarialDataMatchBitForBit(String isa, DataType type, int blocksize) {
        select(isa);
        BlockwiseQuantizer nat = nativeQuantizer();
        INDArray adv = adversarialArray(type, blocksize, 18, blocksize);
        INDArray gauss = randn(type, blocksize, 3, 7 * blocksize + 5);
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false), QuantMap.linear(true)}) {
            assertSameQuantization(nat, adv, map, blocksize, isa + " adversarial " + map.name());
            assertSameQuantization(nat, gauss, map, blocksize, isa + " randn " + map.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void stochasticRoundingMatches(String isa) {
        select(isa);
        BlockwiseQuantizer nat = nativeQuantizer();
        INDArray x = randn(DataType.FLOAT, 5, 300_001);
        QuantState j = JAVA.quantizeStochastic(x, QuantMap.dynamic(), 256, 1234);
        QuantState n = nat.quantizeStochastic(x, QuantMap.dynamic(), 256, 1234);
        assertSameBits(j.codes(), n.codes(), isa + " stochastic codes");
        QuantState other = nat.quantizeStochastic(x, QuantMap.dynamic(), 256, 99);
        assertFalse(java.util.Arrays.equals(bytes(n.codes()), bytes(other.codes())), "seed changes the rounding");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void edgeLengthsMatch(String isa) {
        select(isa);
        BlockwiseQuantizer nat = nativeQuantizer();
        for (int b : new int[]{64, 256, 4096}) {
            for (long len : new long[]{1, b - 1, b, b + 1, 3L * b + 17}) {
                assertSameQuantization(nat, randn(DataType.FLOAT, len, len), QuantMap.dynamic(), b, isa + " len " + len);
            }
        }
        assertSameQuantization(nat, randn(DataType.FLOAT, 9, 1_000_003), QuantMap.dynamic(), 256, isa + " len 10^6+3");
    }

    /**
     * Any positive blocksize (bitsandbytes' CPU rule): small, odd and non-power-of-two ones, and blocks
     * larger than the kernels' 4096-element stack buffer (worked in chunks), each with a partial last
     * block, strided and HALF input (the buffered path) and DOUBLE output, equal the oracle bit for bit.
     * An all-NaN first chunk and an Inf in the second chunk of a large block are in the data.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void anyPositiveBlocksizeMatches(String isa) {
        select(isa);
        BlockwiseQuantizer nat = nativeQuantizer();
        for (int b : new int[]{1, 3, 63, 100, 3000, 4097, 8192, 12345, 16384, 65536}) {
            long len = Math.max(3L * b + 7, 5000);
            INDArray x = randn(DataType.FLOAT, b, len);
            assertSameQuantization(nat, x, QuantMap.dynamic(), b, isa + " blocksize " + b);
            assertSameQuantization(nat, x.castTo(DataType.HALF), QuantMap.dynamic(false), b, isa + " HALF blocksize " + b);
            INDArray strided = Nd4j.create(DataType.FLOAT, len, 2).get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(1)).assign(x);
            assertSameQuantization(nat, strided, QuantMap.linear(true), b, isa + " strided blocksize " + b);
        }
        // a 16384-block whose first 4096 chunk is all NaN: the block's absmax is its other chunks'
        INDArray x = randn(DataType.FLOAT, 5, 3 * 16384);
        for (int i = 0; i < 4096; i++) x.putScalar(i, Float.NaN);
        assertSameQuantization(nat, x, QuantMap.dynamic(), 16384, isa + " NaN chunk");
        x.putScalar(16384 + 5000, Float.POSITIVE_INFINITY);
        NonFiniteInputException a = assertThrows(NonFiniteInputException.class, () -> JAVA.quantize(x, QuantMap.dynamic(), 16384));
        NonFiniteInputException n = assertThrows(NonFiniteInputException.class, () -> nat.quantize(x, QuantMap.dynamic(), 16384));
        assertEquals(1, a.block());
        assertEquals(1, n.block());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("isas")
    void customMapsMatch(String isa) {
        select(isa);
        BlockwiseQuantizer nat = nativeQuantizer();
        // a coarse map with repeated entries and a wide gap: several codes per table bucket
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = i < 100 ? -0.5f : i < 200 ? (i - 150) / 1000f : (float) Math.pow((i - 199) / 56.0, 3);
        java.util.Arrays.sort(v);
        QuantMap m = QuantMap.of(v);
        assertSameQuantization(nat, randn(DataType.FLOAT, 3, 50_000), m, 128, isa + " custom map");
        assertSameQuantization(nat, adversarialArray(DataType.FLOAT, 128, 18, 4), m, 128, isa + " custom map adversarial");
    }

    @Test
    void infIsRejectedByBothWithTheSameBlock() {
        BlockwiseQuantizer nat = nativeQuantizer();
        INDArray x = randn(DataType.FLOAT, 1, 10_000);
        x.putScalar(5000, Float.POSITIVE_INFINITY);
        x.putScalar(9000, Float.NEGATIVE_INFINITY);
        NonFiniteInputException a = assertThrows(NonFiniteInputException.class, () -> JAVA.quantize(x, QuantMap.dynamic(), 256));
        NonFiniteInputException b = assertThrows(NonFiniteInputException.class, () -> nat.quantize(x, QuantMap.dynamic(), 256));
        assertEquals(5000 / 256, a.block());
        assertEquals(a.block(), b.block());
        assertTrue(b.getMessage().contains("Inf"), b.getMessage());
    }
}
