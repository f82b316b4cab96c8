package org.bnb4j.examples.lm;

import java.util.ArrayList;
import java.util.List;

/** What one training run measured. */
public final class RunResult {
    public final String updater;
    public final List<double[]> trainLoss = new ArrayList<>(); // {step, loss}
    public final List<double[]> validationLoss = new ArrayList<>();
    public final List<Double> fitMs = new ArrayList<>();         // each training step's time, in step order
    public long numParams;
    public long stateBytes;          // bytes of DL4J's updater state view
    public double optimizerStepMs;   // one applyUpdater over all parameters
    public double fitMsPerStep;      // whole training iteration (forward, backward, update), mean over the run
    public double fitMsMedian;       // the same, median over the run's steps
    public double validationAccuracy;
    public String sample = "";

    public RunResult(String updater) {
        this.updater = updater;
    }

    public double finalValidationLoss() {
        return validationLoss.isEmpty() ? Double.NaN : validationLoss.get(validationLoss.size() - 1)[1];
    }

    /** Mean train loss over the last {@code k} recorded steps (the per-step loss is noisy). */
    public double finalTrainLoss(int k) {
        int n = trainLoss.size();
        if (n == 0) return Double.NaN;
        double s = 0;
        int from = Math.max(0, n - k);
        for (int i = from; i < n; i++) s += trainLoss.get(i)[1];
        return s / (n - from);
    }

    /** Per-character perplexity on the validation text. */
    public double perplexity() {
        return Math.exp(finalValidationLoss());
    }
}
