package org.bnb4j.examples;

import org.bnb4j.examples.lm.ReportWriter;
import org.bnb4j.examples.lm.Updaters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainComparisonTest {

    static String captureErr(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }

    /** The command refuses args with status 2 and a message containing fragment. */
    static void assertRefused(String fragment, String... args) {
        int[] code = new int[1];
        String err = captureErr(() -> code[0] = TrainComparison.run(args));
        assertEquals(2, code[0], String.join(" ", args));
        assertTrue(err.contains(fragment), err);
    }

    @Test
    void badOptionsGiveAClearMessage() {
        assertRefused("unknown updater 'adamx'", "--updaters", "adam,adamx");
        assertRefused("--updaters names 'Adam8bit' twice", "--updaters", "adam8bit,Adam8bit");
        assertRefused("--steps must be >= 1", "--steps", "0");
        assertRefused("--noisy must be 0..64", "--noisy=-1");
        assertRefused("--updaters needs at least one name", "--updaters", ",");
        assertRefused("--lr must be finite", "--lr", "Infinity");
        assertRefused("--seq must be at most the held-out text", "--corpus-chars", "10000", "--seq", "600");
        assertRefused("--seq must be at most the held-out text", "--corpus-chars", "10000", "--seq", "499");
        assertRefused("--batch x --seq", "--batch", "1000", "--seq", "30000", "--corpus-chars", "10000000");
        assertRefused("--hidden", "--hidden", "many");
        // the usage under the error shows the defaults, not the rejected values
        String usage = captureErr(() -> TrainComparison.run("--steps=-5", "--lr=0")).replaceAll("\\s+", " ");
        assertTrue(usage.contains("training steps per updater (default: 250)") && usage.contains("learning rate (default: 0.002)"), usage);
        assertEquals(0, TrainComparison.run("--help"));
    }

    /** A report or paged-state path that cannot be written is refused before any training (it used to fail after the run). */
    @Test
    void unusableOutputPathsAreRefusedFirst(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.createFile(dir.resolve("afile"));
        for (String bad : new String[]{file.toString(), file.resolve("sub").toString()}) assertRefused("--out " + bad, "--out", bad);
        assertRefused("--paged-dir " + file + " is not a directory", "--scale-demo", "--paged-dir", file.toString());
        assertNull(TrainComparison.directoryProblem(dir.resolve("new/report")), "a missing directory under a writable one is made by the writer");
        assertFalse(java.nio.file.Files.exists(dir.resolve("new")), "nothing is created by the check");
    }

    /** The help lists every updater name the option accepts (taken from Updaters, not written out). */
    @Test
    void helpListsEveryUpdater() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, TrainComparison.run("--help"));
        } finally {
            System.setOut(old);
        }
        String help = buf.toString().replaceAll("\\s+", " ");
        assertTrue(help.contains(String.join(", ", Updaters.NAMES)), help);
    }

    /** The whole job on a tiny configuration: trains both updaters and writes the report. */
    @Test
    void tinyRunWritesTheReport(@TempDir Path dir) throws Exception {
        int code = TrainComparison.run("--steps", "4", "--hidden", "16", "--batch", "4", "--seq", "12", "--eval-every", "2",
                "--corpus-chars", "20000", "--updaters", "adam,adam8bit,lion8bit", "--no-progress", "--out", dir.toString());
        assertEquals(0, code);
        String md = Files.readString(dir.resolve(ReportWriter.SUMMARY_MD));
        assertTrue(md.contains("| adam |") && md.contains("| adam8bit |") && md.contains("| lion8bit |"), md);
        assertTrue(Files.size(dir.resolve(ReportWriter.LOSS_PNG)) > 10_000);
        assertTrue(Files.size(dir.resolve(ReportWriter.MEMORY_TIME_PNG)) > 10_000);
        List<String> csv = Files.readAllLines(dir.resolve(ReportWriter.STEPS_CSV));
        assertEquals("updater,step,train_loss,training_step_ms", csv.get(0));
        assertEquals(1 + 3 * 4, csv.size(), "a row per updater and step");
        String[] row = csv.get(5).split(",");
        assertEquals("adam8bit", row[0]);
        assertEquals("1", row[1]);
        assertTrue(Double.parseDouble(row[2]) > 0 && Double.parseDouble(row[3]) > 0, csv.get(5));
    }
}
