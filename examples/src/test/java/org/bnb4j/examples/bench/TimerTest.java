package org.bnb4j.examples.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Timer.interleavedSeconds runs one of each operation per round, its setup first and untimed; median of odd and even counts. */
class TimerTest {
    @Test
    void interleavedRunsOneOfEachPerRoundAfterTheWarmUp() {
        List<String> calls = new ArrayList<>();
        Runnable[] setup = {() -> calls.add("setA"), () -> calls.add("setB")};
        Runnable[] op = {() -> calls.add("A"), () -> {
            calls.add("B");
            long until = System.nanoTime() + 20_000_000;  // B takes >= 20 ms, A about nothing
            while (System.nanoTime() < until) Thread.onSpinWait();
        }};
        double[][] t = Timer.interleavedSeconds(2, 3, setup, op);
        List<String> round = List.of("setA", "A", "setB", "B");
        assertEquals(5 * round.size(), calls.size());
        for (int r = 0; r < 5; r++) assertEquals(round, calls.subList(4 * r, 4 * r + 4), "round " + r);
        assertEquals(2, t.length);
        for (double[] times : t) assertEquals(3, times.length);
        for (int r = 0; r < 3; r++) {
            assertTrue(t[1][r] >= 0.02, "B's time " + t[1][r]);
            assertTrue(t[0][r] >= 0 && t[0][r] < t[1][r], "A's time " + t[0][r]);
        }
    }

    @Test
    void warmRoundsLastTheGivenTimePerOperationThenTheTimedRounds() {
        int[] runs = new int[2];
        Runnable[] setup = {() -> {}, () -> {}};
        Runnable[] op = {() -> runs[0]++, () -> {
            runs[1]++;
            long until = System.nanoTime() + 5_000_000;  // 5 ms per run
            while (System.nanoTime() < until) Thread.onSpinWait();
        }};
        long start = System.nanoTime();
        double[][] t = Timer.interleavedSecondsWarm(0.05, 4, setup, op);
        double elapsed = (System.nanoTime() - start) / 1e9;
        // warm-up: at least 2 x 0.05 s of rounds (each >= 5 ms, so >= 20 of them), then 4 timed rounds
        assertEquals(runs[0], runs[1], "one run of each per round");
        assertTrue(runs[0] >= 20 + 4, "rounds: " + runs[0]);
        assertTrue(elapsed >= 0.1 + 4 * 0.005, "elapsed " + elapsed);
        assertEquals(4, t[0].length);
        for (double x : t[1]) assertTrue(x >= 0.005, "timed run " + x);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        double[] v = {3, 1, 2};
        assertEquals(2.0, Timer.median(v));
        assertArrayEquals(new double[]{3, 1, 2}, v, "the input is left as it was");
        assertEquals(2.5, Timer.median(new double[]{4, 1, 3, 2}));
    }

    @Test
    void medianOfPerRoundRatiosNotRatioOfMedians() {
        double[] base = {10, 20, 40}, x = {5, 4, 40};   // per round: 2, 5, 1; medians 20 / 5 = 4
        assertEquals(2.0, Timer.medianOfRatios(base, x));
        assertNotEquals(Timer.median(base) / Timer.median(x), Timer.medianOfRatios(base, x));
    }
}
