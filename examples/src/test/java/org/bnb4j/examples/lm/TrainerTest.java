package org.bnb4j.examples.lm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {

    static Trainer tiny() throws Exception {
        Trainer.Options o = new Trainer.Options();
        o.hidden = 16;
        o.steps = 5;
        o.batch = 4;
        o.seq = 12;
        o.evalEvery = 2;
        o.evalBatches = 2;
        o.progress = false;
        return new Trainer(new CharCorpus(CharCorpus.dl4jSources(20_000), 0.1), o);
    }

    /** Lockstep training changes nothing an updater computes: each run equals training that updater alone. */
    @Test
    void lockstepRunsEqualRunsAlone() throws Exception {
        Trainer t = tiny();
        List<RunResult> together = t.train(List.of("adam", "adam8bit", "lion8bit"));
        for (RunResult r : together) {
            RunResult alone = t.train(List.of(r.updater)).get(0);
            assertEquals(5, r.trainLoss.size());
            for (int s = 0; s < 5; s++) {
                assertEquals(alone.trainLoss.get(s)[1], r.trainLoss.get(s)[1], 0.0, r.updater + " train loss at step " + (s + 1));
            }
            assertEquals(List.of(2.0, 4.0, 5.0), r.validationLoss.stream().map(v -> v[0]).toList(), "validation steps");
            assertEquals(alone.finalValidationLoss(), r.finalValidationLoss(), 0.0, r.updater);
            assertEquals(alone.sample, r.sample, r.updater);
        }
        assertNotEquals(together.get(0).trainLoss.get(4)[1], together.get(1).trainLoss.get(4)[1], "the updaters differ");
    }

    @Test
    void recordsStepTimesAndState() throws Exception {
        RunResult r = tiny().train(List.of("adam8bit")).get(0);
        assertTrue(r.fitMsMedian > 0 && r.fitMsPerStep > 0, r.fitMsMedian + " / " + r.fitMsPerStep);
        assertTrue(r.optimizerStepMs > 0);
        assertTrue(r.numParams > 1000);
        assertTrue(r.stateBytes > 0 && r.stateBytes < 4 * r.numParams, "8-bit state: " + r.stateBytes);
    }
}
