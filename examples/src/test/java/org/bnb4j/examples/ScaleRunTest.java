package org.bnb4j.examples;

import org.bnb4j.examples.memory.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The scale demo's child run, as the demo starts it (a JVM of its own on this JVM's class path): each
 * updater trains and reports its state's resident bytes, DL4J's Adam too (its process has not loaded
 * bnb4j's native library through an 8-bit updater).
 */
class ScaleRunTest {
    @Test
    void everyUpdaterRunsInAChildJvmAndReportsItsState(@TempDir Path dir) throws Exception {
        for (String updater : new String[]{"adam", "adam8bit"}) {
            List<String> out = new ArrayList<>();
            int rc = Processes.run(Processes.java(ScaleRun.class.getName(), List.of("-Xmx512m"),
                    List.of(updater, "96", "2", dir.toString())), null, out);
            assertEquals(0, rc, updater + ": " + String.join("\n", out));
            String result = out.stream().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow(() -> new AssertionError(updater + ": no RESULT in " + out));
            long stateBytes = field(result, "stateBytes"), resident = field(result, "stateResident");
            assertTrue(stateBytes > 0 && resident > 0, updater + ": " + result);
        }
    }

    private static long field(String line, String name) {
        for (String kv : line.split(" ")) if (kv.startsWith(name + "=")) return Long.parseLong(kv.substring(name.length() + 1));
        throw new AssertionError(name + " missing in " + line);
    }
}
