package org.bnb4j.updaters.config;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import lombok.Setter;
import lombok.ToString;
import org.bnb4j.optim.HyperRanges;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;

/**
 * Base of the block-wise 8-bit updater configs (bitsandbytes' Optimizer1State/Optimizer2State):
 * learning rate or schedule, {@code blocksize} (256), {@code min8bitSize} (4096: an updater block
 * with fewer parameters keeps 32-bit state) and {@code optimBits} (8, or 32 for the 32-bit twin).
 * Subclasses add their hyper-parameters under DL4J's names and say how one step is parameterised.
 * An 8-bit block's view is two header words (tag, checksum: see {@code BlockwiseGradientUpdater}) plus the packed state.
 * Accessors, equals/hashCode (Double.compare semantics: NaN learning rates of scheduled configs are
 * equal, as in DL4J's configs) and toString come from Lombok, as in DL4J's own configs.
 */
@Getter
@Setter
@EqualsAndHashCode
@ToString
public abstract class BlockwiseUpdaterConfig implements IUpdater {
    public static final int DEFAULT_BLOCKSIZE = 256;
    public static final int DEFAULT_MIN_8BIT_SIZE = 4096;
    public static final int DEFAULT_PERCENTILE_CLIPPING = 100;

    protected double learningRate;
    protected ISchedule learningRateSchedule;
    protected int blocksize = DEFAULT_BLOCKSIZE;
    protected int min8bitSize = DEFAULT_MIN_8BIT_SIZE;
    protected int optimBits = 8;
    /** bitsandbytes' percentile_clipping: 100 = off; p < 100 clips the gradient at the p-th percentile of the last 100 norms. */
    protected int percentileClipping = DEFAULT_PERCENTILE_CLIPPING;
    /** Clamp Adam/AdEMAMix updates to the bound exact 32-bit state satisfies (see org.bnb4j.optim.UpdateBound). */
    protected boolean updateBound = true;
    /**
     * bitsandbytes' max_unorm: 0 = off; else the update (before the learning rate) is scaled down to
     * maxUnorm * ||parameters|| when its norm exceeds that. Needs the parameters: see org.bnb4j.updaters.MaxUnorm.
     */
    protected double maxUnorm = 0;
    /**
     * The data type of the updater view DL4J will allocate: the network's (or SameDiff variable's) data
     * type, FLOAT by default. DL4J sizes the view through {@link #stateSize(long)} in elements of that
     * type without telling the updater the type, so 8-bit state needs it here to get its bytes: a HALF
     * network needs HALF (twice the elements, the same 2.03 bytes per Adam parameter); DOUBLE makes a
     * DOUBLE view half as long (2.03 instead of 4.06 bytes per Adam parameter). 32-bit state does not
     * depend on it (k values of the view's type per parameter).
     */
    protected DataType viewDataType = DataType.FLOAT;
    /**
     * bitsandbytes' is_paged: the state lives in a file-backed mapping that the operating system pages
     * out when memory runs short (docs/PAGED.md). Needs the native library (Linux x86-64).
     */
    protected boolean paged = false;
    /** Where paged state's (unnamed, self-deleting) files go; null: the system temporary directory (java.io.tmpdir). */
    protected String pagedDirectory;

    protected BlockwiseUpdaterConfig(double learningRate) {
        // NaN is how DL4J's configs say "a schedule gives the rate" (validate() checks the pair)
        String problem = Double.isNaN(learningRate) ? null : HyperRanges.learningRate("learningRate", learningRate);
        if (problem != null) throw new IllegalArgumentException(problem);
        this.learningRate = learningRate;
    }

    /**
     * A config whose learning rate comes from a schedule: learningRate is NaN, as in DL4J's configs
     * (so equals and JSON match DL4J's setLearningRate(ISchedule)).
     */
    protected BlockwiseUpdaterConfig(ISchedule learningRateSchedule) {
        // null is accepted, as DL4J's configs accept it (a schedule set later by setLrAndSchedule);
        // validate() names a config that is left with neither
        this.learningRate = Double.NaN;
        this.learningRateSchedule = learningRateSchedule;
    }

    /**
     * The config of {@code kind} at its defaults but the learning rate: the class its declaration
     * names ({@link OptimKind#updaterConfig()}), so code that offers every optimizer (a command line, a
     * sweep) iterates over {@link OptimKind#values()} and picks up a new one by itself, with no list to
     * extend. A kind whose named class is missing or runs another kernel fails here, naming it
     * ({@code UpdatersTest} calls this for every kind).
     */
    public static BlockwiseUpdaterConfig forKind(OptimKind kind, double learningRate) {
        String name = BlockwiseUpdaterConfig.class.getPackageName() + "." + kind.updaterConfig();
        BlockwiseUpdaterConfig c;
        try {
            c = (BlockwiseUpdaterConfig) Class.forName(name).getConstructor(double.class).newInstance(learningRate);
        } catch (java.lang.reflect.InvocationTargetException e) {
            // the constructor refused the argument (a learning rate out of range): its own exception
            if (e.getCause() instanceof RuntimeException) throw (RuntimeException) e.getCause();
            throw new IllegalStateException(name + "(" + learningRate + ") failed", e.getCause());
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException(kind + " names " + name + " as its updater config, which is not a BlockwiseUpdaterConfig "
                    + "with a (double learningRate) constructor", e);
        }
        if (c.kind() != kind) throw new IllegalStateException(name + " runs " + c.kind() + ", but " + kind + " names it");
        return c;
    }

    /** The fused kernel this optimizer runs. */
    public abstract OptimKind kind();

    /** The step's hyper-parameters at learning rate lr and step t (1-based). */
    public abstract OptimHyper hyper(double lr, long t);

    /** Subclass checks of its own hyper-parameters; throw IllegalStateException naming the field. */
    protected abstract void validateHyper();

    /** A copy of the subclass fields into c (called by clone()). */
    protected abstract BlockwiseUpdaterConfig newInstance();

    /** True when an updater block of {@code n} parameters keeps 8-bit state. */
    public boolean uses8bit(long n) {
        return optimBits == 8 && n >= min8bitSize;
    }

    /**
     * View elements (of {@link #getViewDataType()}) for a parameter of {@code numParams} elements.
     * DL4J sizes an updater block's view as the sum of stateSize over its parameters, then merges
     * adjacent parameters with equal configs into one block whose state layout follows from the block's
     * length. A parameter too small for 8-bit state on its own can so join a block that keeps 8-bit
     * state (a bias of one element beside a 4096-element weight matrix: one more block, with its own
     * scales), so it reserves at least what it adds to such a block: its block scales and code bytes.
     * The block's header comes with its 8-bit parameters; only when min8bitSize is so small that a few
     * small parameters alone reach it does each small one reserve a header too. (With the default
     * min8bitSize only one-element parameters in a FLOAT view, and a few more in a HALF view, reserve
     * more than their 32-bit state.)
     */
    @Override
    public long stateSize(long numParams) {
        validate();
        long state32 = kind().numStates() * numParams + clippingWords();
        if (optimBits != 8 || numParams == 0) return state32;
        if (uses8bit(numParams)) return viewElements(eightBitWords(numParams) + clippingWords());
        long added = OptimState8bit.packedLength(kind(), numParams, blocksize) + clippingWords()
                + (min8bitSize <= SMALL_PARTS_MIN8BIT ? BlockwiseGradientUpdater.HEADER_WORDS : 0);
        return Math.max(state32, viewElements(added));
    }

    /**
     * At or below this min8bitSize a block of small parameters only, none with words to spare beyond
     * its own scales and codes, can keep 8-bit state (above it, such a block's 32-bit room exceeds its
     * 8-bit layout by more than a header: MergedBlocksTest checks every split).
     */
    private static final int SMALL_PARTS_MIN8BIT = 32;

    /** View elements that hold {@code words} FLOAT words of packed state. */
    private long viewElements(long words) {
        switch (viewDataType) {
            case DOUBLE: return (words + 1) / 2;   // two FLOAT words per double
            case HALF: return 2 * words;           // two halves per FLOAT word
            default: return words;
        }
    }

    /** Words of an 8-bit block of n parameters: the header (tag, checksum) and the packed state. */
    public long eightBitWords(long n) {
        return BlockwiseGradientUpdater.HEADER_WORDS + OptimState8bit.packedLength(kind(), n, blocksize);
    }

    /** Words of gradient-norm history after the state (percentile clipping), 0 when off. */
    public int clippingWords() {
        return percentileClipping < 100 ? 100 : 0;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        validate();
        BlockwiseGradientUpdater u = new BlockwiseGradientUpdater(this);
        u.setStateViewArray(viewArray, viewArray == null ? null : viewArray.shape(), 'c', initializeViewArray);
        return u;
    }

    /**
     * SameDiff's path (loading a saved graph): the map is what {@code getState()} returned, see
     * {@link BlockwiseGradientUpdater#setState}.
     */
    @Override
    public GradientUpdater instantiate(Map<String, INDArray> state, boolean initializeStateArrays) {
        validate();
        BlockwiseGradientUpdater u = new BlockwiseGradientUpdater(this);
        u.setState(state, initializeStateArrays);
        return u;
    }

    // The ranges are HyperRanges' (shared with OptimHyper's factories): checked on the float each value
    // rounds to, which is what the kernels compute with.

    /** Throws unless 0 <= v < 1 as a float (so also for NaN): decay rates and betas. */
    protected static void requireFraction(String name, double v) {
        require(HyperRanges.fraction(name, v));
    }

    /** Throws unless 0 < v < 1 as a float (so also for NaN). */
    protected static void requireOpenFraction(String name, double v) {
        require(HyperRanges.openFraction(name, v));
    }

    /** Throws unless v > 0 and finite as a float (so also for NaN): epsilons. */
    protected static void requirePositive(String name, double v) {
        require(HyperRanges.positive(name, v));
    }

    /** Throws unless v >= 0 and finite as a float (so also for NaN): weights such as AdEMAMix's alpha. */
    protected static void requireNonNegative(String name, double v) {
        require(HyperRanges.nonNegative(name, v));
    }

    private static void require(String problem) {
        if (problem != null) throw new IllegalStateException(problem);
    }

    /**
     * The multi-argument constructors' check of the hyper-parameters they were given: an
     * IllegalArgumentException at construction, naming the field, instead of an IllegalStateException
     * when the network is initialised.
     */
    protected final void checkConstructorArguments() {
        try {
            validateHyper();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * The learning rate of one step: the schedule's value at (iteration, epoch), or learningRate.
     * A schedule is user code that DL4J calls each step: a negative, NaN or (as a float) infinite
     * value from it would train silently into garbage, so it is refused here, naming the schedule.
     */
    public double learningRateAt(int iteration, int epoch) {
        double lr = getLearningRate(iteration, epoch);
        if (HyperRanges.learningRate("learningRate", lr) != null) {
            if (learningRateSchedule != null) {
                throw new IllegalStateException(getClass().getSimpleName() + ": learningRateSchedule " + learningRateSchedule
                        + " gave learning rate " + lr + HyperRanges.asFloat(lr) + " at iteration " + iteration + ", epoch " + epoch
                        + "; a learning rate must be finite and >= 0");
            }
            validate(); // names the field
        }
        return lr;
    }

    public void validate() {
        if (optimBits != 8 && optimBits != 32) throw new IllegalStateException("optimBits must be 8 or 32, got " + optimBits);
        if (blocksize < 64 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
            throw new IllegalStateException("blocksize must be a power of two between 64 and 4096, got " + blocksize);
        }
        if (min8bitSize < 0) throw new IllegalStateException("min8bitSize must be >= 0, got " + min8bitSize);
        if (!(maxUnorm >= 0 && maxUnorm < Double.POSITIVE_INFINITY)) {
            throw new IllegalStateException("maxUnorm must be finite and >= 0 (0 = off), got " + maxUnorm);
        }
        if (viewDataType != DataType.FLOAT && viewDataType != DataType.DOUBLE && viewDataType != DataType.HALF) {
            throw new IllegalStateException("viewDataType must be FLOAT, DOUBLE or HALF (the network's data type), got " + viewDataType
                    + (viewDataType == DataType.BFLOAT16 ? " (8-bit state in BFLOAT16 views is not supported; DL4J 1.0.0-M2.1 "
                    + "cannot train BFLOAT16 networks on CPU)" : ""));
        }
        if (pagedDirectory != null && pagedDirectory.isBlank()) {
            throw new IllegalStateException("pagedDirectory must be a directory path, or null for java.io.tmpdir; got an empty string");
        }
        if (percentileClipping < 0 || percentileClipping > 100) {
            throw new IllegalStateException("percentileClipping must be in 0..100 (100 = off), got " + percentileClipping);
        }
        if (learningRateSchedule == null) {
            if (Double.isNaN(learningRate)) {
                throw new IllegalStateException("learningRate is NaN and there is no learningRateSchedule: a config made with a "
                        + "schedule needs the schedule (was it set to null?), one without needs a learning rate");
            }
            require(HyperRanges.learningRate("learningRate", learningRate));
        }
        validateHyper();
    }

    @Override
    public BlockwiseUpdaterConfig clone() {
        BlockwiseUpdaterConfig c = newInstance();
        c.learningRate = learningRate;
        // shared, as DL4J's configs share it: a schedule is immutable in use, and a copy of one without equals()
        // (RampSchedule) would make the clones unequal, and DL4J would then split its updater blocks per layer
        c.learningRateSchedule = learningRateSchedule;
        c.blocksize = blocksize;
        c.min8bitSize = min8bitSize;
        c.optimBits = optimBits;
        c.percentileClipping = percentileClipping;
        c.updateBound = updateBound;
        c.maxUnorm = maxUnorm;
        c.viewDataType = viewDataType;
        c.paged = paged;
        c.pagedDirectory = pagedDirectory;
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    /** Builder base with the common fields; {@code T} is the concrete builder. */
    @SuppressWarnings("unchecked")
    protected abstract static class BaseBuilder<C extends BlockwiseUpdaterConfig, T extends BaseBuilder<C, T>> {
        protected final C c;

        protected BaseBuilder(C c) {
            this.c = c;
        }

        public T learningRate(double v) { c.learningRate = v; return (T) this; }
        public T learningRateSchedule(ISchedule v) { c.learningRateSchedule = v; return (T) this; }
        public T blocksize(int v) { c.blocksize = v; return (T) this; }
        public T min8bitSize(int v) { c.min8bitSize = v; return (T) this; }
        public T optimBits(int v) { c.optimBits = v; return (T) this; }
        public T percentileClipping(int v) { c.percentileClipping = v; return (T) this; }
        public T updateBound(boolean v) { c.updateBound = v; return (T) this; }
        public T maxUnorm(double v) { c.maxUnorm = v; return (T) this; }
        public T viewDataType(DataType v) { c.viewDataType = v; return (T) this; }
        /** Paged state (bitsandbytes' Paged* optimizers): see {@link BlockwiseUpdaterConfig#paged}. */
        public T paged(boolean v) { c.paged = v; return (T) this; }
        /** The directory of paged state's files (default: java.io.tmpdir); checked before the first step. */
        public T pagedDirectory(String v) { c.pagedDirectory = v; return (T) this; }

        public C build() {
            c.validate();
            return (C) c.clone();
        }
    }
}
