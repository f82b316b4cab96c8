package org.bnb4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingAggregationTuple;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingElementAddFunction;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingElementCombineFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Collection;

/**
 * DL4J's {@link ParameterAveragingTrainingMaster} (dl4j-spark 1.0.0-M2) for networks trained with
 * bnb4j's 8-bit updaters, with {@code saveUpdater(true)}: the updater state is averaged as it should be
 * (every worker's 8-bit state dequantized, summed and divided in float, requantized once into the
 * master's network). The same builder settings; everything else is DL4J's.
 *
 * <pre>{@code
 * TrainingMaster tm = new ParameterAveragingTrainingMaster8bit.Builder(2, 1)
 *         .batchSizePerWorker(32).averagingFrequency(5).saveUpdater(true).build();
 * SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, tm);
 * sparkNet.fit(rdd);
 * }</pre>
 *
 * How the state moves, per split:
 * <ol>
 * <li>The master broadcasts its network's parameters and packed updater view (as DL4J does: bit for
 *   bit, so each worker starts from the master's sealed 8-bit state).</li>
 * <li>Each worker ({@link ParameterAveragingTrainingWorker8bit}) trains and returns its parameters and
 *   its updater state in the summable form of {@link FloatUpdaterState}: 8-bit blocks dequantized to
 *   float, all other blocks (32-bit twin, DL4J's own updaters, small blocks) as they are.</li>
 * <li>DL4J's aggregation functions sum the results across the cluster (tree aggregate) and the master
 *   divides by their count: for the float form that is the average of the dequantized moments.</li>
 * <li>The master writes the averaged parameters and {@link FloatUpdaterState#requantizeInto requantizes}
 *   the averaged state into its network's packed view with a fresh checksum; 32-bit blocks are assigned.</li>
 * </ol>
 * With {@code saveUpdater(false)} this master behaves exactly like DL4J's: nothing is averaged and every
 * split's workers start from the master network's (unchanged) updater state.
 */
public class ParameterAveragingTrainingMaster8bit extends ParameterAveragingTrainingMaster {
    private static final Logger log = LoggerFactory.getLogger(ParameterAveragingTrainingMaster8bit.class);

    /** Told after every split whose results were averaged (for logs and tests); runs on the driver. */
    public interface AveragingListener {
        /**
         * @param split 1-based split number of the current fit()
         * @param totalSplits splits of the current fit()
         * @param results number of worker results averaged
         * @param averagedState the averaged updater state in {@link FloatUpdaterState}'s form, before it
         *                      was requantized into {@code master} (null without saveUpdater)
         * @param master the master's network, holding the averaged parameters and requantized state
         */
        void averaged(int split, int totalSplits, int results, INDArray averagedState, Model master);
    }

    @JsonIgnore
    private transient AveragingListener averagingListener;
    @JsonIgnore
    private transient boolean warnedNoUpdater;

    /** For Jackson ({@link #fromJson}). */
    protected ParameterAveragingTrainingMaster8bit() {
        super();
    }

    protected ParameterAveragingTrainingMaster8bit(Builder builder) {
        super(builder);
    }

    /** Sets (or clears, with null) the listener told after each averaging. */
    public void setAveragingListener(AveragingListener listener) {
        this.averagingListener = listener;
    }

    /** A master from the JSON of {@link #toJson()} (of this class or DL4J's ParameterAveragingTrainingMaster). */
    public static ParameterAveragingTrainingMaster8bit fromJson(String json) {
        try {
            return getJsonMapper().readValue(json, ParameterAveragingTrainingMaster8bit.class);
        } catch (IOException e) {
            throw new RuntimeException("Could not parse JSON", e);
        }
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        MultiLayerNetwork net = network.getNetwork();
        warnWithoutUpdater(net);
        return worker(network.getSparkContext().broadcast(broadcastTuple(net.getLayerWiseConfigurations(), null, net.params(),
                net.getUpdater().getStateViewArray())), false);
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        ComputationGraph g = graph.getNetwork();
        warnWithoutUpdater(g);
        return worker(graph.getSparkContext().broadcast(broadcastTuple(null, g.getConfiguration(), g.params(),
                g.getUpdater().getStateViewArray())), true);
    }

    private NetBroadcastTuple broadcastTuple(MultiLayerConfiguration conf, ComputationGraphConfiguration graphConf, INDArray params,
                                             INDArray updaterView) {
        if (collectTrainingStats) stats.logBroadcastStart();
        return new NetBroadcastTuple(conf, graphConf, params, updaterView);
    }

    private ParameterAveragingTrainingWorker8bit worker(Broadcast<NetBroadcastTuple> broadcast, boolean graph) {
        if (collectTrainingStats) stats.logBroadcastEnd();
        WorkerConfiguration wc = new WorkerConfiguration(graph, rddDataSetNumExamples, batchSizePerWorker, averagingFrequency,
                prefetchNumBatches, collectTrainingStats);
        return new ParameterAveragingTrainingWorker8bit(broadcast, saveUpdater, wc, trainingHookList, listeners, getRouterProvider());
    }

    private void warnWithoutUpdater(Model m) {
        if (saveUpdater || warnedNoUpdater || !FloatUpdaterState.has8bitState(m)) return;
        warnedNoUpdater = true;
        log.warn("saveUpdater(false) with 8-bit updater state: the workers' optimizer state is not averaged or kept; every split "
                + "starts again from the master network's updater state (use saveUpdater(true) to average it)");
    }

    /**
     * Sums the workers' results with DL4J's aggregation functions, divides by their count, and writes
     * the averaged parameters, the averaged updater state (requantized, see {@link FloatUpdaterState})
     * and the mean score into the master's network; then DL4J's bookkeeping (stats, listener storage,
     * iteration count).
     */
    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<ParameterAveragingTrainingResult> results,
                                  int splitNum, int totalSplits) {
        if (collectTrainingStats) stats.logAggregateStartTime();
        ParameterAveragingAggregationTuple sum = results.treeAggregate(null, new ParameterAveragingElementAddFunction(),
                new ParameterAveragingElementCombineFunction(), aggregationDepth);
        if (collectTrainingStats) {
            stats.logAggregationEndTime();
            stats.logProcessParamsUpdaterStart();
        }
        INDArray params = sum == null ? null : sum.getParametersSum();
        if (params != null) {
            int count = sum.getAggregationsCount();
            params.divi(count);
            INDArray state = sum.getUpdaterStateSum();
            if (state != null) state.divi(count);
            Model root;
            if (network != null) {
                MultiLayerNetwork net = network.getNetwork();
                net.setParameters(params);
                root = net;
            } else {
                ComputationGraph g = graph.getNetwork();
                g.setParams(params);
                root = g;
            }
            if (state != null) FloatUpdaterState.requantizeInto(root, state);
            double score = sum.getScoreSum() / count;
            if (network != null) network.setScore(score);
            else graph.setScore(score);
            if (averagingListener != null) averagingListener.averaged(splitNum, totalSplits, count, state, root);
        } else {
            log.info("Split {} of {}: no worker returned a result (no data), nothing averaged", splitNum, totalSplits);
        }
        if (collectTrainingStats) {
            stats.logProcessParamsUpdaterEnd();
            stats.addWorkerStats(sum == null ? null : sum.getSparkTrainingStats());
        }
        if (statsStorage != null && sum != null) {
            Collection<StorageMetaData> meta = sum.getListenerMetaData();
            if (meta != null && !meta.isEmpty()) statsStorage.putStorageMetaData(meta);
            Collection<Persistable> staticInfo = sum.getListenerStaticInfo();
            if (staticInfo != null && !staticInfo.isEmpty()) statsStorage.putStaticInfo(staticInfo);
            Collection<Persistable> updates = sum.getListenerUpdates();
            if (updates != null && !updates.isEmpty()) statsStorage.putUpdate(updates);
        }
        Nd4j.getExecutioner().commit();
        log.debug("Completed training of split {} of {}", splitNum, totalSplits);
        if (params != null) {
            // the workers stepped averagingFrequency times from the master's iteration count (bias correction, schedules)
            if (network != null) {
                MultiLayerConfiguration conf = network.getNetwork().getLayerWiseConfigurations();
                conf.setIterationCount(conf.getIterationCount() + averagingFrequency);
            } else {
                ComputationGraphConfiguration conf = graph.getNetwork().getConfiguration();
                conf.setIterationCount(conf.getIterationCount() + averagingFrequency);
            }
        }
    }

    /**
     * DL4J's ParameterAveragingTrainingMaster.Builder (every setting) whose build() returns a
     * {@link ParameterAveragingTrainingMaster8bit}.
     */
    public static class Builder extends ParameterAveragingTrainingMaster.Builder {
        /** @see ParameterAveragingTrainingMaster.Builder#Builder(int) */
        public Builder(int rddDataSetNumExamples) {
            super(rddDataSetNumExamples);
        }

        /** @see ParameterAveragingTrainingMaster.Builder#Builder(Integer, int) */
        public Builder(Integer numWorkers, int rddDataSetNumExamples) {
            super(numWorkers, rddDataSetNumExamples);
        }

        @Override
        public ParameterAveragingTrainingMaster8bit build() {
            return new ParameterAveragingTrainingMaster8bit(this);
        }
    }
}
