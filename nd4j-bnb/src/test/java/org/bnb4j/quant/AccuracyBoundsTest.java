package org.bnb4j.quant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bitsandbytes' tests/test_functional.py bounds on 1024x1024 inputs, for the CUDA blocksizes and for
 * CPU-only ones (its test_blockwise_cpu_large takes 16384).
 */
class AccuracyBoundsTest {

    static double[] errors(INDArray x, QuantMap map, int blocksize) {
        INDArray d = Blockwise.dequantize(Blockwise.quantize(x, map, blocksize));
        INDArray absErr = Transforms.abs(x.sub(d));
        double mean = absErr.meanNumber().doubleValue();
        double rel = absErr.div(Transforms.abs(x).add(1e-8)).meanNumber().doubleValue();
        return new double[]{mean, rel};
    }

    static void check(String what, double[] e, double maxAbs, double maxRel) {
        assertTrue(e[0] < maxAbs, what + ": mean abs error " + e[0] + " >= " + maxAbs);
        assertTrue(e[1] < maxRel, what + ": mean relative error " + e[1] + " >= " + maxRel);
    }

    @ParameterizedTest(name = "blocksize {0}")
    @ValueSource(ints = {64, 128, 256, 512, 1024, 2048, 4096, 100, 3000, 8192, 16384})
    void withinBitsandbytesBounds(int blocksize) {
        for (int seed = 0; seed < 3; seed++) {
            INDArray randn = TestArrays.randn(DataType.FLOAT, seed, 1024, 1024);
            check("randn signed dynamic", errors(randn, QuantMap.dynamic(true), blocksize), 0.011, 0.018);
            INDArray rand = TestArrays.rand(DataType.FLOAT, seed + 100, 1024, 1024);
            check("rand signed dynamic", errors(rand, QuantMap.dynamic(true), blocksize), 0.0036, 0.015);
            check("rand unsigned dynamic", errors(rand, QuantMap.dynamic(false), blocksize), 0.0023, 0.012);
        }
    }
}
