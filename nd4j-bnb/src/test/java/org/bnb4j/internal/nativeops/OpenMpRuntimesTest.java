package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One OpenMP runtime per process: libbnb4j must share ND4J's bundled libgomp whichever of the two is
 * used first (two runtimes mean two pools of spinning threads on the same cores).
 */
class OpenMpRuntimesTest {

    private static boolean linux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    @Test
    void findsOpenMpRuntimesInMaps() {
        List<String> lines = Arrays.asList(
                "7f1c2a000000-7f1c2a008000 r--p 00000000 08:01 1234 /home/u/.javacpp/cache/nd4j-native.jar/org/nd4j/libgomp.so.1",
                "7f1c2a008000-7f1c2a020000 r-xp 00008000 08:01 1234 /home/u/.javacpp/cache/nd4j-native.jar/org/nd4j/libgomp.so.1",
                "7f1c2b000000-7f1c2b008000 r-xp 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0",
                "7f1c2c000000-7f1c2c008000 r-xp 00000000 08:01 98 /opt/intel/lib/libiomp5.so",
                "7f1c2d000000-7f1c2d008000 r-xp 00000000 08:01 97 /usr/lib/llvm-14/lib/libomp.so.5 (deleted)",
                "7f1c2e000000-7f1c2e008000 r-xp 00000000 08:01 96 /usr/lib/x86_64-linux-gnu/libgomp-plugin-nvptx.so.1",
                "7f1c2f000000-7f1c2f008000 r-xp 00000000 08:01 95 /usr/lib/libompitrace.so",
                "7f1c30000000-7f1c30008000 rw-p 00000000 00:00 0 [heap]");
        assertEquals(List.of(
                "/home/u/.javacpp/cache/nd4j-native.jar/org/nd4j/libgomp.so.1",
                "/usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0",
                "/opt/intel/lib/libiomp5.so",
                "/usr/lib/llvm-14/lib/libomp.so.5"), OpenMpRuntimes.runtimesIn(lines));
    }

    /** In this JVM, after both libraries ran parallel code. */
    @Test
    void oneRuntimeInThisProcess() {
        assumeTrue(linux(), "reads /proc/self/maps");
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
        Nd4j.create(DataType.FLOAT, 1 << 20).addi(1.0f).sumNumber();
        BnbNative.setThreads(0);
        assertTrue(BnbNative.maxThreads() >= 1);
        List<String> runtimes = OpenMpRuntimes.mapped();
        assertEquals(1, runtimes.size(), "OpenMP runtimes mapped: " + runtimes);
        assertNull(NativeLibraryLoader.hostBackendProblem());
    }

    /** Fresh JVMs, both orders of first use (this JVM has long since initialised both). */
    @Test
    void oneRuntimeWhicheverIsUsedFirst() throws Exception {
        assumeTrue(linux(), "reads /proc/self/maps");
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
        for (String order : new String[]{"bnb4j-first", "nd4j-first"}) {
            String out = runProbe(order);
            String kernels = line(out, "KERNELS ");
            assertTrue(kernels.startsWith("native"), order + ": native kernels did not load in the child JVM:\n" + out);
            List<String> runtimes = Arrays.asList(line(out, "RUNTIMES ").split("\\|"));
            assertEquals(1, runtimes.size(), order + ": OpenMP runtimes mapped: " + runtimes);
        }
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new AssertionError("no '" + prefix + "' line in the child's output:\n" + out));
    }

    private static String runProbe(String order) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (String p : new String[]{"bnb4j.cacheDir", "java.io.tmpdir", "user.home"}) {
            if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        }
        cmd.add(OpenMpRuntimeProbe.class.getName());
        cmd.add(order);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes;
        try (InputStream in = p.getInputStream()) {
            bytes = in.readAllBytes();
        }
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe JVM did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "probe JVM failed:\n" + out);
        return out;
    }
}
