package org.bnb4j.updaters.impl;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimState8bit;
import org.bnb4j.optim.OptimizerKernels;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.Map;

/**
 * The GradientUpdater of every {@link BlockwiseUpdaterConfig}. All state lives in DL4J's updater
 * view array (so save/restore, clone and convertDataType see it): 8-bit blocks in the NaN-safe
 * packed layout of {@link OptimState8bit#packed}, or, below min8bitSize / with optimBits=32, the
 * states one after the other as values of the view's type (DOUBLE and HALF networks hand views of
 * their own type: {@link PackedView} says what each supports). DL4J may merge adjacent parameters
 * into one block, so the layout is derived from the gradient length on first use, never cached
 * across a new view.
 *
 * <p>An 8-bit view starts with two header words, both normal floats (never NaN, so they survive
 * ModelSerializer). The tag: a fixed 16-bit magic in the high bits and a hash of (optimizer,
 * blocksize, block length) in the low bits. The checksum: 0x3F800000 | 23 bits of
 * {@link OptimizerKernels#absmaxChecksum} of the state's block scales after the last step. A zeroed
 * view is a fresh state and gets both on the first step. A wrong tag means the view holds something
 * else (another configuration, a rebuilt or cast state); a wrong checksum means the state was
 * changed outside the step (averaged by ParallelWrapper, edited). Either way the step fails with an
 * explanation instead of reading garbage.
 */
public class BlockwiseGradientUpdater implements GradientUpdater<BlockwiseUpdaterConfig> {
    /** Key of the whole FLOAT state (32-bit state, or an 8-bit view before its first step). */
    public static final String STATE_KEY = "state";
    /** Keys of an 8-bit state in {@link #getState()}: UINT8 codes [states, n] and FLOAT absmax [states, blocks]. */
    public static final String CODES_KEY = "codes", ABSMAX_KEY = "absmax";

    /** Words before the packed 8-bit state: tag, checksum. */
    public static final int HEADER_WORDS = 2;

    private final BlockwiseUpdaterConfig config;
    private INDArray view;
    private OptimState8bit state8;
    private INDArray flat;
    private boolean flatWords;
    private final PackedView packing = new PackedView();

    public BlockwiseGradientUpdater(BlockwiseUpdaterConfig config) {
        this.config = config;
    }

    @Override
    public BlockwiseUpdaterConfig getConfig() {
        return config;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        PackedView.checkType(config.getClass().getSimpleName(), viewArray);
        this.view = viewArray;
        this.state8 = null;
        this.flat = null;
        if (initialize && viewArray != null) viewArray.assign(0);
    }

    /**
     * Accepts what {@link #getState()} returns (SameDiff's load path): {"codes" UINT8 [states, n],
     * "absmax" FLOAT [states, blocks]} is copied into a new packed view; {"state" FLOAT} is used as the view.
     */
    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (stateMap == null || stateMap.isEmpty()) {
            setStateViewArray(null, null, 'c', initialize);
            return;
        }
        String who = config.getClass().getSimpleName();
        if (stateMap.size() == 1 && stateMap.containsKey(STATE_KEY)) {
            INDArray s = stateMap.get(STATE_KEY);
            setStateViewArray(s, s.shape(), 'c', initialize);
            return;
        }
        INDArray codes = stateMap.get(CODES_KEY), absmax = stateMap.get(ABSMAX_KEY);
        if (codes == null || absmax == null || stateMap.size() != 2) {
            throw new IllegalStateException(who + ": expected state arrays '" + CODES_KEY + "' and '" + ABSMAX_KEY + "' (or '"
                    + STATE_KEY + "'), got " + stateMap.keySet() + " (a state saved by another updater?)");
        }
        int k = config.kind().numStates();
        if (codes.dataType() != DataType.UBYTE && codes.dataType() != DataType.UINT8) {
            throw new IllegalStateException(who + ": '" + CODES_KEY + "' must be UINT8, got " + codes.dataType());
        }
        if (absmax.dataType() != DataType.FLOAT) throw new IllegalStateException(who + ": '" + ABSMAX_KEY + "' must be FLOAT, got " + absmax.dataType());
        if (codes.rank() != 2 || codes.size(0) != k) {
            throw new IllegalStateException(who + " keeps " + k + " state(s), but '" + CODES_KEY + "' has shape "
                    + java.util.Arrays.toString(codes.shape()) + " (a state of another optimizer?)");
        }
        long n = codes.size(1), nb = org.bnb4j.quant.Blockwise.numBlocks(n, config.getBlocksize());
        if (absmax.length() != k * nb) {
            throw new IllegalStateException(who + ": '" + ABSMAX_KEY + "' has " + absmax.length() + " values, blocksize "
                    + config.getBlocksize() + " needs " + k * nb + " (a state saved with another blocksize?)");
        }
        long need = HEADER_WORDS + OptimState8bit.packedLength(config.kind(), n, config.getBlocksize());
        INDArray v = Nd4j.create(DataType.FLOAT, 1, need);
        v.putScalar(0, Float.intBitsToFloat(expectedTag(n)));
        OptimState8bit packed = OptimState8bit.packed(config.kind(),
                v.get(NDArrayIndex.point(0), NDArrayIndex.interval(HEADER_WORDS, need)), n, config.getBlocksize());
        packed.packedAbsmax().assign(absmax.reshape(k, nb));
        packed.packedCodes().assign(codes.reshape(k, n));
        v.putScalar(1, checksumWord(OptimizerKernels.get().absmaxChecksum(packed)));
        setStateViewArray(v, v.shape(), 'c', false);
    }

    /**
     * For SameDiff (which saves what this returns): an 8-bit state as real arrays aliasing the view,
     * UINT8 codes [states, n] (bytes at word position 3 in the NaN-safe form) and FLOAT absmax
     * [states, blocks]; otherwise the FLOAT view itself under "state".
     */
    @Override
    public Map<String, INDArray> getState() {
        if (view == null) return Map.of();
        if (state8 == null) return Map.of(STATE_KEY, view);
        return Map.of(CODES_KEY, state8.packedCodes(), ABSMAX_KEY, state8.packedAbsmax());
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (view == null) throw new IllegalStateException(config.getClass().getSimpleName() + " updater has no state view");
        long n = gradient.length();
        OptimHyper h = config.hyper(config.getLearningRate(iteration, epoch), iteration + 1L);
        if (config.uses8bit(n)) {
            // DL4J hands a view of its flattened gradient: contiguous FLOAT views are updated in place (no
            // copy); a strided gradient, or one of a DOUBLE network, goes through a FLOAT buffer.
            INDArray g = packing.floatGradient(gradient);
            long need = HEADER_WORDS + OptimState8bit.packedLength(config.kind(), n, config.getBlocksize());
            INDArray flat = words(need, n);
            boolean fresh = checkTag(flat, n);
            if (state8 == null || state8.length() != n) {
                state8 = OptimState8bit.packed(config.kind(), flat.get(NDArrayIndex.interval(HEADER_WORDS, need)), n, config.getBlocksize());
            }
            OptimizerKernels kernels = OptimizerKernels.get();
            if (!fresh) checkChecksum(flat, kernels.absmaxChecksum(state8));
            kernels.step8bit(h, g, state8);
            flat.putScalar(1, checksumWord(kernels.absmaxChecksum(state8)));
            packing.writeBack(gradient, g);
        } else {
            int k = config.kind().numStates();
            requireViewLength(k * n, n);
            // FLOAT view: in place; DOUBLE/HALF view: states kept as values of that type (PackedView)
            packing.step32(OptimizerKernels.get(), h, gradient, flat(k * n), k, n);
        }
    }

    static final int TAG_MAGIC = 0x3B4F0000; // a normal float (~0.0032) in the high half; layout 2 (with checksum)
    static final int CHECKSUM_BITS = 0x7FFFFF;

    /** A checksum as a float in [1, 2): never NaN, kept bit for bit by every save path. */
    static float checksumWord(int checksum) {
        return Float.intBitsToFloat(0x3F800000 | (checksum & CHECKSUM_BITS));
    }

    int expectedTag(long n) {
        long h = ((config.kind().ordinal() * 31L + config.getBlocksize()) * 1_000_003L) ^ n;
        h ^= h >>> 16;
        h ^= h >>> 32;
        return TAG_MAGIC | (int) (h & 0xffff);
    }

    /** @return true for a fresh (zeroed) view, which gets its tag now. */
    private boolean checkTag(INDArray flat, long n) {
        int expected = expectedTag(n);
        int tag = Float.floatToRawIntBits(flat.getFloat(0));
        if (tag == expected) return false;
        // fresh only if both header words are zero: a cast view (convertDataType FLOAT -> DOUBLE) can
        // leave a zero tag word, but never a zero checksum word beside it
        if (tag == 0 && Float.floatToRawIntBits(flat.getFloat(1)) == 0 && state8 == null) {
            flat.putScalar(0, Float.intBitsToFloat(expected));
            return true;
        }
        throw new IllegalStateException(config.getClass().getSimpleName() + ": the updater view does not hold this "
                + "updater's 8-bit state for a block of " + n + " parameters (tag " + Integer.toHexString(tag) + ", expected "
                + Integer.toHexString(expected) + "). It may come from another configuration or blocksize, from "
                + "setLearningRate rebuilding the updater blocks, or from convertDataType; re-initialise the updater "
                + "(state is lost) or restore a matching one.");
    }

    private void checkChecksum(INDArray flat, int checksum) {
        int stored = Float.floatToRawIntBits(flat.getFloat(1));
        if (stored == Float.floatToRawIntBits(checksumWord(checksum))) return;
        throw new IllegalStateException(config.getClass().getSimpleName() + ": the 8-bit state in the updater view was "
                + "changed outside the updater (its block scales no longer match the checksum written by the last step: "
                + "stored " + Integer.toHexString(stored) + ", computed " + Integer.toHexString(Float.floatToRawIntBits(checksumWord(checksum)))
                + "). Packed 8-bit state cannot be averaged or edited: with ParallelWrapper use averageUpdaters(false) or "
                + "optimBits(32); otherwise re-initialise the updater (state is lost) or restore a saved one.");
    }

    private void requireViewLength(long need, long n) {
        if (view.length() < need) {
            throw new IllegalStateException(config.getClass().getSimpleName() + " state view has " + view.length() + " floats; "
                    + n + " parameters need " + need + " (a state from another configuration?)");
        }
    }

    /** The first len elements of the view as a vector; kept while view and len stay (a view costs ~30 us). */
    private INDArray flat(long len) {
        if (flat == null || flatWords || flat.length() != len) {
            INDArray f = view.reshape(view.length());
            flat = len == f.length() ? f : f.get(NDArrayIndex.interval(0, len));
            flatWords = false;
        }
        return flat;
    }

    /** The first len FLOAT words of the view (for a DOUBLE view an alias of its memory, see PackedView); kept likewise. */
    private INDArray words(long len, long n) {
        if (flat == null || !flatWords || flat.length() != len) {
            flat = PackedView.words(config.getClass().getSimpleName(), view, len, n);
            flatWords = true;
        }
        return flat;
    }
}
