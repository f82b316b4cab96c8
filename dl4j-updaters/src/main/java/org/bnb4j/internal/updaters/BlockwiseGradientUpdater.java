package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.KernelProvider;

import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
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
 * explanation instead of reading garbage. In a HALF view both words are also valid as two halves (no
 * half NaN): the tag has its own magic and bit 14 clear, the checksum keeps 22 bits.
 */
public class BlockwiseGradientUpdater implements GradientUpdater<BlockwiseUpdaterConfig> {
    /** Key of the whole FLOAT state (32-bit state, or an 8-bit view before its first step). */
    public static final String STATE_KEY = "state";
    /** Keys of an 8-bit state in {@link #getState()}: UINT8 codes [states, n] and FLOAT absmax [states, blocks]. */
    public static final String CODES_KEY = "codes", ABSMAX_KEY = "absmax";
    /**
     * Key of the integrity words saved beside an 8-bit state (INT [3]: format, checksum of the block
     * scales, CRC32 of the code bytes), so that a load detects a state edited in the saved file.
     */
    public static final String CHECK_KEY = "check";
    /** Key of the gradient-norm history (FLOAT [100]) of an 8-bit state with percentile clipping. */
    public static final String GNORM_KEY = "gnorm";
    /** "check" formats: the codes are in the FLOAT-word form, or in the HALF-word form (a HALF view's state). */
    static final int CHECK_FORMAT = 1, CHECK_FORMAT_HALF_WORDS = 2;

    /** Words before the packed 8-bit state: tag, checksum. */
    public static final int HEADER_WORDS = 2;

    private static final Logger log = LoggerFactory.getLogger(BlockwiseGradientUpdater.class);

    private final BlockwiseUpdaterConfig config;
    private INDArray view;
    private OptimState8bit state8;
    private INDArray flat;
    private boolean flatWords;
    private final PackedView packing = new PackedView();
    private List<INDArray> parameters;   // for maxUnorm: the parameters this updater's gradient belongs to
    private final PagedState paging;     // null unless config.paged
    /** Gradient length of this updater's last step (-1 before the first): a state is made for one length. */
    private long stepLength = -1;
    /** Length of a 32-bit state given as a state map (SameDiff's load path), checked against stateSize at the first step; -1 otherwise. */
    private long mapStateLength = -1;

    public BlockwiseGradientUpdater(BlockwiseUpdaterConfig config) {
        this.config = config;
        this.paging = config.isPaged() ? new PagedState(config.getClass().getSimpleName(), config.getPagedDirectory()) : null;
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
        this.stepLength = -1;
        this.mapStateLength = -1;
        // paged: a new view is mapped to a zero file (never touched, so never resident as a whole)
        boolean zeroed = paging != null && paging.attach(viewArray, initialize);
        if (initialize && viewArray != null && !zeroed) viewArray.assign(0);
    }

    /** Bytes of this updater's view that are paged to a file (0 when not paged). */
    public long pagedBytes() {
        return paging == null ? 0 : paging.pagedBytes();
    }

    /**
     * Accepts what {@link #getState()} returns (SameDiff's load path): {"codes" UINT8 [states, n],
     * "absmax" FLOAT [states, blocks], "check" INT [3]} is validated and copied into a new packed view;
     * {"state" FLOAT} is used as the view. A state saved before "check" existed (codes and absmax
     * only) is accepted after the value checks. Anything inconsistent fails with an
     * IllegalStateException that says what is wrong: nothing is trained on a tampered state.
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
            if (s == null) throw new IllegalStateException(who + ": state array '" + STATE_KEY + "' is null");
            setStateViewArray(s, s.shape(), 'c', initialize);
            mapStateLength = s.length();   // one variable's state: exactly stateSize(n) of this config, checked at the first step
            return;
        }
        INDArray codes = stateMap.get(CODES_KEY), absmax = stateMap.get(ABSMAX_KEY), check = stateMap.get(CHECK_KEY);
        INDArray gnorm = stateMap.get(GNORM_KEY);
        int expectedKeys = 2 + (check == null ? 0 : 1) + (gnorm == null ? 0 : 1);
        if (codes == null || absmax == null || stateMap.size() != expectedKeys) {
            throw new IllegalStateException(who + ": expected state arrays '" + CODES_KEY + "', '" + ABSMAX_KEY + "' and '"
                    + CHECK_KEY + "' (or '" + STATE_KEY + "'), got " + stateMap.keySet() + " (a state saved by another updater?)");
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
        boolean half = check != null && StateIntegrity.format(who, check) == CHECK_FORMAT_HALF_WORDS;
        StateIntegrity.requireValidScales(who, absmax, half);
        long need = config.eightBitWords(n);
        int clipWords = config.clippingWords();
        if (half && clipWords > 0) PackedView.requireClippingType(who, DataType.HALF);
        // the view in the form the state was saved in: FLOAT words, or HALF words (a HALF network's)
        INDArray v = half ? Nd4j.create(DataType.HALF, 1, 2 * need) : Nd4j.create(DataType.FLOAT, 1, need + clipWords);
        INDArray words = half ? HostBuffers.aliasFloats(v, 0, need) : v.reshape(need + clipWords);
        words.putScalar(0, Float.intBitsToFloat(expectedTag(n, half)));
        if (gnorm != null && clipWords > 0) {
            if (gnorm.length() != clipWords || !gnorm.dataType().isFPType()) {
                throw new IllegalStateException(who + ": '" + GNORM_KEY + "' must hold " + clipWords + " floats, got "
                        + gnorm.dataType() + " " + java.util.Arrays.toString(gnorm.shape()));
            }
            v.get(NDArrayIndex.point(0), NDArrayIndex.interval(need, need + clipWords)).assign(gnorm.reshape(clipWords));
        }
        OptimState8bit packed = packedState(words.get(NDArrayIndex.interval(HEADER_WORDS, need)), n, half);
        packed.packedAbsmax().assign(absmax.reshape(k, nb));
        packed.packedCodes().assign(codes.reshape(k, n));
        int checksum = KernelProvider.get().optimizerKernels().absmaxChecksum(packed);
        if (check != null) StateIntegrity.verify(who, check, checksum, packed);
        words.putScalar(1, checksumWord(checksum, half));
        setStateViewArray(v, v.shape(), 'c', false);
        // getState() must give codes/absmax again (not the raw view) before the first step
        this.flat = words;
        this.flatWords = half;
        this.state8 = packed;
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
        int word = Float.floatToRawIntBits(flat.getFloat(1)), checksum = word & CHECKSUM_BITS;
        if (state8.inHalfWords()) {
            // the word keeps 22 bits; the file keeps all 23 (when the word matches the scales)
            int full = KernelProvider.get().optimizerKernels().absmaxChecksum(state8);
            if (Float.floatToRawIntBits(checksumWord(full, true)) == word) checksum = full & CHECKSUM_BITS;
        }
        INDArray codes = state8.packedCodes(), absmax = state8.packedAbsmax();
        INDArray check = StateIntegrity.checkArray(state8.inHalfWords() ? CHECK_FORMAT_HALF_WORDS : CHECK_FORMAT, checksum, state8);
        int clipWords = config.clippingWords();
        if (clipWords == 0) return Map.of(CODES_KEY, codes, ABSMAX_KEY, absmax, CHECK_KEY, check);
        long stateWords = config.eightBitWords(state8.length());
        return Map.of(CODES_KEY, codes, ABSMAX_KEY, absmax, CHECK_KEY, check,
                GNORM_KEY, flat.get(NDArrayIndex.interval(stateWords, stateWords + clipWords)));
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (gradient == null) throw new IllegalArgumentException(config.getClass().getSimpleName() + ": gradient is null");
        if (view == null) throw new IllegalStateException(config.getClass().getSimpleName() + " updater has no state view");
        requireLiveAndApart(gradient);
        long n = gradient.length();
        requireSameLength(n);
        // DL4J counts iterations from 0 and its own updaters accept -1 (used before the first fit):
        // steps before the first count as the first (bias corrections are undefined at t = 0).
        long t = Math.max(1L, iteration + 1L);
        // before anything is touched: a schedule's bad rate leaves gradient and state as they were
        OptimHyper h = config.hyper(config.learningRateAt(iteration, epoch), t);
        boolean stream = paging != null && paging.beginStep();
        if (!config.isUpdateBound()) h = h.withoutUpdateBound();
        int clipWords = config.clippingWords();
        if (config.uses8bit(n)) {
            // DL4J hands a view of its flattened gradient: contiguous FLOAT views are updated in place (no
            // copy); a strided gradient, or one of a DOUBLE network, goes through a FLOAT buffer.
            boolean half = view.dataType() == DataType.HALF;
            if (clipWords > 0) PackedView.requireClippingType(config.getClass().getSimpleName(), view.dataType());
            INDArray g = packing.floatGradient(gradient);
            long stateWords = config.eightBitWords(n);
            INDArray flat = words(stateWords + clipWords, n);
            boolean fresh = checkTag(flat, n, half);
            if (fresh && iteration > 0) logFreshMidTraining(n, iteration);
            if (state8 == null || state8.length() != n) {
                state8 = packedState(flat.get(NDArrayIndex.interval(HEADER_WORDS, stateWords)), n, half);
            }
            OptimizerKernels kernels = KernelProvider.get().optimizerKernels();
            if (!fresh) checkChecksum(flat, kernels.absmaxChecksum(state8), half);
            clip(g, flat, stateWords, t);
            if (stream) paging.step8bitStreamed(kernels, h, g, state8);
            else kernels.step8bit(h, g, state8);
            flat.putScalar(1, checksumWord(kernels.absmaxChecksum(state8), half));
            if (config.getMaxUnorm() > 0) limitUpdateNorm(g, h);
            packing.writeBack(gradient, g);
        } else {
            int k = config.kind().numStates();
            long stateWords = k * n;
            requireViewLength(stateWords + clipWords, n);
            INDArray flat = flat(stateWords + clipWords);
            if (clipWords > 0) {
                PackedView.requireClippingType(config.getClass().getSimpleName(), view.dataType());
                clip(gradient, flat, stateWords, t);
            }
            // FLOAT view: in place; DOUBLE/HALF view: states kept as values of that type (PackedView)
            INDArray states = clipWords > 0 ? flat.get(NDArrayIndex.interval(0, stateWords)) : flat;
            if (stream && PagedState.canStream32(gradient, states)) paging.step32Streamed(KernelProvider.get().optimizerKernels(), h, gradient, states, k, n);
            else packing.step32(KernelProvider.get().optimizerKernels(), h, gradient, states, k, n);
            if (config.getMaxUnorm() > 0) limitUpdateNorm(gradient, h);
        }
        stepLength = n;
    }

    /**
     * Every step checks the memory afresh: the state's addresses are kept from step to step, so a view
     * closed since (or whose parent was), or one in a workspace closed since, would be read and written
     * as freed or reused memory; a gradient over the state's memory would be read while the step writes it.
     */
    private void requireLiveAndApart(INDArray gradient) {
        String who = config.getClass().getSimpleName();
        live(view, who + " updater's state view");
        live(gradient, who + " gradient");
        // host addresses only on a host backend (on CUDA, asking for one may allocate a host copy)
        if (!org.bnb4j.internal.cuda.CudaBackend.activeBackendIsCuda() && ArrayMemory.overlaps(ArrayMemory.of(view), ArrayMemory.of(gradient))) {
            throw new IllegalArgumentException(who + ": the gradient shares memory with the updater's state view: pass separate arrays");
        }
    }

    private static void live(INDArray arr, String what) {
        try {
            ArrayMemory.requireLive(arr);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * A state is laid out for one parameter count: a gradient of another length (a SameDiff variable or a
     * layer resized after training started) would read the states misaligned, or packed 8-bit words as
     * floats, and train on garbage (DL4J's own updaters refuse it too). A state map's 32-bit array must
     * be exactly this config's size for the gradient (another optimizer's state has another size).
     */
    private void requireSameLength(long n) {
        String who = config.getClass().getSimpleName();
        if (stepLength >= 0 && n != stepLength) {
            throw new IllegalStateException(who + ": this updater's state was made for " + stepLength + " parameters, the gradient has "
                    + n + " (a variable or layer resized after training started?); re-create the updater (state is lost)");
        }
        // stateSize(n), or the plain 32-bit layout that states saved before small parameters reserved more have
        long plain32 = config.kind().numStates() * n + config.clippingWords();
        if (stepLength < 0 && mapStateLength >= 0 && !config.uses8bit(n) && mapStateLength != config.stateSize(n) && mapStateLength != plain32) {
            throw new IllegalStateException(who + ": the state array holds " + mapStateLength + " values, " + n + " parameters need "
                    + config.stateSize(n) + " (a state of another optimizer or configuration, or of a variable of another size?)");
        }
    }

    /**
     * The 8-bit state this updater keeps in its view for a block of {@code n} parameters (DL4J's
     * UpdaterBlock: paramOffsetEnd - paramOffsetStart), for code that moves state between updaters by
     * value, such as averaging it across data-parallel workers (dl4j-distributed). Read it with
     * {@link OptimState8bit#dequantize}; after writing it ({@link OptimState8bit#requantize}, or a copy
     * of {@link #packedStateWords} of an updater with the same configuration and view type) call
     * {@link #sealPackedState} so that the next step accepts it.
     *
     * @return the state, aliasing the view; null when this block keeps 32-bit state (optimBits(32), or
     * fewer than min8bitSize parameters), or has no view. A fresh view (all zero, never stepped)
     * is a valid zero state.
     * @throws IllegalStateException when the view holds something else (another configuration, a cast
     * state) or was changed outside the updater since the last step, as a step would
     */
    public OptimState8bit packedState(long n) {
        if (view == null || !config.uses8bit(n)) return null;
        boolean half = view.dataType() == DataType.HALF;
        long stateWords = config.eightBitWords(n);
        INDArray flat = words(stateWords + config.clippingWords(), n);
        int tag = Float.floatToRawIntBits(flat.getFloat(0)), expected = expectedTag(n, half);
        boolean fresh = tag == 0 && Float.floatToRawIntBits(flat.getFloat(1)) == 0 && isAllZero(flat);
        if (!fresh && tag != expected) throw wrongTag(tag, expected, n);
        if (state8 == null || state8.length() != n) state8 = packedState(flat.get(NDArrayIndex.interval(HEADER_WORDS, stateWords)), n, half);
        if (!fresh) checkChecksum(flat, KernelProvider.get().optimizerKernels().absmaxChecksum(state8), half);
        return state8;
    }

    /**
     * The FLOAT words of the view that hold the packed state of {@link #packedState} (after the two
     * header words): copying them bit for bit into the same words of another updater with an equal
     * configuration, view type and block length, then {@link #sealPackedState} there, gives it this state.
     */
    public INDArray packedStateWords(long n) {
        if (packedState(n) == null) throw new IllegalStateException(config.getClass().getSimpleName() + " keeps 32-bit state for " + n + " parameters");
        return flat.get(NDArrayIndex.interval(HEADER_WORDS, config.eightBitWords(n)));
    }

    /**
     * Percentile clipping's gradient-norm history (FLOAT values, in the view after the 8-bit state) of
     * a block of n parameters keeping 8-bit state, or null without clipping or without 8-bit state.
     */
    public INDArray clippingHistory(long n) {
        int clipWords = config.clippingWords();
        if (clipWords == 0 || packedState(n) == null) return null;
        long stateWords = config.eightBitWords(n);
        return flat.get(NDArrayIndex.interval(stateWords, stateWords + clipWords));
    }

    /**
     * Writes the header words (tag, checksum of the block scales) for the 8-bit state now in the view,
     * after it was written outside a step through {@link #packedState} or {@link #packedStateWords}:
     * the next step takes it as its own. Only for state written with the kernels' encoding (a state
     * whose codes were edited by value would be read as garbage).
     */
    public void sealPackedState(long n) {
        if (view == null || !config.uses8bit(n)) throw new IllegalStateException(config.getClass().getSimpleName() + " keeps no 8-bit state for " + n + " parameters");
        boolean half = view.dataType() == DataType.HALF;
        long stateWords = config.eightBitWords(n);
        INDArray flat = words(stateWords + config.clippingWords(), n);
        if (state8 == null || state8.length() != n) state8 = packedState(flat.get(NDArrayIndex.interval(HEADER_WORDS, stateWords)), n, half);
        flat.putScalar(0, Float.intBitsToFloat(expectedTag(n, half)));
        flat.putScalar(1, checksumWord(KernelProvider.get().optimizerKernels().absmaxChecksum(state8), half));
    }

    /**
     * The parameters whose gradient this updater receives (for maxUnorm, which compares the update's
     * norm with theirs, as bitsandbytes does). DL4J does not pass parameters to a GradientUpdater:
     * org.bnb4j.updaters.MaxUnorm.bind finds them for networks and SameDiff graphs.
     */
    public void bindParameters(List<INDArray> params) {
        this.parameters = params == null ? null : List.copyOf(params);
    }

    /**
     * bitsandbytes' max_unorm: the update direction (the update before the learning rate, e.g. Adam's
     * m_hat / (sqrt(v_hat) + eps)) is scaled by maxUnorm * ||p|| / ||direction|| when its norm exceeds
     * maxUnorm * ||p||. The state is not affected, so scaling the finished update is the same.
     */
    private void limitUpdateNorm(INDArray g, OptimHyper h) {
        if (parameters == null) {
            throw new IllegalStateException(config.getClass().getSimpleName() + ": maxUnorm needs the parameters, which "
                    + "DL4J does not pass to an updater: call org.bnb4j.updaters.MaxUnorm.bind(network or SameDiff) after "
                    + "init(), restore or setUpdater, or set maxUnorm(0)");
        }
        float lr = h.learningRate();
        if (!(lr > 0)) return;
        double pSquared = 0;
        for (INDArray p : parameters) {
            double pn = p.norm2Number().doubleValue();
            pSquared += pn * pn;
        }
        float paramNorm = (float) Math.sqrt(pSquared);
        float unorm = (float) (g.norm2Number().doubleValue() / lr);
        float limit = (float) config.getMaxUnorm() * paramNorm;
        if (unorm > limit) g.muli(limit / unorm);
    }

    /**
     * Percentile clipping (when configured): the norm history lives in the view after the state, so it
     * is saved, restored and cloned with it; bitsandbytes scales the gradient before the step.
     */
    private void clip(INDArray g, INDArray flat, long stateWords, long t) {
        int words = config.clippingWords();
        if (words == 0) return;
        INDArray history = flat.get(NDArrayIndex.interval(stateWords, stateWords + words));
        float scale = PercentileClipping.scale(g, history, t, config.getPercentileClipping());
        if (scale != 1f) g.muli(scale);
    }

    static final int TAG_MAGIC = 0x3B4F0000; // a normal float (~0.0032) in the high half; layout 2 (with checksum)
    static final int TAG_MAGIC_HALF_WORDS = 0x3B4E0000; // the same, codes in the HALF-word form
    static final int CHECKSUM_BITS = 0x7FFFFF;
    /** Bit 14 of a word is the top exponent bit of its low half: clear, that half is never a half NaN. */
    static final int HALF_SAFE_LOW = ~0x4000;

    /** A checksum as a float in [1, 2): never NaN, kept bit for bit by every save path (in HALF words: 22 bits). */
    static float checksumWord(int checksum, boolean halfWords) {
        int bits = checksum & CHECKSUM_BITS;
        return Float.intBitsToFloat(0x3F800000 | (halfWords ? bits & HALF_SAFE_LOW : bits));
    }

    int expectedTag(long n, boolean halfWords) {
        long h = ((config.kind().persistentId() * 31L + config.getBlocksize()) * 1_000_003L) ^ n;
        if (config.clippingWords() > 0) h ^= 0x5DEECE66DL; // a view with a norm history is another layout
        h ^= h >>> 16;
        h ^= h >>> 32;
        return halfWords ? TAG_MAGIC_HALF_WORDS | (int) (h & 0xffff & HALF_SAFE_LOW) : TAG_MAGIC | (int) (h & 0xffff);
    }

    private OptimState8bit packedState(INDArray words, long n, boolean halfWords) {
        return halfWords ? OptimState8bit.packedInHalfWords(config.kind(), words, n, config.getBlocksize())
                : OptimState8bit.packed(config.kind(), words, n, config.getBlocksize());
    }

    /**
     * @return true for a fresh view, which gets its tag now. A view that is all zeros is fresh at any
     * time (DL4J zeroes views, e.g. when a network's updater state is reset mid-training; its own
     * updaters take a zero state as the initial one, and so do these).
     */
    private boolean checkTag(INDArray flat, long n, boolean halfWords) {
        int expected = expectedTag(n, halfWords);
        int tag = Float.floatToRawIntBits(flat.getFloat(0));
        if (tag == expected) return false;
        // fresh only if both header words are zero (a cast view, convertDataType FLOAT -> DOUBLE, can leave a
        // zero tag word, but never a zero checksum word beside it) and the whole view is zero, also for an
        // updater that has not stepped yet (after a restore, a clone, or DL4J rebuilding its blocks with other
        // content that happens to start with two zero words, e.g. 32-bit moments of dead units)
        if (tag == 0 && Float.floatToRawIntBits(flat.getFloat(1)) == 0 && isAllZero(flat)) {
            flat.putScalar(0, Float.intBitsToFloat(expected));
            return true;
        }
        throw wrongTag(tag, expected, n);
    }

    /**
     * A zero view after the first iteration starts the state afresh, as DL4J's Adam does. That is what
     * TransferLearning's new layers and a restore without the updater want, but also what is left after
     * DL4J failed to rebuild the updater blocks (net.setLearningRate(layer, lr), see UPDATERS.md), so it
     * is logged rather than left silent (once per zeroing: this step writes the tag).
     */
    private void logFreshMidTraining(long n, int iteration) {
        log.info("{}: the updater view of a block of {} parameters is all zero at iteration {}: its 8-bit state starts afresh "
                + "(new layers after TransferLearning, a restore without the updater, a view zeroed by hand; or the state was lost "
                + "when DL4J failed to rebuild the updater blocks, e.g. in net.setLearningRate(layer, lr))",
                config.getClass().getSimpleName(), n, iteration);
    }

    private IllegalStateException wrongTag(int tag, int expected, long n) {
        return new IllegalStateException(config.getClass().getSimpleName() + ": the updater view does not hold this "
                + "updater's 8-bit state for a block of " + n + " parameters (tag " + Integer.toHexString(tag) + ", expected "
                + Integer.toHexString(expected) + "). It may come from another configuration or blocksize, from a variable or "
                + "layer of another size, from "
                + "setLearningRate rebuilding the updater blocks, from convertDataType, or from a distributed trainer averaging "
                + "the packed words (use org.bnb4j.distributed.ParallelWrapper8bit, org.bnb4j.spark.ParameterAveragingTrainingMaster8bit "
                + "or SharedTrainingMaster8bit); re-initialise the updater (state is lost) or restore a matching one.");
    }

    private void checkChecksum(INDArray flat, int checksum, boolean halfWords) {
        int stored = Float.floatToRawIntBits(flat.getFloat(1));
        if (stored == Float.floatToRawIntBits(checksumWord(checksum, halfWords))) return;
        throw new IllegalStateException(config.getClass().getSimpleName() + ": the 8-bit state in the updater view was "
                + "changed outside the updater (its block scales no longer match the checksum written by the last step: "
                + "stored " + Integer.toHexString(stored) + ", computed " + Integer.toHexString(Float.floatToRawIntBits(checksumWord(checksum, halfWords)))
                + "), e.g. edited through getState() or by hand. Packed 8-bit state cannot be averaged or edited as plain numbers, "
                + "which is what DL4J's ParallelWrapper "
                + "(AVERAGING with averageUpdaters(true)), Spark's ParameterAveragingTrainingMaster (saveUpdater(true)) and "
                + "SharedTrainingMaster (at the end of fit()) do. "
                + "ParallelWrapper: use org.bnb4j.distributed.ParallelWrapper8bit (dl4j-distributed; averages 8-bit state "
                + "correctly, every mode), or averageUpdaters(false), or TrainingMode.SHARED_GRADIENTS. Spark: use "
                + "org.bnb4j.spark.ParameterAveragingTrainingMaster8bit (dl4j-spark; the same builder, averages 8-bit state "
                + "correctly), or org.bnb4j.spark.SharedTrainingMaster8bit instead of SharedTrainingMaster (with workersPerNode(1)), "
                + "or saveUpdater(false) (state is not averaged: each split restarts from the master's state). Either engine: "
                + "optimBits(32) (32-bit state, averaged "
                + "as DL4J's own). Otherwise re-initialise the updater (state is lost) or restore a saved one.");
    }

    /** Bit-exact zero test of every word (a -0.0 word is not a zero state). Runs only when the tag word is 0. */
    private static boolean isAllZero(INDArray flat) {
        long bytes = 4 * flat.length(), chunk = 1L << 30;
        try {
            long base = bytes == 0 ? 0 : ArrayMemory.of(flat).address();
            for (long off = 0; off < bytes; off += chunk) {
                java.nio.ByteBuffer b = org.bnb4j.internal.kernels.HostBuffers.wrap(base + off, Math.min(chunk, bytes - off));
                while (b.remaining() >= 8) if (b.getLong() != 0) return false;
                while (b.hasRemaining()) if (b.get() != 0) return false;
            }
            return true;
        } finally {
            java.lang.ref.Reference.reachabilityFence(flat);
        }
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

    /** The first len FLOAT words of the view (for a DOUBLE or HALF view an alias of its memory, see PackedView); kept likewise. */
    private INDArray words(long len, long n) {
        if (flat == null || !flatWords || flat.length() != len) {
            flat = PackedView.words(config.getClass().getSimpleName(), config.getViewDataType(), view, len, n);
            flatWords = true;
        }
        return flat;
    }
}
