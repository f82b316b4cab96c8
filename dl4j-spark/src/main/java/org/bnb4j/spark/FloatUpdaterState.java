package org.bnb4j.spark;

import org.bnb4j.distributed.UpdaterStateAveraging;

import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A network's updater state as plain numbers that can be summed and divided: the form in which the
 * Spark training masters of this module move it, so that DL4J's aggregation (a sum of the workers'
 * arrays, then a division by their count) averages it correctly.
 *
 * <p>An instance is the layout of one network configuration's updater view (serializable: it travels
 * to executors). The summable form, updater block by updater block (DL4J's {@code UpdaterBlock}s, in
 * order):
 * <ul>
 * <li>a block whose updater is one of bnb4j's keeping 8-bit state for its n parameters: the k states
 *   dequantized ({@link OptimState8bit#dequantize}), k * n values, state by state, then the
 *   percentile-clipping history when there is one;</li>
 * <li>any other block (the 32-bit twin, blocks below min8bitSize, DL4J's own updaters): the block's
 *   view as it is.</li>
 * </ul>
 * The values are FLOAT (DOUBLE for a DOUBLE network, so that its plain blocks lose nothing). Copies of
 * one configuration share the layout, so their arrays add up element by element. {@link #requantizeInto}
 * writes such an array (e.g. an average) back into a view: 8-bit blocks requantized with the step's own
 * encoding and sealed with a fresh checksum, the others assigned.
 */
public final class FloatUpdaterState implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One UpdaterBlock: where it lies in the view, its parameter count, its 8-bit config (null: plain). */
    private static final class Block implements Serializable {
        private static final long serialVersionUID = 1L;
        final long viewStart, viewEnd, n;
        final BlockwiseUpdaterConfig eightBit;

        Block(long viewStart, long viewEnd, long n, BlockwiseUpdaterConfig eightBit) {
            this.viewStart = viewStart;
            this.viewEnd = viewEnd;
            this.n = n;
            this.eightBit = eightBit;
        }

        long viewLength() {
            return viewEnd - viewStart;
        }

        /** Values of the block in the summable form. */
        long length() {
            return eightBit == null ? viewLength() : eightBit.kind().numStates() * n + eightBit.clippingWords();
        }
    }

    private final Block[] blocks;
    private final long viewLength, length;

    private FloatUpdaterState(List<Block> blocks, long viewLength) {
        this.blocks = blocks.toArray(new Block[0]);
        this.viewLength = viewLength;
        long len = 0;
        for (Block b : this.blocks) len += b.length();
        this.length = len;
    }

    /** The layout of a MultiLayerNetwork's or ComputationGraph's updater view. */
    public static FloatUpdaterState of(Model m) {
        BaseMultiLayerUpdater<?> u = updater(m);
        INDArray view = u.getStateViewArray();
        List<Block> blocks = new ArrayList<>();
        for (UpdaterBlock b : u.getUpdaterBlocks()) {
            INDArray v = b.getUpdaterView();
            if (v == null || v.length() == 0) continue;
            long n = b.getParamOffsetEnd() - b.getParamOffsetStart();
            GradientUpdater<?> g = b.getGradientUpdater();
            BlockwiseUpdaterConfig c = g instanceof BlockwiseGradientUpdater ? ((BlockwiseGradientUpdater) g).getConfig() : null;
            blocks.add(new Block(b.getUpdaterViewOffsetStart(), b.getUpdaterViewOffsetEnd(), n, c != null && c.uses8bit(n) ? c : null));
        }
        return new FloatUpdaterState(blocks, view == null ? 0 : view.length());
    }

    /** Number of values of the summable form (0 when the network keeps no updater state). */
    public long length() {
        return length;
    }

    /** True when at least one block keeps 8-bit state. */
    public boolean has8bit() {
        for (Block b : blocks) if (b.eightBit != null) return true;
        return false;
    }

    /**
     * The summable form of an updater view of this layout (a new array, outside any workspace; null for
     * a null or empty view).
     *
     * @throws IllegalStateException when an 8-bit block was changed outside its updater (its checksum no
     * longer matches) or holds another configuration's state, as the next step would
     */
    public INDArray dequantize(INDArray view) {
        if (view == null || view.length() == 0) return null;
        checkView(view);
        DataType type = view.dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
        INDArray flatView = view.reshape(view.length());
        INDArray out;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            out = Nd4j.create(type, length);
            long at = 0;
            for (Block b : blocks) {
                long bl = b.length();
                INDArray dst = out.get(NDArrayIndex.interval(at, at + bl));
                INDArray src = flatView.get(NDArrayIndex.interval(b.viewStart, b.viewEnd));
                if (b.eightBit == null) {
                    dst.assign(src);
                } else {
                    BlockwiseGradientUpdater bu = updater(b, src);
                    OptimState8bit st = bu.packedState(b.n);
                    int k = st.kind().numStates();
                    INDArray[] values = new INDArray[k];
                    for (int s = 0; s < k; s++) {
                        values[s] = type == DataType.FLOAT ? dst.get(NDArrayIndex.interval(s * b.n, (s + 1) * b.n)) : Nd4j.create(DataType.FLOAT, b.n);
                    }
                    st.dequantize(values);
                    if (type != DataType.FLOAT) {
                        for (int s = 0; s < k; s++) dst.get(NDArrayIndex.interval(s * b.n, (s + 1) * b.n)).assign(values[s]);
                    }
                    INDArray clip = bu.clippingHistory(b.n);
                    if (clip != null) dst.get(NDArrayIndex.interval(k * b.n, bl)).assign(clip);
                }
                at += bl;
            }
        }
        Nd4j.getExecutioner().commit();
        return out;
    }

    /**
     * Writes values in the summable form (for instance the average of several workers') into an updater
     * view of this layout: 8-bit blocks are requantized and sealed, so that the next step accepts them;
     * other blocks are assigned.
     *
     * @throws IllegalArgumentException when the array or the view does not have this layout
     */
    public void requantizeInto(INDArray view, INDArray values) {
        if (values == null || values.length() != length) {
            throw new IllegalArgumentException("updater state has " + (values == null ? "no" : values.length()) + " values, this network's "
                    + "layout (8-bit blocks dequantized) has " + length + " (a state of another network or configuration, or DL4J's packed view?)");
        }
        if (length == 0) return;
        checkView(view);
        INDArray flatValues = values.reshape(values.length()), flatView = view.reshape(view.length());
        requireFinite8bit(flatValues);
        long at = 0;
        for (Block b : blocks) {
            long bl = b.length();
            INDArray src = flatValues.get(NDArrayIndex.interval(at, at + bl));
            INDArray dst = flatView.get(NDArrayIndex.interval(b.viewStart, b.viewEnd));
            if (b.eightBit == null) {
                dst.assign(src);
            } else {
                // the old state is replaced whole: zero the block (a zero view is a fresh state, so what is overwritten
                // is not checked), requantize the values into it and seal it
                dst.assign(0);
                BlockwiseGradientUpdater bu = updater(b, dst);
                OptimState8bit st = bu.packedState(b.n);
                int k = st.kind().numStates();
                INDArray[] in = new INDArray[k];
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    for (int s = 0; s < k; s++) {
                        INDArray slice = src.get(NDArrayIndex.interval(s * b.n, (s + 1) * b.n));
                        in[s] = slice.dataType() == DataType.FLOAT ? slice : slice.castTo(DataType.FLOAT);
                    }
                }
                st.requantize(in);
                bu.sealPackedState(b.n);
                INDArray clip = bu.clippingHistory(b.n);
                if (clip != null) clip.assign(src.get(NDArrayIndex.interval(k * b.n, bl)));
            }
            at += bl;
        }
        Nd4j.getExecutioner().commit();
    }

    /**
     * Every 8-bit block's values are finite, checked before any block is written (each block is zeroed
     * and then requantized, and requantize refuses NaN and Inf: a refusal halfway would leave a view of
     * requantized, zeroed and old blocks).
     */
    private void requireFinite8bit(INDArray flatValues) {
        long at = 0;
        for (Block b : blocks) {
            long bl = b.length();
            if (b.eightBit != null) {
                INDArray v = flatValues.get(NDArrayIndex.interval(at, at + (long) b.eightBit.kind().numStates() * b.n));
                if (v.isNaN().any() || v.isInfinite().any()) {
                    throw new IllegalArgumentException("updater state values of the 8-bit block at view offset " + b.viewStart
                            + " hold NaN or Inf (a diverged state, or an average with one?): an 8-bit state holds finite values only;"
                            + " nothing was written");
                }
            }
            at += bl;
        }
    }

    private void checkView(INDArray view) {
        if (view == null || view.length() != viewLength) {
            throw new IllegalArgumentException("updater view has " + (view == null ? "no" : view.length()) + " values, this layout "
                    + viewLength + " (a view of another network or configuration?)");
        }
    }

    /** An updater of the block's configuration bound to (a view of) the block's part of the view. */
    private static BlockwiseGradientUpdater updater(Block b, INDArray blockView) {
        return (BlockwiseGradientUpdater) b.eightBit.instantiate(blockView.reshape(1, b.viewLength()), false);
    }

    // ---- the same on a network's own updater view

    /** True when at least one updater block of the network keeps 8-bit state. */
    public static boolean has8bitState(Model m) {
        return of(m).has8bit();
    }

    /** The network's updater state in the summable form (null when it keeps none, e.g. plain SGD). */
    public static INDArray dequantize(Model m) {
        return of(m).dequantize(updater(m).getStateViewArray());
    }

    /** Writes values in the summable form into the network's updater view (see {@link #requantizeInto(INDArray, INDArray)}). */
    public static void requantizeInto(Model m, INDArray values) {
        of(m).requantizeInto(updater(m).getStateViewArray(), values);
    }

    /** The updater of a MultiLayerNetwork or ComputationGraph (created when the network has none yet). */
    static BaseMultiLayerUpdater<?> updater(Model m) {
        return UpdaterStateAveraging.updater(m);
    }
}
