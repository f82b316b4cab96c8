package org.bnb4j.spark;

import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * The worker of {@link ParameterAveragingTrainingMaster8bit}: DL4J's ParameterAveragingTrainingWorker
 * (it builds the network from the broadcast, packed 8-bit state included, and trains it), except that
 * the result of a split carries the updater state in the summable form of {@link FloatUpdaterState}
 * (8-bit blocks dequantized to float, other blocks as they are) instead of the raw view, whose packed
 * 8-bit words DL4J's sum and division would turn into garbage.
 */
public class ParameterAveragingTrainingWorker8bit extends ParameterAveragingTrainingWorker {
    private static final long serialVersionUID = 1L;

    public ParameterAveragingTrainingWorker8bit(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
                                                Collection<TrainingHook> trainingHooks, Collection<TrainingListener> listeners,
                                                StatsStorageRouterProvider routerProvider) {
        super(broadcast, saveUpdater, configuration, trainingHooks, listeners, routerProvider);
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResult(MultiLayerNetwork network) {
        return withFloatState(super.getFinalResult(network), network);
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResult(ComputationGraph network) {
        return withFloatState(super.getFinalResult(network), network);
    }

    /** DL4J's result with its updater state (present only with saveUpdater) in the summable form. */
    static ParameterAveragingTrainingResult withFloatState(ParameterAveragingTrainingResult r, Model network) {
        if (r == null || r.getUpdaterState() == null) return r;
        INDArray state = FloatUpdaterState.dequantize(network);
        ParameterAveragingTrainingResult out = new ParameterAveragingTrainingResult(r.getParameters(), state, r.getScore(),
                r.getSparkTrainingStats(), r.getListenerMetaData(), r.getListenerStaticInfo(), r.getListenerUpdates());
        return out;
    }
}
