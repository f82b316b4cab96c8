package org.bnb4j.examples.bench;

import org.bnb4j.examples.memory.Processes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark mains refuse bad arguments before measuring anything: exit 2 and a line naming the argument; --help exits 0. */
class BenchArgsTest {
    private static int run(Class<?> main, List<String> out, String... args) throws Exception {
        return Processes.run(Processes.java(main.getName(), List.of("-Xmx256m"), List.of(args)), null, out);
    }

    @Test
    void badArgumentsExitWithStatus2AndAMessage() throws Exception {
        String[][] cases = {{"0", "3"}, {"1000", "0"}, {"abc"}, {"1000", "3", "--bogus"}, {"1000", "3", "extra"}, {"1000", "3", "--noisy=x"},
                {"1000,100000000000", "1"}};
        String[] expect = {"size must be >= 1", "runs must be >= 1", "size must be a whole number, got 'abc'", "unknown option --bogus",
                "unexpected argument 'extra'", "--noisy needs a whole number", "size 100000000000 needs more than 372 GiB for one float array"};
        for (int i = 0; i < cases.length; i++) {
            List<String> out = new ArrayList<>();
            assertEquals(2, run(UpdaterBench.class, out, cases[i]), String.join(" ", cases[i]) + ": " + out);
            String joined = String.join("\n", out);
            assertTrue(joined.contains(expect[i]) && joined.contains("usage: UpdaterBench"), joined);
        }
        List<String> out = new ArrayList<>();
        assertEquals(2, run(QuantizeBench.class, out, "0"), out.toString());
        out.clear();
        assertEquals(0, run(PagedBench.class, out, "--help"), out.toString());
        assertTrue(String.join("\n", out).contains("usage: PagedBench"), out.toString());
    }
}
