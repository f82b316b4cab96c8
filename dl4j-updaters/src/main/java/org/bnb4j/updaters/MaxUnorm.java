package org.bnb4j.updaters;

import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gives the 8-bit updaters the parameters that bitsandbytes' {@code max_unorm} compares the update
 * with. DL4J's GradientUpdater contract passes only the gradient, so a config with
 * {@code maxUnorm(x)} needs this once after the network is initialised, restored or given a new
 * updater (the step fails with a message saying so otherwise):
 * <pre>  net.init(); MaxUnorm.bind(net);</pre>
 * It walks DL4J's updater blocks (one GradientUpdater per block of adjacent parameters with equal
 * configs) and hands each 8-bit updater the parameter views of its block.
 */
public final class MaxUnorm {
    private MaxUnorm() {}

    /** @return how many updaters were bound */
    public static int bind(MultiLayerNetwork net) {
        return bindBlocks(net.getUpdater(true));
    }

    /** @return how many updaters were bound */
    public static int bind(ComputationGraph graph) {
        return bindBlocks(graph.getUpdater(true));
    }

    /**
     * SameDiff keeps one updater per trainable variable, created when training is initialised; this
     * initialises it first if needed (SameDiff's initializeTraining() is not public), so call it after
     * setTrainingConfig and before the first fit (and again after SameDiff.load).
     *
     * @return how many updaters were bound
     */
    public static int bind(SameDiff sd) {
        if (sd.getTrainingConfig() == null) {
            throw new IllegalStateException("the SameDiff graph has no TrainingConfig: call sd.setTrainingConfig(...) first");
        }
        Map<String, GradientUpdater> updaters = sd.getUpdaterMap();
        if (updaters == null || updaters.isEmpty()) {
            initializeTraining(sd);
            updaters = sd.getUpdaterMap();
        }
        int bound = 0;
        for (Map.Entry<String, GradientUpdater> e : updaters.entrySet()) {
            if (e.getValue() instanceof BlockwiseGradientUpdater) {
                ((BlockwiseGradientUpdater) e.getValue()).bindParameters(List.of(sd.getVariable(e.getKey()).getArr()));
                bound++;
            }
        }
        return bound;
    }

    private static void initializeTraining(SameDiff sd) {
        try {
            java.lang.reflect.Method m = SameDiff.class.getDeclaredMethod("initializeTraining");
            m.setAccessible(true);
            m.invoke(sd);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("could not initialise SameDiff training to bind parameters; fit once, then call "
                    + "MaxUnorm.bind again", e);
        }
    }

    private static int bindBlocks(Updater updater) {
        if (!(updater instanceof BaseMultiLayerUpdater)) {
            throw new IllegalStateException("unsupported network updater " + (updater == null ? null : updater.getClass().getName())
                    + ": call init() first");
        }
        int bound = 0;
        for (UpdaterBlock block : ((BaseMultiLayerUpdater<?>) updater).getUpdaterBlocks()) {
            GradientUpdater u = block.getGradientUpdater();
            if (!(u instanceof BlockwiseGradientUpdater)) continue;
            List<INDArray> params = new ArrayList<>();
            for (UpdaterBlock.ParamState ps : block.getLayersAndVariablesInBlock()) params.add(ps.getParamView());
            ((BlockwiseGradientUpdater) u).bindParameters(params);
            bound++;
        }
        return bound;
    }
}
