package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * DL4J's updater view in the network's data type, seen as what the FLOAT kernels need. DL4J (and
 * SameDiff) allocate the view in the data type of the parameters, so a DOUBLE or HALF network hands
 * a DOUBLE or HALF view, and DOUBLE or HALF gradients.
 *
 * <p>8-bit state: the packed layout of {@code OptimState8bit.packed} needs FLOAT words in memory.
 * <ul>
 * <li>FLOAT view: the words are the view's elements (as before).</li>
 * <li>DOUBLE view: the same words over the view's bytes, two per double (an alias, no copy). ND4J
 *   saves a DOUBLE array with {@code writeDouble}, which canonicalises NaN doubles and keeps every
 *   other pattern (ViewDtypeFactsTest). A double is NaN only when its top byte is 0x7f or 0xff; that
 *   byte is byte 3 of a float word, which the NaN-safe packing already keeps off 0x7f/0xff in the code
 *   stream. In the absmax and header words, the double's top byte is that of the float in its high
 *   half, so the double is NaN only if that float is a NaN with its three top mantissa bits set: never
 *   for a finite absmax or +Inf, and the header words are normal floats. So the kernels run unchanged.
 *   The view is sized by {@code stateSize}, which DL4J calls without the data type: with the
 *   config's default {@code viewDataType} (FLOAT) it counts FLOAT words, so a DOUBLE view has twice
 *   the room and uses half of it; {@code viewDataType(DOUBLE)} sizes it exactly.</li>
 * <li>HALF view: the same words over the view's bytes, two halves per word (an alias, no copy), in
 *   the HALF-word form of {@code OptimState8bit.packedInHalfWords}: ND4J saves a HALF array through
 *   float conversion, which turns every half NaN pattern into one canonical NaN and keeps all others
 *   (ViewDtypeFactsTest), so no 16-bit word of the view may be a half NaN: the kernels keep odd code
 *   bytes off the NaN exponent and round block scales, and the updater keeps its header words
 *   half-safe. The config's {@code viewDataType(HALF)} makes {@code stateSize} count halves.</li>
 * <li>BFLOAT16 views are refused for 8-bit state: DL4J 1.0.0-M2.1 cannot train BFLOAT16 networks on
 *   CPU (ViewDtypeFactsTest), so there is nothing to test such a layout against.</li>
 * </ul>
 *
 * <p>32-bit state (optimBits(32), blocks below min8bitSize) on a non-FLOAT view keeps the states as
 * values of the view's type, so everything DL4J does to updater state by value (convertDataType,
 * ParallelWrapper averaging, rebuilding the state array) keeps working: DOUBLE holds each float
 * state exactly (the step is bit for bit the FLOAT one); HALF and BFLOAT16 round the state to their
 * precision after each step, as DL4J's own updaters keep their state on such a network. The step
 * runs on FLOAT copies of at most {@link #CHUNK} elements per state and of the gradient (the 32-bit
 * step is element-wise, so chunks give the same result as one call).
 *
 * <p>The 8-bit step needs the whole gradient as FLOAT (its NaN-safe byte positions follow from the
 * state's length, so it cannot be cut into chunks): a DOUBLE (or strided) gradient is copied into a
 * FLOAT buffer of the block's length kept by the updater (allocated once, outside workspaces, reused
 * every step; not part of the saved state) and the update is copied back: two conversion passes per
 * step, and 4 bytes per parameter held beside the view.
 */
final class PackedView {
    /** Elements per state converted at a time by the typed 32-bit step (4 MiB per FLOAT buffer). */
    static final long CHUNK = 1L << 20;

    /** {@link #CHUNK}, smaller in tests. */
    long chunk = CHUNK;

    private INDArray gradientBuffer;   // the 8-bit step's FLOAT gradient (block length)
    private INDArray[] chunkBuffers;   // the typed 32-bit step's FLOAT chunks: states 0..k-1, then the gradient

    /** Throws unless the view's data type can hold this updater's state. */
    static void checkType(String who, INDArray view) {
        if (view == null) return;
        switch (view.dataType()) {
            case FLOAT: case DOUBLE: case HALF: case BFLOAT16: return;
            default:
                throw new IllegalStateException(who + " state must be a FLOAT, DOUBLE, HALF or BFLOAT16 view (the network's "
                        + "floating point type), got " + view.dataType());
        }
    }

    /**
     * Percentile clipping keeps squared gradient norms in the view; a 16-bit view would overflow them
     * (HALF's largest value is 65504) or round them too coarsely to rank, so it needs FLOAT or DOUBLE.
     */
    static void requireClippingType(String who, DataType t) {
        if (t == DataType.HALF || t == DataType.BFLOAT16) {
            throw new IllegalStateException(who + ": percentileClipping keeps a gradient-norm history in the updater view, "
                    + "which a " + t + " view cannot hold (squared norms overflow or lose their order); train in FLOAT or "
                    + "DOUBLE, or use percentileClipping(100) with DL4J's GradientNormalization on the layer.");
        }
    }

    /**
     * The first {@code len} FLOAT words of the view for a packed 8-bit state of {@code n} parameters:
     * the view itself (FLOAT) or an alias of its memory (DOUBLE, HALF).
     */
    static INDArray words(String who, DataType configured, INDArray view, long len, long n) {
        DataType t = view.dataType();
        if (t == DataType.BFLOAT16) {
            throw new IllegalStateException(who + ": 8-bit state cannot be kept in a BFLOAT16 updater view (DL4J 1.0.0-M2.1 "
                    + "cannot train BFLOAT16 networks on CPU; a view cast by convertDataType(BFLOAT16) no longer holds the "
                    + "packed state). Use optimBits(32), or train in FLOAT, DOUBLE or HALF.");
        }
        if (!ArrayMemory.of(view).isContiguous()) throw new IllegalStateException(who + " state view must be contiguous");
        long have = t == DataType.DOUBLE ? 2 * view.length() : t == DataType.HALF ? view.length() / 2 : view.length();
        if (have < len) {
            String hint = t == DataType.HALF && configured != DataType.HALF
                    ? " A HALF network needs viewDataType(DataType.HALF) on the updater config: DL4J sizes the view with "
                    + "stateSize(n), which is not told the data type. (A view cast by convertDataType(HALF) no longer holds "
                    + "the packed state either way: re-initialise the updater.)"
                    : " (a state from another configuration, or another viewDataType?)";
            throw new IllegalStateException(who + " state view has " + view.length() + " " + t + " elements (" + have
                    + " float words); " + n + " parameters need " + len + " float words." + hint);
        }
        if (t == DataType.FLOAT) {
            INDArray f = view.reshape(view.length());
            return len == f.length() ? f : f.get(NDArrayIndex.interval(0, len));
        }
        return HostBuffers.aliasFloats(view, 0, len);
    }

    /**
     * The gradient as a contiguous FLOAT array: itself when it is one, else this updater's buffer
     * (the block's length) holding a copy; {@link #writeBack} returns the update.
     */
    INDArray floatGradient(INDArray gradient) {
        if (gradient.dataType() == DataType.FLOAT && ArrayMemory.of(gradient).isContiguous()) return gradient;
        long n = gradient.length();
        if (gradientBuffer == null || gradientBuffer.length() != n) gradientBuffer = allocate(n);
        gradientBuffer.assign(gradient.reshape(n));
        return gradientBuffer;
    }

    /** Copies the update back into DL4J's gradient when {@link #floatGradient} made a copy (rounding to its type). */
    void writeBack(INDArray gradient, INDArray g) {
        if (g != gradient) gradient.assign(g.reshape(gradient.shape()));
    }

    /**
     * The 32-bit step: {@code flat} holds the k states, n values each, one after the other, in the
     * view's type. A FLOAT view is stepped in place (the gradient through {@link #floatGradient});
     * other types go chunk by chunk through FLOAT buffers, gradient included, so the memory this
     * costs is bounded by {@link #chunk} elements per state whatever the block length.
     */
    void step32(OptimizerKernels kernels, OptimHyper h, INDArray gradient, INDArray flat, int k, long n) {
        if (flat.dataType() == DataType.FLOAT) {
            INDArray g = floatGradient(gradient);
            INDArray[] states = new INDArray[k];
            for (int s = 0; s < k; s++) states[s] = flat.get(NDArrayIndex.interval(s * n, (s + 1) * n));
            kernels.step32(h, g, states);
            writeBack(gradient, g);
            return;
        }
        long c = Math.min(n, chunk);
        if (chunkBuffers == null || chunkBuffers.length != k + 1 || chunkBuffers[0].length() != c) {
            chunkBuffers = new INDArray[k + 1];
            for (int s = 0; s <= k; s++) chunkBuffers[s] = allocate(c);
        }
        boolean contiguous = ArrayMemory.of(gradient).isContiguous();
        // a C-contiguous array reshapes to a view of the same memory; a strided one is copied and written back
        INDArray gv = contiguous ? gradient.reshape(n) : gradient.dup('c').reshape(n);
        INDArray[] states = new INDArray[k], typed = new INDArray[k];
        for (long a = 0; a < n; a += c) {
            long len = Math.min(c, n - a);
            INDArray gc = len == n ? gv : gv.get(NDArrayIndex.interval(a, a + len));
            INDArray g = len == c ? chunkBuffers[k] : chunkBuffers[k].get(NDArrayIndex.interval(0, len));
            g.assign(gc);
            for (int s = 0; s < k; s++) {
                states[s] = len == c ? chunkBuffers[s] : chunkBuffers[s].get(NDArrayIndex.interval(0, len));
                typed[s] = flat.get(NDArrayIndex.interval(s * n + a, s * n + a + len));
                states[s].assign(typed[s]);
            }
            kernels.step32(h, g, states);
            for (int s = 0; s < k; s++) typed[s].assign(states[s]);
            gc.assign(g);
        }
        if (!contiguous) gradient.assign(gv.reshape(gradient.shape()));
    }

    /** A FLOAT vector that outlives the step: DL4J runs applyUpdater inside its workspaces. */
    private static INDArray allocate(long n) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.create(DataType.FLOAT, n);
        }
    }
}
