package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.nativeops.NativeLibraryLoader.Outcome;
import org.bnb4j.internal.nativeops.NativeLibraryLoader.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which load outcomes Kernels reports at WARN (an error forced the slow pure-Java fallback) and
 * which at INFO (loaded, disabled on purpose, or no library built for this platform).
 */
class LoadOutcomeTest {
    @TempDir
    Path tmp;

    /** Records what would have been loaded instead of loading it; copies below {@code failBelow} fail to link with {@code message}. */
    private static final class FakeLinker implements NativeLibraryLoader.Linker {
        final List<Path> loaded = new ArrayList<>();
        final int abi;
        final Path failBelow;
        final String message;

        FakeLinker(int abi, Path failBelow, String message) {
            this.abi = abi;
            this.failBelow = failBelow;
            this.message = message;
        }

        /** Links everything (fail false) or nothing, for want of libgomp (fail true). */
        FakeLinker(int abi, boolean fail) {
            this(abi, fail ? Path.of("/") : null, "cannot open shared object file: libgomp.so.1 missing");
        }

        @Override
        public void load(Path file) {
            loaded.add(file);
            if (failBelow != null && file.startsWith(failBelow)) throw new UnsatisfiedLinkError(file + ": " + message);
        }

        @Override
        public int abiVersion() {
            return abi;
        }
    }

    private static final byte[] BYTES = "not really a library".getBytes();

    private List<Path> roots() {
        return List.of(tmp.resolve("cache"));
    }

    @Test
    void disabledIsInfo() {
        for (String off : List.of("false", "FALSE", "False", " false", "false ")) {
            FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, false);
            Result r = NativeLibraryLoader.tryLoad(off, NativeLibraryLoader.platform(), roots(), linker);
            assertEquals(Outcome.DISABLED, r.outcome);
            assertFalse(r.loaded);
            assertFalse(r.warn(), r.detail);
            assertTrue(linker.loaded.isEmpty());
        }
        assertFalse(Files.exists(tmp.resolve("cache")), "disabled means nothing is extracted");
    }

    @Test
    void noLibraryForThisPlatformIsInfo() {
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, false);
        Result r = NativeLibraryLoader.tryLoad(null, "macosx-aarch64", roots(), linker);
        assertEquals(Outcome.NO_LIBRARY_FOR_PLATFORM, r.outcome);
        assertFalse(r.warn(), r.detail);
        assertTrue(r.detail.contains("macosx-aarch64"), r.detail);
        assertTrue(linker.loaded.isEmpty());
    }

    @Test
    void loadedFromTheJarIsInfoAndTheVerifiedCopyIsWhatGetsLoaded() throws IOException {
        byte[] jar;
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream("/org/bnb4j/native/linux-x86_64/libbnb4j.so")) {
            assumeTrue(in != null, "libnd4j-ops is not on the test classpath");
            jar = in.readAllBytes();
        }
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, false);
        Result r = NativeLibraryLoader.tryLoad("true", "linux-x86_64", roots(), linker);
        assertEquals(Outcome.LOADED, r.outcome);
        assertTrue(r.loaded);
        assertFalse(r.warn());
        assertEquals(1, linker.loaded.size());
        assertEquals(linker.loaded.get(0).toString(), r.detail);
        assertArrayEquals(jar, Files.readAllBytes(linker.loaded.get(0)));
    }

    @Test
    void loadedAfterSkippingAnUnsafeRootIsInfoWithTheReasonKept() throws IOException {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setAttribute(open, "unix:mode", 0777);
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, false);
        Result r = NativeLibraryLoader.loadFrom(BYTES, List.of(open, tmp.resolve("cache")), linker);
        assertEquals(Outcome.LOADED, r.outcome);
        assertFalse(r.warn());
        assertEquals(1, r.skippedCaches.size());
        assertTrue(r.skippedCaches.get(0).contains("writable by group or others"), r.skippedCaches.get(0));
    }

    @Test
    void linkErrorIsWarn() {
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, true);
        Result r = NativeLibraryLoader.loadFrom(BYTES, roots(), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertFalse(r.loaded);
        assertTrue(r.warn());
        assertTrue(r.detail.contains("UnsatisfiedLinkError") && r.detail.contains("libgomp"), r.detail);
    }

    @Test
    void abiMismatchIsWarn() {
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION + 1, false);
        Result r = NativeLibraryLoader.loadFrom(BYTES, roots(), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertTrue(r.warn());
        assertTrue(r.detail.contains("native ABI " + (BnbNative.ABI_VERSION + 1)), r.detail);
    }

    @Test
    void noUsableCacheIsWarnAndNothingIsLoaded() throws IOException {
        Path blocked = Files.createFile(tmp.resolve("plainFile")).resolve("cache");
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setAttribute(open, "unix:mode", 0777);
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, false);
        Result r = NativeLibraryLoader.loadFrom(BYTES, List.of(blocked, open), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertTrue(r.warn());
        assertTrue(linker.loaded.isEmpty());
        assertTrue(r.detail.contains(blocked.toString()) && r.detail.contains(open.toString()), r.detail);
    }

    /** A copy that extracts but cannot be linked (a noexec mount) sends the loader on to the next root. */
    @Test
    void aRootWhoseCopyCannotBeLinkedIsPassedOver() throws IOException {
        Path noexec = tmp.resolve("noexec"), exec = tmp.resolve("exec");
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, noexec, "failed to map segment from shared object");
        Result r = NativeLibraryLoader.loadFrom(BYTES, List.of(noexec, exec), linker);
        assertEquals(Outcome.LOADED, r.outcome, r.detail);
        assertTrue(r.detail.startsWith(exec.toRealPath().toString()), r.detail);
        assertEquals(2, linker.loaded.size());
        assertTrue(r.skippedCaches.get(0).contains("failed to map segment") && r.skippedCaches.get(0).contains("noexec"), r.skippedCaches.toString());
        // both roots unusable: a WARN naming both
        FakeLinker none = new FakeLinker(BnbNative.ABI_VERSION, tmp, "failed to map segment from shared object");
        Result f = NativeLibraryLoader.loadFrom(BYTES, List.of(noexec, exec), none);
        assertEquals(Outcome.FAILED, f.outcome);
        assertTrue(f.warn());
        assertTrue(f.detail.contains(noexec.toString()) && f.detail.contains(exec.toString()), f.detail);
    }

    /**
     * Loads from the roots tmp/first and tmp/second with a linker that refuses every copy with the message;
     * the search must fail after the first copy, without trying the second.
     */
    private Result searchThatEndsAtTheFirstRoot(String message) {
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, tmp, message);
        Result r = NativeLibraryLoader.loadFrom(BYTES, List.of(tmp.resolve("first"), tmp.resolve("second")), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertEquals(1, linker.loaded.size());
        return r;
    }

    /** A missing dependency is not a mount problem: no other copy is tried, nothing blames noexec. */
    @Test
    void otherLinkFailuresEndTheSearch() {
        Result r = searchThatEndsAtTheFirstRoot("libgomp.so.1: cannot open shared object file: No such file or directory");
        assertFalse(r.detail.contains("noexec"), r.detail);
    }

    /** A library without the ABI entry point (another build) is a WARN and the Java kernels, not an error escaping class initialisation. */
    @Test
    void aLibraryWithoutTheAbiEntryPointIsWarn() {
        NativeLibraryLoader.Linker linker = new NativeLibraryLoader.Linker() {
            @Override
            public void load(Path file) {
            }

            @Override
            public int abiVersion() {
                throw new UnsatisfiedLinkError("'int org.bnb4j.internal.nativeops.BnbNative.abiVersion()'");
            }
        };
        Result r = NativeLibraryLoader.loadFrom(BYTES, roots(), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertTrue(r.warn() && r.detail.contains("another build"), r.detail);
    }

    /** A root listed twice cannot make the loader go round: each entry of the list is tried once. */
    @Test
    void aRootListedTwiceCannotLoop() {
        Path a = tmp.resolve("a");
        FakeLinker linker = new FakeLinker(BnbNative.ABI_VERSION, tmp, "failed to map segment from shared object");
        Result r = NativeLibraryLoader.loadFrom(BYTES, List.of(a, a), linker);
        assertEquals(Outcome.FAILED, r.outcome);
        assertEquals(2, linker.loaded.size());
    }

    /** Another class loader holding the library: no other copy is tried (it would fail the same way). */
    @Test
    void aLibraryHeldByAnotherClassLoaderEndsTheSearch() {
        Result r = searchThatEndsAtTheFirstRoot("Native Library " + tmp.resolve("first") + " already loaded in another classloader");
        assertTrue(r.detail.contains("another classloader"), r.detail);
    }

    /** A blank bnb4j.cacheDir is unset; one the file system cannot name is left out with the reason, not a crash. */
    @Test
    void cacheRootsTolerateBlankAndUnnameablePaths() {
        String old = System.getProperty("bnb4j.cacheDir");
        try {
            System.setProperty("bnb4j.cacheDir", " ");
            List<String> problems = new ArrayList<>();
            List<Path> roots = NativeLibraryLoader.cacheRoots(problems);
            assertTrue(problems.isEmpty(), problems.toString());
            assertTrue(roots.get(roots.size() - 1).getFileName().toString().startsWith("bnb4j-"), roots.toString());
            System.setProperty("bnb4j.cacheDir", "/tmp/bad\u0000name");
            problems.clear();
            assertTrue(NativeLibraryLoader.cacheRoots(problems).isEmpty());
            Result none = NativeLibraryLoader.loadFrom(BYTES, List.of(), new FakeLinker(BnbNative.ABI_VERSION, false)).withSkipped(problems);
            assertTrue(none.warn() && none.detail.startsWith("no cache directory") && none.detail.contains("/tmp/bad"), none.detail);
            assertEquals(1, problems.size());
            assertTrue(problems.get(0).contains("/tmp/bad"), problems.toString());
            System.setProperty("bnb4j.cacheDir", "relative/dir");
            problems.clear();
            assertEquals(List.of(Path.of("relative/dir").toAbsolutePath()), NativeLibraryLoader.cacheRoots(problems), "against the working directory");
            assertTrue(problems.isEmpty(), problems.toString());
        } finally {
            if (old == null) System.clearProperty("bnb4j.cacheDir");
            else System.setProperty("bnb4j.cacheDir", old);
        }
    }

    /** The effective uid from /proc/self/status (UnixSystem says 0 for a uid without a passwd entry). */
    @Test
    void theUserIdIsTheProcesssEffectiveOne() throws IOException {
        assertEquals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"), PathTrust.currentUser().uid());
        // read from the status text, whatever the passwd database says (a container's arbitrary uid has no entry)
        assertEquals(12346, PathTrust.effectiveUid(List.of("Name:\tjava", "Uid:\t12345\t12346\t12345\t12346", "Gid:\t0\t0\t0\t0")));
        assertEquals(-1, PathTrust.effectiveUid(List.of("Name:\tjava")));
    }
}
