package org.bnb4j.examples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** The SameDiff example the docs point to runs to its end and reports the 8-bit state it kept. */
class SameDiffExampleTest {
    @Test
    void runsAndReportsTheEightBitState() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            SameDiffExample.main(new String[0]);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("[absmax, check, codes]"), out);
        // 16384 parameters, two 8-bit states: ~2 bytes per parameter, not the 8 of 32-bit Adam
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(([0-9.]+) bytes/param\\)").matcher(out);
        assertTrue(m.find(), out);
        double perParam = Double.parseDouble(m.group(1));
        assertTrue(perParam > 2.0 && perParam < 2.1, out);
        assertTrue(out.contains("mean |error|"), out);
    }
}
