package org.bnb4j.examples.lm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportWriterTest {

    static RunResult run(String name, double offset, long stateBytes) {
        RunResult r = new RunResult(name);
        for (int s = 1; s <= 30; s++) r.trainLoss.add(new double[]{s, 4.0 - s * 0.05 + offset});
        r.validationLoss.add(new double[]{15, 3.5 + offset});
        r.validationLoss.add(new double[]{30, 2.6 + offset});
        r.numParams = 1000;
        r.stateBytes = stateBytes;
        r.optimizerStepMs = 0.5;
        r.fitMsPerStep = 12.5;
        r.fitMsMedian = 11.5;
        r.validationAccuracy = 0.4;
        r.sample = "public class X {}";
        return r;
    }

    @Test
    void writesChartsAndSummary(@TempDir Path dir) throws Exception {
        ReportWriter.write(dir, List.of(run("adam", 0, 8000), run("adam8bit", 0.01, 2060)), "Setup: test.");
        BufferedImage loss = ImageIO.read(dir.resolve(ReportWriter.LOSS_PNG).toFile());
        BufferedImage mem = ImageIO.read(dir.resolve(ReportWriter.MEMORY_TIME_PNG).toFile());
        assertEquals(1000, loss.getWidth());
        assertEquals(600, mem.getHeight());
        String md = Files.readString(dir.resolve(ReportWriter.SUMMARY_MD));
        assertTrue(md.contains("| adam8bit | 1,000 |"), md);
        assertTrue(md.contains("2.61"), "final validation loss of adam8bit: " + md);
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "%.3f", Math.exp(2.6))), "perplexity");
        assertTrue(md.contains("| 2.06 |"), "bytes per parameter");
        assertTrue(md.contains("| 11.5 / 12.5 ms |"), "training step median / mean: " + md);
        assertTrue(md.contains("Setup: test."));
        assertEquals(Math.exp(2.6), run("a", 0, 1).perplexity(), 1e-12);
        assertEquals(4.0 - 0.05 * 25.5, run("a", 0, 1).finalTrainLoss(10), 1e-9);
    }
}
