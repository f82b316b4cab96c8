package org.bnb4j.distributed;

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
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.ArrayList;
import java.util.List;

/**
 * Averages the updater state of data-parallel copies of one network (MultiLayerNetwork or
 * ComputationGraph, same configuration) and writes the average into every copy, as ParallelWrapper's
 * {@code averageUpdaters(true)} means to, but correctly for 8-bit state.
 *
 * <p>Per UpdaterBlock of the network's updater: when its GradientUpdater is a
 * {@link BlockwiseGradientUpdater} holding 8-bit state, every copy's state is dequantized to FLOAT
 * ({@link OptimState8bit#dequantize}), the values are averaged in float, the average is requantized
 * once with the step's own encoding ({@link OptimState8bit#requantize}), copied bit for bit into
 * every copy's view, and sealed with a fresh checksum so the next step accepts it. A percentile-clipping
 * history beside the state is averaged as floats. Every other block (32-bit state of these updaters,
 * DL4J's own updaters) is averaged as plain values of the view's type, as DL4J does.
 *
 * <p>After this, every copy holds the same state: the 8-bit state is within one quantization step of
 * the float average of the copies' dequantized states (it is that average, quantized).
 */
public final class UpdaterStateAveraging {
    private UpdaterStateAveraging() {}

    /** What one call did, for logs and benchmarks. */
    public static final class Stats {
        public final int blocks8bit, blocksPlain;
        public final long params8bit, valuesPlain;

        Stats(int blocks8bit, int blocksPlain, long params8bit, long valuesPlain) {
            this.blocks8bit = blocks8bit;
            this.blocksPlain = blocksPlain;
            this.params8bit = params8bit;
            this.valuesPlain = valuesPlain;
        }

        @Override
        public String toString() {
            return blocks8bit + " 8-bit block(s) (" + params8bit + " parameters), " + blocksPlain + " plain block(s) (" + valuesPlain + " values)";
        }
    }

    /**
     * Averages the updater state of {@code models} (at least one; all MultiLayerNetwork or all
     * ComputationGraph with the same layout) and writes it into each of them.
     *
     * @throws IllegalArgumentException when the models' updaters differ in layout or configuration
     * @throws IllegalStateException when a model's 8-bit state was changed outside its updater (it is
     * not averaged then: nothing is written)
     */
    public static Stats average(List<? extends Model> models) {
        if (models == null || models.isEmpty()) throw new IllegalArgumentException("no models to average");
        List<BaseMultiLayerUpdater<?>> updaters = new ArrayList<>();
        for (Model m : models) updaters.add(updater(m));
        List<UpdaterBlock> first = updaters.get(0).getUpdaterBlocks();
        for (BaseMultiLayerUpdater<?> u : updaters) {
            List<UpdaterBlock> b = u.getUpdaterBlocks();
            if (b.size() != first.size()) {
                throw new IllegalArgumentException("models have different updater layouts (" + first.size() + " and " + b.size() + " updater blocks)");
            }
            for (int i = 0; i < b.size(); i++) {
                if (b.get(i).getParamOffsetStart() != first.get(i).getParamOffsetStart()
                        || b.get(i).getParamOffsetEnd() != first.get(i).getParamOffsetEnd()
                        || b.get(i).getUpdaterViewOffsetStart() != first.get(i).getUpdaterViewOffsetStart()
                        || b.get(i).getUpdaterViewOffsetEnd() != first.get(i).getUpdaterViewOffsetEnd()) {
                    throw new IllegalArgumentException("models have different updater layouts (block " + i + ")");
                }
            }
        }
        int w = models.size(), blocks8 = 0, blocksPlain = 0;
        long params8 = 0, valuesPlain = 0;
        if (w == 1) return new Stats(0, 0, 0, 0);
        // 8-bit blocks first: each worker's state is validated before anything is written
        List<Runnable> writes = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) {
            UpdaterBlock b0 = first.get(i);
            long n = b0.getParamOffsetEnd() - b0.getParamOffsetStart();
            INDArray view0 = b0.getUpdaterView();
            if (view0 == null || view0.length() == 0) continue;
            BlockwiseGradientUpdater[] bu = blockwise(updaters, i);
            if (bu != null && bu[0].getConfig().uses8bit(n)) {
                writes.add(average8bit(bu, n, i));
                blocks8++;
                params8 += n;
            } else {
                INDArray[] views = new INDArray[w];
                for (int m = 0; m < w; m++) views[m] = updaters.get(m).getUpdaterBlocks().get(i).getUpdaterView();
                writes.add(() -> averagePlain(views));
                blocksPlain++;
                valuesPlain += view0.length();
            }
        }
        for (Runnable r : writes) r.run();
        return new Stats(blocks8, blocksPlain, params8, valuesPlain);
    }

    /** The updater of a MultiLayerNetwork or ComputationGraph. */
    public static BaseMultiLayerUpdater<?> updater(Model m) {
        Object u;
        // getUpdater() of a network without init() fails inside DL4J with a NullPointerException
        if (m instanceof MultiLayerNetwork && ((MultiLayerNetwork) m).getLayers() == null
                || m instanceof ComputationGraph && ((ComputationGraph) m).getLayers() == null) {
            throw new IllegalArgumentException("a model to average is not initialised: call init() on it first");
        }
        if (m instanceof MultiLayerNetwork) u = ((MultiLayerNetwork) m).getUpdater();
        else if (m instanceof ComputationGraph) u = ((ComputationGraph) m).getUpdater();
        else throw new IllegalArgumentException("a MultiLayerNetwork or ComputationGraph is needed, got " + (m == null ? null : m.getClass().getName()));
        if (!(u instanceof BaseMultiLayerUpdater)) {
            throw new IllegalArgumentException("unsupported updater " + (u == null ? null : u.getClass().getName()));
        }
        return (BaseMultiLayerUpdater<?>) u;
    }

    /** Block i's updaters when they are all BlockwiseGradientUpdaters with equal configurations; null when none is. */
    private static BlockwiseGradientUpdater[] blockwise(List<BaseMultiLayerUpdater<?>> updaters, int i) {
        BlockwiseGradientUpdater[] out = new BlockwiseGradientUpdater[updaters.size()];
        int found = 0;
        for (int m = 0; m < out.length; m++) {
            GradientUpdater<?> g = updaters.get(m).getUpdaterBlocks().get(i).getGradientUpdater();
            if (g instanceof BlockwiseGradientUpdater) {
                out[m] = (BlockwiseGradientUpdater) g;
                found++;
            }
        }
        if (found == 0) return null;
        BlockwiseUpdaterConfig c0 = out[0] == null ? null : out[0].getConfig();
        for (BlockwiseGradientUpdater b : out) {
            if (b == null || !b.getConfig().equals(c0)) {
                throw new IllegalArgumentException("updater block " + i + " has different updater configurations across the models");
            }
        }
        return out;
    }

    /**
     * Dequantizes and averages block i now (checking every worker's state); returns the write: the
     * requantized average into the first worker, copied into the others, all sealed.
     */
    private static Runnable average8bit(BlockwiseGradientUpdater[] bu, long n, int i) {
        int w = bu.length, k = bu[0].getConfig().kind().numStates();
        OptimState8bit[] st = new OptimState8bit[w];
        for (int m = 0; m < w; m++) st[m] = bu[m].packedState(n);
        INDArray[] acc = new INDArray[k], tmp = new INDArray[k];
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int s = 0; s < k; s++) {
                acc[s] = Nd4j.create(DataType.FLOAT, n);
                tmp[s] = Nd4j.create(DataType.FLOAT, n);
            }
        }
        for (int m = 0; m < w; m++) {
            INDArray[] into = m == 0 ? acc : tmp;
            st[m].dequantize(into);
            if (m > 0) for (int s = 0; s < k; s++) acc[s].addi(tmp[s]);
        }
        for (int s = 0; s < k; s++) {
            acc[s].divi(w);
            // checked before any block is written: requantize refuses non-finite values, and a refusal in the
            // write phase would leave some blocks averaged and others not
            if (acc[s].isNaN().any() || acc[s].isInfinite().any()) {
                throw new IllegalStateException("updater block " + i + ": the average of the workers' " + bu[0].getConfig().kind()
                        + " state holds NaN or Inf (a worker's state diverged); no worker's state was changed");
            }
        }
        INDArray[] clip = new INDArray[w];
        for (int m = 0; m < w; m++) clip[m] = bu[m].clippingHistory(n);
        return () -> {
            st[0].requantize(acc);
            bu[0].sealPackedState(n);
            INDArray words0 = bu[0].packedStateWords(n);
            for (int m = 1; m < w; m++) {
                bu[m].packedStateWords(n).assign(words0);   // FLOAT to FLOAT assign keeps every bit
                bu[m].sealPackedState(n);
            }
            if (clip[0] != null) averagePlain(clip);
        };
    }

    /** Plain average of equal-length arrays in their own type, written into each. */
    static void averagePlain(INDArray[] views) {
        INDArray sum;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            sum = views[0].dup();
        }
        for (int m = 1; m < views.length; m++) sum.addi(views[m]);
        sum.divi(views.length);
        for (INDArray v : views) v.assign(sum);
    }
}
