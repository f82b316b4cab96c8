package org.bnb4j.distributed;

import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.bnb4j.optim.OptimKind;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the averaging tests check of a network's single 8-bit updater block: its states dequantized,
 * and whether a requantized average lies within one quantization step of the float average. Used
 * here and by dl4j-spark's master tests (public for them: they take it from this module's test-jar).
 */
public final class AveragedStates {
    private AveragedStates() {}

    /** The network's single updater block (8-bit) dequantized: one FLOAT array per state. */
    public static INDArray[] dequantized(Model m) {
        UpdaterBlock b = UpdaterStateAveraging.updater(m).getUpdaterBlocks().get(0);
        long n = b.getParamOffsetEnd() - b.getParamOffsetStart();
        OptimState8bit st = ((BlockwiseGradientUpdater) b.getGradientUpdater()).packedState(n);
        INDArray[] v = new INDArray[st.kind().numStates()];
        for (int s = 0; s < v.length; s++) v[s] = Nd4j.create(DataType.FLOAT, n);
        st.dequantize(v);
        return v;
    }

    /**
     * null when every element of every state in {@code got} is within one quantization step of
     * {@code average} (the distance between the codes around it in the state's map, at the block's
     * scale: the average's absmax over the block), else the first element that is not.
     */
    public static String withinOneStep(OptimKind kind, int blocksize, INDArray[] average, INDArray[] got) {
        for (int s = 0; s < got.length; s++) {
            float[] avg = average[s].toFloatVector(), g = got[s].toFloatVector();
            float[] map = kind.state(s).map().values();
            for (int start = 0; start < avg.length; start += blocksize) {
                int end = Math.min(avg.length, start + blocksize);
                float scale = 0;
                for (int i = start; i < end; i++) scale = Math.max(scale, Math.abs(avg[i]));
                for (int i = start; i < end; i++) {
                    float step = scale * gapAround(map, scale == 0 ? 0 : avg[i] / scale);
                    if (!(Math.abs(g[i] - avg[i]) <= step * 1.0001f + 1e-30f)) {
                        return kind + " state " + (s + 1) + " element " + i + ": " + g[i] + " vs average " + avg[i] + " (step " + step + ")";
                    }
                }
            }
        }
        return null;
    }

    /** The largest distance between neighbouring codes around y (the codes just below and above it, and theirs). */
    static float gapAround(float[] map, float y) {
        int i = 0;
        while (i < map.length - 1 && map[i + 1] <= y) i++;
        float g = 0;
        for (int j = Math.max(0, i - 1); j < Math.min(map.length - 1, i + 2); j++) g = Math.max(g, map[j + 1] - map[j]);
        return g;
    }
}
