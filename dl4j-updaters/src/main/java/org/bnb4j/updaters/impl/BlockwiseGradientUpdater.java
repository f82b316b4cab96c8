package org.bnb4j.updaters.impl;

import org.bnb4j.kernels.ArrayMemory;
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
 * states one after the other as FLOAT. DL4J may merge adjacent parameters into one block, so the
 * layout is derived from the gradient length on first use, never cached across a new view.
 *
 * <p>An 8-bit view starts with a tag word: a fixed 16-bit magic in the high bits (a normal float,
 * never NaN) and a hash of (optimizer, blocksize, block length) in the low bits. A zeroed view is a
 * fresh state and gets the tag on the first step; any other value means the view holds something
 * else (another configuration, a rebuilt or cast state) and the step fails instead of reading garbage.
 */
public class BlockwiseGradientUpdater implements GradientUpdater<BlockwiseUpdaterConfig> {
    /** Key of the whole FLOAT state (32-bit state, or an 8-bit view before its first step). */
    public static final String STATE_KEY = "state";
    /** Keys of an 8-bit state in {@link #getState()}: UINT8 codes [states, n] and FLOAT absmax [states, blocks]. */
    public static final String CODES_KEY = "codes", ABSMAX_KEY = "absmax";

    private final BlockwiseUpdaterConfig config;
    private INDArray view;
    private OptimState8bit state8;

    public BlockwiseGradientUpdater(BlockwiseUpdaterConfig config) {
        this.config = config;
    }

    @Override
    public BlockwiseUpdaterConfig getConfig() {
        return config;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (viewArray != null && viewArray.dataType() != DataType.FLOAT) {
            throw new IllegalStateException(config.getClass().getSimpleName() + " state must be a FLOAT view (8-bit codes are "
                    + "packed into float words), got " + viewArray.dataType() + ": HALF/BFLOAT16/DOUBLE networks are not "
                    + "supported, and convertDataType() cannot carry the packed state");
        }
        this.view = viewArray;
        this.state8 = null;
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
        long need = 1 + OptimState8bit.packedLength(config.kind(), n, config.getBlocksize());
        INDArray v = Nd4j.create(DataType.FLOAT, 1, need);
        v.putScalar(0, Float.intBitsToFloat(expectedTag(n)));
        OptimState8bit packed = OptimState8bit.packed(config.kind(), v.get(NDArrayIndex.point(0), NDArrayIndex.interval(1, need)),
                n, config.getBlocksize());
        packed.packedAbsmax().assign(absmax.reshape(k, nb));
        packed.packedCodes().assign(codes.reshape(k, n));
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
        if (gradient.dataType() != DataType.FLOAT) {
            throw new IllegalStateException(config.getClass().getSimpleName() + " needs FLOAT gradients, got " + gradient.dataType());
        }
        long n = gradient.length();
        OptimHyper h = config.hyper(config.getLearningRate(iteration, epoch), iteration + 1L);
        // DL4J hands a view of its flattened gradient: contiguous views are updated in place (no copy);
        // only a strided gradient is copied and written back.
        INDArray g = ArrayMemory.of(gradient).isContiguous() ? gradient : gradient.dup('c');
        if (config.uses8bit(n)) {
            long need = 1 + OptimState8bit.packedLength(config.kind(), n, config.getBlocksize());
            requireViewLength(need, n);
            INDArray flat = flat(need);
            checkTag(flat, n);
            if (state8 == null || state8.length() != n) {
                state8 = OptimState8bit.packed(config.kind(), flat.get(NDArrayIndex.interval(1, need)), n, config.getBlocksize());
            }
            OptimizerKernels.get().step8bit(h, g, state8);
        } else {
            int k = config.kind().numStates();
            requireViewLength(k * n, n);
            INDArray flat = flat(k * n);
            INDArray[] states = new INDArray[k];
            for (int s = 0; s < k; s++) states[s] = flat.get(NDArrayIndex.interval(s * n, (s + 1) * n));
            OptimizerKernels.get().step32(h, g, states);
        }
        if (g != gradient) gradient.assign(g);
    }

    static final int TAG_MAGIC = 0x3B4E0000; // a normal float (~0.0031) in the high half

    int expectedTag(long n) {
        long h = ((config.kind().ordinal() * 31L + config.getBlocksize()) * 1_000_003L) ^ n;
        h ^= h >>> 16;
        h ^= h >>> 32;
        return TAG_MAGIC | (int) (h & 0xffff);
    }

    private void checkTag(INDArray flat, long n) {
        int expected = expectedTag(n);
        int tag = Float.floatToRawIntBits(flat.getFloat(0));
        if (tag == expected) return;
        if (tag == 0 && state8 == null) {
            flat.putScalar(0, Float.intBitsToFloat(expected));
            return;
        }
        throw new IllegalStateException(config.getClass().getSimpleName() + ": the updater view does not hold this "
                + "updater's 8-bit state for a block of " + n + " parameters (tag " + Integer.toHexString(tag) + ", expected "
                + Integer.toHexString(expected) + "). It may come from another configuration or blocksize, from "
                + "setLearningRate rebuilding the updater blocks, or from convertDataType; re-initialise the updater "
                + "(state is lost) or restore a matching one.");
    }

    private void requireViewLength(long need, long n) {
        if (view.length() < need) {
            throw new IllegalStateException(config.getClass().getSimpleName() + " state view has " + view.length() + " floats; "
                    + n + " parameters need " + need + " (a state from another configuration?)");
        }
    }

    private INDArray flat(long len) {
        INDArray f = view.reshape(view.length());
        return len == f.length() ? f : f.get(NDArrayIndex.interval(0, len));
    }
}
