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

    @Test
    void badOptionsGiveAClearMessage() {
        int[] code = new int[1];
        String err = captureErr(() -> code[0] = TrainComparison.run("--updaters", "adam,adamx"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("unknown updater 'adamx'"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--updaters", "adam8bit,Adam8bit"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--updaters names 'Adam8bit' twice"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--steps", "0"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--steps must be >= 1"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--noisy=-1"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--noisy must be 0..64"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--updaters", ","));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--updaters needs at least one name"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--lr", "Infinity"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--lr must be finite"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--corpus-chars", "10000", "--seq", "600"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--seq must be at most the held-out text"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--corpus-chars", "10000", "--seq", "499"));
        assertEquals(2, code[0]);
        err = captureErr(() -> code[0] = TrainComparison.run("--batch", "1000", "--seq", "30000", "--corpus-chars", "10000000"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--batch x --seq"), err);
        err = captureErr(() -> code[0] = TrainComparison.run("--hidden", "many"));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--hidden"), err);
        assertEquals(0, TrainComparison.run("--help"));
    }

    /** A report or paged-state path that cannot be written is refused before any training (it used to fail after the run). */
    @Test
    void unusableOutputPathsAreRefusedFirst(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.createFile(dir.resolve("afile"));
        int[] code = new int[1];
        for (String bad : new String[]{file.toString(), file.resolve("sub").toString()}) {
            String err = captureErr(() -> code[0] = TrainComparison.run("--out", bad));
            assertEquals(2, code[0], bad);
            assertTrue(err.contains("--out " + bad), err);
        }
        String err = captureErr(() -> code[0] = TrainComparison.run("--scale-demo", "--paged-dir", file.toString()));
        assertEquals(2, code[0]);
        assertTrue(err.contains("--paged-dir " + file + " is not a directory"), err);
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
