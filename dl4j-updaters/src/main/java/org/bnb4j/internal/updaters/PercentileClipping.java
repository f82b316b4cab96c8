package org.bnb4j.internal.updaters;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * bitsandbytes' percentile clipping: the squared gradient norms of the last {@value #HISTORY} steps
 * are kept (in the updater view, so they are saved and restored with the state); the gradient is
 * scaled by clip / norm when its norm exceeds the given percentile of that history, where
 * clip = sqrt(sorted[percentile]). Slot = step % 100; the first step fills every slot with its norm,
 * as bitsandbytes' kernel does. A history that is all zero (a fresh or reset state at a later
 * iteration) is treated as a first step too, so that a restarted state does not clip to zero.
 */
final class PercentileClipping {
    static final int HISTORY = 100;

    private PercentileClipping() {}

    /**
     * Records this step's norm in {@code history} (HISTORY floats) and returns the factor the gradient
     * must be multiplied by (1 when no clipping applies).
     */
    static float scale(INDArray gradient, INDArray history, long step, int percentile) {
        double norm = gradient.norm2Number().doubleValue();
        float squared = (float) (norm * norm);
        float[] h = history.toFloatVector();
        int slot = (int) (step % HISTORY);
        boolean empty = true;
        for (float v : h) empty &= v == 0f;
        if (step == 1 || empty) {
            Arrays.fill(h, squared);
            history.assign(squared);
        } else {
            h[slot] = squared;
            history.putScalar(slot, squared);
        }
        float current = (float) Math.sqrt(squared);
        Arrays.sort(h); // NaN last, as torch.sort; h is a copy of the history
        float clip = (float) Math.sqrt(h[percentile]);
        return current > clip ? clip / current : 1f;
    }
}
