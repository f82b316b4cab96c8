package org.bnb4j.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.ByteArrayOutputStream;

import static org.bnb4j.quant.BadInputTest.assertMessage;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernels work on raw addresses, so every array they are given must still own its memory and
 * must not share it with another argument: what ND4J's own ops check (closed arrays, arrays of a
 * workspace that has been closed) and what they cannot (an output overlapping an input) are refused
 * with a message, and nothing is written.
 */
class MemorySafetyTest {
    static final WorkspaceConfiguration WS = WorkspaceConfiguration.builder().initialSize(4 << 20).build();

    /** A state whose arrays were allocated in a workspace that closed since: refused, not decoded from reused memory. */
    @Test
    void statesFromAClosedWorkspaceAreRefused() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 10_000).subi(0.5);
        QuantState s;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-test-ws")) {
            s = Blockwise.quantize(x, QuantMap.dynamic(), 64);
            assertTrue(s.codes().isAttached(), "outputs go to the caller's workspace, as ND4J ops' do");
            assertEquals(x.length(), Blockwise.dequantize(s).length(), "usable inside the scope");
        }
        assertMessage(IllegalStateException.class, "has been closed", () -> Blockwise.dequantize(s));
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-test-ws")) {
            Nd4j.valueArrayOf(new long[]{20_000}, 123.0f, DataType.FLOAT); // reuses the memory
            assertMessage(IllegalStateException.class, "closed and reopened", () -> Blockwise.dequantize(s));
            assertMessage(IllegalStateException.class, "closed and reopened", () -> s.write(new ByteArrayOutputStream()));
        }
        QuantState detached;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-test-ws")) {
            QuantState inside = Blockwise.quantize(x, QuantMap.dynamic(), 64);
            detached = QuantState.of(inside.codes().detach(), inside.absmax().detach(), inside.map(), 64, inside.shape(), inside.dataType());
        }
        assertEquals(Blockwise.dequantize(Blockwise.quantize(x, QuantMap.dynamic(), 64)), Blockwise.dequantize(detached), "detached arrays live on");
    }

    /**
     * Views of a workspace array are checked like the array (as ND4J's ops check them): after the
     * workspace closed and reopened, a view's memory belongs to another array, which must not be read
     * (quantize) or written (dequantize into it).
     */
    @Test
    void viewsFromAClosedWorkspaceAreRefused() {
        INDArray view;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-test-ws-views")) {
            view = Nd4j.rand(DataType.FLOAT, 10_000).subi(0.5).get(NDArrayIndex.interval(0, 5000));
            assertEquals(5000, Blockwise.quantize(view, QuantMap.dynamic(), 64).codes().length(), "usable inside the scope");
        }
        assertMessage(IllegalStateException.class, "has been closed", () -> Blockwise.quantize(view, QuantMap.dynamic(), 64));
        QuantState s = Blockwise.quantize(Nd4j.rand(DataType.FLOAT, 5000), QuantMap.dynamic(), 64);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "bnb4j-test-ws-views")) {
            INDArray other = Nd4j.valueArrayOf(new long[]{20_000}, 123.0f, DataType.FLOAT); // reuses the memory
            assertMessage(IllegalStateException.class, "closed and reopened", () -> Blockwise.quantize(view, QuantMap.dynamic(), 64));
            assertMessage(IllegalStateException.class, "closed and reopened", () -> Blockwise.dequantize(s, view));
            assertEquals(20_000, other.eq(123.0f).castTo(DataType.INT).sumNumber().intValue(), "the live array is untouched");
        }
    }

    @Test
    void closedArraysAreRefused() {
        INDArray y = Nd4j.rand(DataType.FLOAT, 1000);
        QuantState s = Blockwise.quantize(y, QuantMap.dynamic(), 64);
        y.close();
        assertMessage(IllegalArgumentException.class, "was closed", () -> Blockwise.quantize(y, QuantMap.dynamic(), 64));
        INDArray out = Nd4j.create(DataType.FLOAT, 1000);
        out.close();
        assertMessage(IllegalArgumentException.class, "was closed", () -> Blockwise.dequantize(s, out));
    }

    /** Outputs that share memory with an input: refused before anything is written. */
    @Test
    void overlappingArgumentsAreRefused() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 640).addi(1), before = x.dup();
        QuantMap m = QuantMap.dynamic();
        INDArray absmaxInX = x.get(NDArrayIndex.interval(0, 10));
        assertMessage(IllegalArgumentException.class, "absmax shares memory with the input",
                () -> Blockwise.quantize(x, m, 64, Nd4j.create(DataType.UBYTE, 640), absmaxInX));
        assertEquals(before, x, "the input is untouched");
        QuantState s = Blockwise.quantize(x, m, 64);
        INDArray buf = Nd4j.create(DataType.FLOAT, 640);
        INDArray absmaxInOut = buf.get(NDArrayIndex.interval(0, 10)).assign(s.absmax());
        INDArray bufBefore = buf.dup();
        assertMessage(IllegalArgumentException.class, "output shares memory with absmax",
                () -> Blockwise.dequantize(s.codes(), absmaxInOut, m, 64, buf));
        assertEquals(bufBefore, buf, "nothing written");
        INDArray repeated = Nd4j.create(Nd4j.create(DataType.FLOAT, 100).data(), new long[]{7, 100}, new long[]{0, 1}, 0, 'c', DataType.FLOAT);
        QuantState s700 = Blockwise.quantize(Nd4j.rand(DataType.FLOAT, 700), m, 64);
        assertMessage(IllegalArgumentException.class, "stride of 0", () -> Blockwise.dequantize(s700, repeated));
        // apart: the same buffer, disjoint ranges, is fine (as the 8-bit updaters' packed views use it)
        INDArray both = Nd4j.create(DataType.FLOAT, 650);
        INDArray am = both.get(NDArrayIndex.interval(640, 650)).assign(s.absmax()), out = both.get(NDArrayIndex.interval(0, 640));
        Blockwise.dequantize(s.codes(), am, m, 64, out);
        assertEquals(Blockwise.dequantize(s), out);
    }
}
