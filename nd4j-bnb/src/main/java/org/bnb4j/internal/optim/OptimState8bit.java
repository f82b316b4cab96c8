package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimKind;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Where the 8-bit block-wise state of one parameter vector lives: the codes of each state of the
 * optimizer ({@link OptimKind#states()}: its map and sign rule), plus one FLOAT absmax per block and
 * state. Either in separate UINT8/FLOAT arrays ({@link #allocate}), or packed into one
 * FLOAT array ({@link #packed}) such as DL4J's updater view, NaN-safe so that ModelSerializer's
 * float writes keep every bit.
 */
public final class OptimState8bit {
    final OptimKind kind;
    final long n;
    final int blocksize;
    /** Addresses of each state's codes and block scales, in the order of {@link OptimKind#states()}. */
    final long[] codes, absmax;
    final int bytePhase;                           // -1: plain bytes; else NaN-safe from this word position (see StateCodec)
    private final INDArray[] owners;

    private OptimState8bit(OptimKind kind, long n, int blocksize, long[] codes, long[] absmax, int bytePhase, INDArray... owners) {
        this.kind = kind;
        this.n = n;
        this.blocksize = blocksize;
        this.codes = codes;
        this.absmax = absmax;
        this.bytePhase = bytePhase;
        this.owners = owners;
    }

    /** Number of FLOAT words {@link #packed} needs for n parameters. */
    public static long packedLength(OptimKind kind, long n, int blocksize) {
        long nb = Blockwise.numBlocks(n, blocksize);
        return kind.numStates() * nb + (kind.numStates() * n + 3) / 4;
    }

    /**
     * State packed into a FLOAT array of {@link #packedLength} elements: the absmax values of each
     * state first (state 1, 2, 3), then the code bytes of state 1, 2, 3 as one NaN-safe byte stream.
     * A zero-filled array is a valid initial state (all codes decode to 0 with absmax 0).
     */
    public static OptimState8bit packed(OptimKind kind, INDArray view, long n, int blocksize) {
        return packed(kind, view, n, blocksize, 0);
    }

    /**
     * {@link #packed} for FLOAT words that lie over the memory of a HALF array (a HALF network's
     * updater view, seen through a FLOAT alias): the same layout, NaN-safe as 16-bit words. Every
     * odd byte of the code stream keeps off the half NaN exponent (eight codes of the top of the maps
     * are not used there) and block scales are rounded up so that neither half of their word is a
     * half NaN (at most 1.2e-4 relative; saturating at 2^121). ND4J saves a HALF array through
     * float conversion, which turns every half NaN pattern into one, and keeps all others.
     */
    public static OptimState8bit packedInHalfWords(OptimKind kind, INDArray view, long n, int blocksize) {
        return packed(kind, view, n, blocksize, StateCodec.HALF_WORDS);
    }

    private static OptimState8bit packed(OptimKind kind, INDArray view, long n, int blocksize, int phase) {
        if (kind == null) throw new IllegalArgumentException("optimizer kind is null");
        if (view == null) throw new IllegalArgumentException("packed 8-bit state array is null");
        Blockwise.checkPowerOfTwoBlocksize(blocksize);
        if (view.dataType() != DataType.FLOAT) throw new IllegalArgumentException("packed 8-bit state needs a FLOAT array, got " + view.dataType());
        long need = packedLength(kind, n, blocksize);
        if (view.length() != need) throw new IllegalArgumentException("packed 8-bit state for " + n + " parameters needs " + need + " floats, got " + view.length());
        ArrayMemory m = ArrayMemory.of(view);
        if (!m.isContiguous()) throw new IllegalArgumentException("packed 8-bit state must be contiguous");
        long nb = Blockwise.numBlocks(n, blocksize);
        int k = kind.numStates();
        long[] codes = new long[k], absmax = new long[k];
        for (int s = 0; s < k; s++) {
            absmax[s] = m.address() + 4L * s * nb;
            codes[s] = m.address() + 4L * k * nb + s * n;
        }
        return new OptimState8bit(kind, n, blocksize, codes, absmax, phase, view);
    }

    /** The arrays the state lives in (the packed view, or each state's codes and absmax): for the CUDA kernels. */
    INDArray[] owners() {
        return owners.clone();
    }

    /** State in its own arrays: UINT8 codes and FLOAT absmax per state (e.g. for SameDiff). */
    public static OptimState8bit allocate(OptimKind kind, long n, int blocksize) {
        if (kind == null) throw new IllegalArgumentException("optimizer kind is null");
        Blockwise.checkPowerOfTwoBlocksize(blocksize);
        long nb = Blockwise.numBlocks(n, blocksize);
        int k = kind.numStates();
        // zero absmax: every code decodes to (+-)0, the initial state
        INDArray[] owners = new INDArray[2 * k];
        long[] codes = new long[k], absmax = new long[k];
        for (int s = 0; s < k; s++) {
            owners[2 * s] = Nd4j.create(DataType.UBYTE, n);
            owners[2 * s + 1] = Nd4j.create(DataType.FLOAT, nb);
            codes[s] = addr(owners[2 * s]);
            absmax[s] = addr(owners[2 * s + 1]);
        }
        return new OptimState8bit(kind, n, blocksize, codes, absmax, -1, owners);
    }

    private static long addr(INDArray a) {
        return a.length() == 0 ? 0 : ArrayMemory.of(a).address();
    }

    /** For a packed state: the code bytes of all states as UINT8 [states, n], aliasing the packed array. */
    public INDArray packedCodes() {
        long k = kind.numStates(), nb = Blockwise.numBlocks(n, blocksize);
        return HostBuffers.aliasBytes(packedArray(), 4L * k * nb, k * n).reshape(k, n);
    }

    /** For a packed state: the absmax values of all states as FLOAT [states, blocks], a view of the packed array. */
    public INDArray packedAbsmax() {
        long k = kind.numStates(), nb = Blockwise.numBlocks(n, blocksize);
        INDArray p = packedArray();
        return p.reshape(p.length()).get(NDArrayIndex.interval(0, k * nb)).reshape(k, nb);
    }

    private INDArray packedArray() {
        if (bytePhase < 0) throw new IllegalStateException("not a packed state (allocated in separate arrays)");
        return owners[0];
    }

    /**
     * The block scale a step on a {@link #packedInHalfWords} state stores for a block whose largest
     * magnitude is m: m rounded up so that neither 16-bit half of the word is a half NaN.
     */
    public static float halfWordScale(float m) {
        return StateCodec.halfWordScale(m);
    }

    /**
     * Decodes this state into FLOAT values: one contiguous FLOAT array of {@link #length()} elements
     * per state, in the order of {@link OptimKind} (Adam: m, v; AdEMAMix: m1, v, m2). These are the
     * values the next step starts from. With {@link #requantize} this is how state is moved between
     * updaters by value, e.g. averaged across data-parallel workers.
     */
    public void dequantize(INDArray... values) {
        StateRequantizer.dequantize(this, values);
    }

    /**
     * Overwrites this state (codes and block scales) with the 8-bit encoding of FLOAT values, one
     * contiguous array per state as {@link #dequantize} gives them: exactly the bytes a step writes
     * when it produces these values (the same block scale, code search, sign fix where the descriptor asks for it
     * and NaN-safe byte forms), so the state stays valid for the kernels, native or Java. Java only.
     * A caller that keeps a checksum of the scales (the DL4J updater) must renew it afterwards.
     */
    public void requantize(INDArray... values) {
        StateRequantizer.quantize(this, values);
    }

    /** True for a state packed by {@link #packedInHalfWords}. */
    public boolean inHalfWords() { return StateCodec.isHalfWords(bytePhase); }

    /** The map of state s's codes (its descriptor's). */
    QuantMap map(int s) { return kind.state(s).map(); }

    public OptimKind kind() { return kind; }
    /** Address of state s's first code byte (codes of block b start blocksize * b bytes further on). */
    public long codesAddress(int s) { return codes[s]; }
    public long length() { return n; }
    public int blocksize() { return blocksize; }
    /** The arrays holding this state (the packed view, or codes1, absmax1[, codes2, absmax2[, codes3, absmax3]]). */
    public INDArray[] arrays() { return owners.clone(); }
}
