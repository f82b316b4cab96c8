package org.bnb4j.samediff;

import org.bnb4j.internal.kernels.CodeSearch;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.File;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SDBlockwiseTest {

    static INDArray input(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, 97, 301).muli(3);
        x.get(NDArrayIndex.point(2), NDArrayIndex.all()).assign(0);   // zero runs: an all-zero block at blocksize 64
        x.get(NDArrayIndex.point(3), NDArrayIndex.all()).assign(0);
        x.putScalar(5, 1e-30f);
        x.putScalar(700, Float.NaN);
        for (int i = 4096 * 2; i < 4096 * 3; i++) x.putScalar(i, Float.MIN_VALUE * ((i % 61) - 30)); // a denormal block at every blocksize
        x.putScalar(3000, Float.NaN);
        return x;
    }

    static SameDiff graph(QuantMap map, int blocksize) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 97, 301);
        SDVariable[] q = SDBlockwise.quantize(sd, "q", x, new long[]{97, 301}, map, blocksize);
        SDBlockwise.dequantize(sd, "deq", q[0], q[1], map, blocksize, new long[]{97, 301}, DataType.FLOAT);
        return sd;
    }

    @Test
    void graphOpsEqualTheIndarrayApiBitForBit() {
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false), QuantMap.linear(true)}) {
            for (int blocksize : new int[]{64, 256, 4096, 100, 8192}) {
                INDArray x = map == QuantMap.dynamic(false) ? Nd4j.math().abs(input(blocksize)) : input(blocksize);
                SameDiff sd = graph(map, blocksize);
                Map<String, INDArray> out = sd.output(Map.of("x", x), "q_codes", "q_absmax", "deq");
                QuantState ref = Blockwise.quantize(x, map, blocksize);
                assertEquals(ref.absmax(), out.get("q_absmax"), map + " " + blocksize + " absmax");
                assertEquals(ref.codes(), out.get("q_codes").castTo(DataType.UBYTE), map + " " + blocksize + " codes");
                INDArray deq = out.get("deq");
                INDArray apiDeq = Blockwise.dequantize(ref);
                assertEquals(0, Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce3.HammingDistance(
                        deq.reshape(deq.length()).castTo(DataType.DOUBLE), apiDeq.reshape(apiDeq.length()).castTo(DataType.DOUBLE))).getDouble(0),
                        map + " " + blocksize + " dequantized");
            }
        }
    }

    /**
     * Blocksize 1 (a reduction over a length-1 axis fails inside libnd4j) and blocksizes far beyond
     * the input (the graph padded the input to a whole block: 2^31 - 1 floats for 10 elements).
     */
    @Test
    void blocksizeOneAndBlocksizesLargerThanTheInput() {
        QuantMap map = QuantMap.dynamic(true);
        for (long[] shape : new long[][]{{1}, {10}, {3, 7}}) {
            for (int blocksize : new int[]{1, 2, 21, 22, 1 << 24, Integer.MAX_VALUE}) {
                SameDiff sd = SameDiff.create();
                SDVariable x = sd.placeHolder("x", DataType.FLOAT, shape);
                SDVariable[] q = SDBlockwise.quantize(sd, "q", x, shape, map, blocksize);
                SDBlockwise.dequantize(sd, "deq", q[0], q[1], map, blocksize, shape, DataType.FLOAT);
                Nd4j.getRandom().setSeed(blocksize);
                INDArray in = Nd4j.randn(DataType.FLOAT, shape).muli(5);
                if (in.length() > 4) in.putScalar(3, Float.NaN);
                String what = java.util.Arrays.toString(shape) + " blocksize " + blocksize;
                long t0 = System.nanoTime();
                Map<String, INDArray> out = sd.output(Map.of("x", in), "q_codes", "q_absmax", "deq");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 5000, what + ": " + ms + " ms");
                QuantState ref = Blockwise.quantize(in, map, blocksize);
                assertEquals(ref.absmax(), out.get("q_absmax"), what + " absmax");
                assertEquals(ref.codes(), out.get("q_codes").castTo(DataType.UBYTE), what + " codes");
                assertEquals(Blockwise.dequantize(ref).reshape(shape), out.get("deq"), what + " dequantized");
            }
        }
    }

    /** ND4J's INF/ANY_PANIC profiling checks every op output, constants included: a graph on finite data must not set it off. */
    @Test
    void panicProfilingSeesNoInfinityInTheGraph() {
        org.nd4j.linalg.api.ops.executioner.OpExecutioner ex = Nd4j.getExecutioner();
        for (org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode mode : new org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode[]{
                org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.INF_PANIC,
                org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.ANY_PANIC}) {
            Nd4j.getRandom().setSeed(4);
            INDArray x = Nd4j.randn(DataType.FLOAT, 97, 301);
            QuantState ref = Blockwise.quantize(x, QuantMap.dynamic(), 256);
            ex.setProfilingMode(mode);
            try {
                Map<String, INDArray> out = graph(QuantMap.dynamic(), 256).output(Map.of("x", x), "q_codes", "q_absmax");
                assertEquals(ref.codes(), out.get("q_codes").castTo(DataType.UBYTE), mode + " codes");
                assertEquals(ref.absmax(), out.get("q_absmax"), mode + " absmax");
            } finally {
                ex.setProfilingMode(org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.DISABLED);
            }
        }
        for (float t : SDBlockwise.graphThresholds(QuantMap.dynamic(false))) assertTrue(Float.isFinite(t));
    }

    @Test
    void thresholdsReproduceTheSearch() {
        float[] c = QuantMap.dynamic(true).values();
        float[] t = CodeSearch.thresholds(c);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            float y = (float) (r.nextDouble() * 2.2 - 1.1) * (i % 2 == 0 ? 1 : (float) Math.pow(10, -r.nextInt(9)));
            int k = 0;
            while (k < 255 && t[k + 1] <= y) k++;
            assertEquals(CodeSearch.nearest(c, y), k, "y=" + y);
        }
    }

    @Test
    void aGraphHoldingThemSavesLoadsAndRuns(@TempDir Path dir) throws Exception {
        SameDiff sd = graph(QuantMap.dynamic(), 256);
        INDArray x = input(9);
        Map<String, INDArray> before = sd.output(Map.of("x", x), "q_codes", "deq");
        File f = dir.resolve("quant.sd").toFile();
        sd.save(f, false);
        SameDiff loaded = SameDiff.load(f, false);
        Map<String, INDArray> after = loaded.output(Map.of("x", x), "q_codes", "deq");
        assertEquals(before.get("q_codes"), after.get("q_codes"));
        assertEquals(before.get("deq"), after.get("deq"));
    }

    @Test
    void badArguments() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 10);
        assertThrows(IllegalArgumentException.class, () -> SDBlockwise.quantize(sd, "q", x, new long[]{10}, QuantMap.dynamic(), 0));
        assertThrows(IllegalArgumentException.class, () -> SDBlockwise.quantize(sd, "q", x, new long[]{0}, QuantMap.dynamic(), 64));
        assertThrows(IllegalArgumentException.class, () -> SDBlockwise.dequantize(sd, "d", x, x, QuantMap.dynamic(), 64, new long[]{10}, DataType.INT));
        QuantMap m = QuantMap.dynamic();
        String[][] cases = {
                {"shape is null", "q1"}, {"x is null", "q2"}, {"negative dimension", "q3"}, {"shape is null", "d1"},
                {"codes is null", "d2"}, {"absmax is null", "d3"}, {"dataType is null", "d4"}, {"negative dimension", "d5"},
                {"2^31 - 1 elements", "d6"}, {"belongs to another SameDiff", "q4"}, {"belongs to another SameDiff", "d7"}};
        SDVariable foreign = SameDiff.create().placeHolder("y", DataType.FLOAT, 10);
        org.junit.jupiter.api.function.Executable[] calls = {
                () -> SDBlockwise.quantize(sd, "q1", x, null, m, 64),
                () -> SDBlockwise.quantize(sd, "q2", null, new long[]{10}, m, 64),
                () -> SDBlockwise.quantize(sd, "q3", x, new long[]{-2, -5}, m, 64),
                () -> SDBlockwise.dequantize(sd, "d1", x, x, m, 64, null, DataType.FLOAT),
                () -> SDBlockwise.dequantize(sd, "d2", null, x, m, 64, new long[]{10}, DataType.FLOAT),
                () -> SDBlockwise.dequantize(sd, "d3", x, null, m, 64, new long[]{10}, DataType.FLOAT),
                () -> SDBlockwise.dequantize(sd, "d4", x, x, m, 64, new long[]{10}, null),
                () -> SDBlockwise.dequantize(sd, "d5", x, x, m, 64, new long[]{-2, -5}, DataType.FLOAT),
                () -> SDBlockwise.dequantize(sd, "d6", x, x, m, 64, new long[]{1L << 33}, DataType.FLOAT),
                () -> SDBlockwise.quantize(sd, "q4", foreign, new long[]{10}, m, 64),
                () -> SDBlockwise.dequantize(sd, "d7", foreign, x, m, 64, new long[]{10}, DataType.FLOAT)};
        for (int i = 0; i < calls.length; i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, calls[i], cases[i][1]);
            assertTrue(e.getMessage().contains(cases[i][0]), cases[i][1] + ": " + e.getMessage());
        }
    }
}
