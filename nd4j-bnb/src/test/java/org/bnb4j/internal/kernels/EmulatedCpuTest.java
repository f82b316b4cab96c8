package org.bnb4j.internal.kernels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernel choice on x86-64 CPUs this machine is not: a JVM run under QEMU's user-mode emulator
 * with an older CPU model ({@code qemu-x86_64 -cpu MODEL}, which changes what CPUID reports to the
 * JVM and to the native library's dispatcher), running {@link EmulatedCpuProbe}. Without AVX2 the
 * native library must find only its scalar kernels, and {@link KernelProvider} must pick the
 * vectorized Java kernels when the Vector API module is on, the native scalar ones when BNB4J_ISA asks
 * for them, and say how to enable the Java ones when the module is off; with AVX2 the native AVX2
 * kernels. Every choice must give the scalar Java oracle's bits. (QEMU runs instructions of any ISA
 * whatever the model says, so this checks the choice and the results, not that no AVX2 instruction
 * runs: the generic objects of the library are compiled without -mavx*, see libnd4j-ops/CMakeLists.txt.)
 * Needs qemu-user ({@code bash scripts/setup.sh --test} installs it); ~15 s per emulated JVM.
 */
class EmulatedCpuTest {
    private static Path qemu;

    @BeforeAll
    static void emulator() {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                && System.getProperty("os.arch", "").equals("amd64"), "x86-64 Linux only");
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded in this run");
        qemu = onPath("qemu-x86_64");
        assumeTrue(qemu != null, "qemu-x86_64 not installed (bash scripts/setup.sh --test installs qemu-user)");
    }

    /** Westmere: SSE4.2, no AVX. */
    @Test
    void withoutAvxTheVectorizedJavaKernelsRun() throws Exception {
        String out = run("Westmere", true, null);
        assertEquals("scalar", line(out, "SUPPORTED "), out);
        assertTrue(line(out, "KERNELS ").startsWith("pure-Java vectorized"), out);
        assertTrue(out.contains("this CPU has no AVX2"), "no log line saying why:\n" + out);
        assertAgrees(out);
    }

    /** Sandy Bridge: AVX but not AVX2 (the native SIMD paths need AVX2 and FMA). */
    @Test
    void withAvxButNotAvx2TheVectorizedJavaKernelsRun() throws Exception {
        String out = run("SandyBridge", true, null);
        assertEquals("scalar", line(out, "SUPPORTED "), out);
        assertTrue(line(out, "KERNELS ").startsWith("pure-Java vectorized"), out);
        assertAgrees(out);
    }

    @Test
    void isaScalarKeepsTheNativeScalarKernels() throws Exception {
        String out = run("Westmere", true, "scalar");
        assertTrue(line(out, "KERNELS ").startsWith("native (scalar"), out);
        assertAgrees(out);
    }

    @Test
    void withoutTheVectorModuleTheNativeScalarKernelsRunAndTheFlagIsNamed() throws Exception {
        String out = run("Westmere", false, null);
        assertTrue(line(out, "KERNELS ").startsWith("native (scalar"), out);
        assertTrue(out.contains("WARN") && out.contains(KernelProvider.ENABLE_FLAG), "no warning naming the flag:\n" + out);
        assertAgrees(out);
    }

    /** The control: the same emulator with AVX2 gives the native AVX2 kernels. */
    @Test
    void withAvx2TheNativeAvx2KernelsRun() throws Exception {
        String out = run("Haswell", true, null);
        assertEquals("scalar,avx2", line(out, "SUPPORTED "), out);
        assertTrue(line(out, "KERNELS ").startsWith("native (avx2"), out);
        assertAgrees(out);
    }

    private static void assertAgrees(String out) {
        assertEquals("true", line(out, "QUANT_EQUAL "), "quantize/dequantize differ from the scalar Java oracle:\n" + out);
        assertEquals("true", line(out, "STEPS_EQUAL "), "8-bit steps differ from the scalar Java oracle:\n" + out);
    }

    private static String run(String cpu, boolean vectorModule, String isa) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(qemu.toString(), "-cpu", cpu,
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-XX:TieredStopAtLevel=1"));
        if (vectorModule) cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (String p : new String[]{"bnb4j.cacheDir", "java.io.tmpdir", "user.home"}) {
            if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        }
        cmd.add(EmulatedCpuProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("BNB4J_ISA");
        if (isa != null) env.put("BNB4J_ISA", isa);
        Process p = pb.start();
        byte[] bytes;
        try (InputStream in = p.getInputStream()) {
            bytes = in.readAllBytes();
        }
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "emulated JVM did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "emulated JVM (" + cpu + ") failed:\n" + out);
        return out;
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new AssertionError("no '" + prefix + "' line in the child's output:\n" + out));
    }

    private static Path onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Paths.get(dir, exe);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }
}
