package org.bnb4j.distributed;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Counts the steps each worker model takes between averaging rounds. ParallelWrapper hands a round's
 * minibatches to workers 0, 1, ... and the last round of an epoch may feed fewer than all of them:
 * only the workers that stepped since the last averaging take part in it (as in DL4J's own averaging).
 * ParallelWrapper shares a listener that is not a RoutingIterationListener among all workers.
 */
final class FitCounter extends BaseTrainingListener {
    private final Map<Model, Long> steps = new IdentityHashMap<>();

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        synchronized (steps) {
            steps.merge(model, 1L, Long::sum);
        }
    }

    /** Steps taken by {@code model} since the last {@link #reset}. */
    long steps(Model model) {
        synchronized (steps) {
            return steps.getOrDefault(model, 0L);
        }
    }

    void reset() {
        synchronized (steps) {
            steps.clear();
        }
    }
}
