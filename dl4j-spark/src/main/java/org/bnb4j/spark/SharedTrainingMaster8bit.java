package org.bnb4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.Repartitioner;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingResult;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

/**
 * DL4J's {@link SharedTrainingMaster} (gradient sharing, dl4j-spark-parameterserver 1.0.0-M2) for
 * networks trained with bnb4j's 8-bit updaters.
 *
 * <p>During training each worker applies the shared, encoded updates with its own updater, so the
 * 8-bit state is never touched from outside. But at the end of every fit() DL4J's master sums the
 * updater state of every executor's result and divides it by their count, then assigns it to the
 * master's network; with packed 8-bit state that is garbage, found by the next step on the master's
 * network (or after a save and restore) as a state "changed outside the updater". This happens even in
 * local mode (several task results carry the state). This master averages that state as it should:
 * every result's state is dequantized to the summable form of {@link FloatUpdaterState} on the
 * executors, DL4J sums and divides it, and the average is requantized into the master's view.
 * Networks without 8-bit state take DL4J's path unchanged. Everything else is DL4J's.
 *
 * <pre>{@code
 * TrainingMaster tm = new SharedTrainingMaster8bit.Builder(voidConfiguration, 1).batchSizePerWorker(32)
 *         .workersPerNode(1).build();
 * }</pre>
 */
public class SharedTrainingMaster8bit extends SharedTrainingMaster {
    /** For deserialization. */
    protected SharedTrainingMaster8bit() {
        super();
    }

    public SharedTrainingMaster8bit(VoidConfiguration voidConfiguration, Integer numWorkers, RDDTrainingApproach rddTrainingApproach,
                                    StorageLevel storageLevel, boolean collectTrainingStats, RepartitionStrategy repartitionStrategy,
                                    Repartition repartition, ThresholdAlgorithm thresholdAlgorithm, ResidualPostProcessor residualPostProcessor,
                                    int rddDataSetNumExamples, int batchSizePerWorker, long debugLongerIterations, int numWorkersPerNode,
                                    int workerPrefetchBatches, Repartitioner repartitioner, Boolean workerTogglePeriodicGC,
                                    Integer workerPeriodicGCFrequency, boolean encodingDebugMode) {
        super(voidConfiguration, numWorkers, rddTrainingApproach, storageLevel, collectTrainingStats, repartitionStrategy, repartition,
                thresholdAlgorithm, residualPostProcessor, rddDataSetNumExamples, batchSizePerWorker, debugLongerIterations,
                numWorkersPerNode, workerPrefetchBatches, repartitioner, workerTogglePeriodicGC, workerPeriodicGCFrequency, encodingDebugMode);
    }

    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<SharedTrainingResult> results) {
        Model root = network != null ? network.getNetwork() : graph.getNetwork();
        FloatUpdaterState layout = root == null ? null : FloatUpdaterState.of(root);
        if (layout == null || !layout.has8bit()) {
            super.processResults(network, graph, results);
            return;
        }
        JavaRDD<SharedTrainingResult> summable = results.map(new ToSummable(layout));
        // DL4J assigns the averaged state to getUpdater().getStateViewArray(): for the time of the call the
        // master's network gets an updater whose "view" is an array of the summable form, which receives it
        DataType type = root.params().dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
        INDArray received = Nd4j.valueArrayOf(new long[]{layout.length()}, Double.NaN, type);
        Runnable restore = receiveInto(root, received);
        try {
            super.processResults(network, graph, summable);
        } finally {
            restore.run();
        }
        if (!Double.isNaN(received.getDouble(0))) FloatUpdaterState.requantizeInto(root, received);
    }

    /** Swaps the network's updater for one reporting {@code holder} as its state view; returns the undo. */
    private static Runnable receiveInto(Model root, INDArray holder) {
        if (root instanceof MultiLayerNetwork) {
            MultiLayerNetwork net = (MultiLayerNetwork) root;
            org.deeplearning4j.nn.api.Updater original = net.getUpdater();
            net.setUpdater(new MultiLayerUpdater(net, original.getStateViewArray()) {
                @Override
                public INDArray getStateViewArray() {
                    return holder;
                }
            });
            return () -> net.setUpdater(original);
        }
        ComputationGraph g = (ComputationGraph) root;
        ComputationGraphUpdater original = g.getUpdater();
        g.setUpdater(new ComputationGraphUpdater(g, original.getStateViewArray()) {
            @Override
            public INDArray getStateViewArray() {
                return holder;
            }
        });
        return () -> g.setUpdater(original);
    }

    /** On the executors: a result's packed updater view replaced by its summable form. */
    static final class ToSummable implements Function<SharedTrainingResult, SharedTrainingResult> {
        private static final long serialVersionUID = 1L;
        static final int MAX_COPIES = 100;
        private final FloatUpdaterState layout;

        ToSummable(FloatUpdaterState layout) {
            this.layout = layout;
        }

        /**
         * DL4J's result holds the executor model's live view, and that model may still be training on
         * other tasks' data (one SharedTrainingWrapper per JVM): read a copy, and take it again when a
         * step was writing it at that moment (its checksum does not match).
         */
        @Override
        public SharedTrainingResult call(SharedTrainingResult r) throws InterruptedException {
            INDArray live = r.getUpdaterStateArray();
            if (live == null) return r;
            for (int attempt = 1; ; attempt++) {
                INDArray copy;
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    copy = live.dup();
                }
                try {
                    r.setUpdaterStateArray(layout.dequantize(copy));
                    return r;
                } catch (IllegalStateException torn) {
                    if (attempt >= MAX_COPIES) throw torn;
                    Thread.sleep(1);
                }
            }
        }
    }

    /**
     * DL4J's SharedTrainingMaster.Builder (every setting) whose build() returns a
     * {@link SharedTrainingMaster8bit}.
     */
    public static class Builder extends SharedTrainingMaster.Builder {
        public Builder(int rddDataSetNumExamples) {
            super(rddDataSetNumExamples);
        }

        public Builder(VoidConfiguration voidConfiguration, int rddDataSetNumExamples) {
            super(voidConfiguration, rddDataSetNumExamples);
        }

        public Builder(ThresholdAlgorithm thresholdAlgorithm, int rddDataSetNumExamples) {
            super(thresholdAlgorithm, rddDataSetNumExamples);
        }

        public Builder(VoidConfiguration voidConfiguration, ThresholdAlgorithm thresholdAlgorithm, int rddDataSetNumExamples) {
            super(voidConfiguration, thresholdAlgorithm, rddDataSetNumExamples);
        }

        public Builder(VoidConfiguration voidConfiguration, Integer numWorkers, ThresholdAlgorithm thresholdAlgorithm, int rddDataSetNumExamples) {
            super(voidConfiguration, numWorkers, thresholdAlgorithm, rddDataSetNumExamples);
        }

        @Override
        public SharedTrainingMaster8bit build() {
            SharedTrainingMaster8bit m = new SharedTrainingMaster8bit(voidConfiguration, numWorkers, rddTrainingApproach, storageLevel,
                    collectTrainingStats, repartitionStrategy, repartition, thresholdAlgorithm, residualPostProcessor, rddDataSetNumExamples,
                    batchSize, debugLongerIterations, numWorkersPerNode, workerPrefetchNumBatches, repartitioner, workerTogglePeriodicGC,
                    workerPeriodicGCFrequency, encodingDebugMode);
            if (transport != null) m.transport = transport;
            return m;
        }
    }
}
