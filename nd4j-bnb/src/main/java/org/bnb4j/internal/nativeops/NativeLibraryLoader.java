package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds libbnb4j in the classpath (the libnd4j-ops jar), extracts it once into a cache directory
 * named by its SHA-256 (so concurrent JVMs and upgrades never clash) and loads it. No
 * LD_LIBRARY_PATH or manual step. A cached copy is loaded only after its SHA-256 matches the jar's
 * and only from owner-only directories of this user ({@link LibraryCache}); a damaged copy is
 * replaced, a directory others could tamper with is skipped.
 *
 * <p>System properties: {@code bnb4j.native=false} skips loading (pure-Java kernels);
 * {@code bnb4j.cacheDir} overrides the extraction directory (default {@code ~/.cache/bnb4j}, then
 * {@code java.io.tmpdir/bnb4j-<user>}).
 */
public final class NativeLibraryLoader {
    private NativeLibraryLoader() {}

    /** What the (single) load attempt came to. */
    public enum Outcome {
        LOADED,
        /** -Dbnb4j.native=false: the user asked for the pure-Java kernels. */
        DISABLED,
        /** The jar has no library for this OS/architecture (e.g. macOS, aarch64): expected there. */
        NO_LIBRARY_FOR_PLATFORM,
        /** A library exists for this platform but could not be extracted, loaded or used. */
        FAILED
    }

    /** Outcome of the (single) load attempt. */
    public static final class Result {
        public final boolean loaded;
        public final Outcome outcome;
        /** The loaded file, or why nothing was loaded. */
        public final String detail;
        /** Cache roots passed over before the one used, each with its reason. */
        public final List<String> skippedCaches;

        Result(Outcome outcome, String detail, List<String> skippedCaches) {
            this.loaded = outcome == Outcome.LOADED;
            this.outcome = outcome;
            this.detail = detail;
            this.skippedCaches = List.copyOf(skippedCaches);
        }

        Result(Outcome outcome, String detail) {
            this(outcome, detail, List.of());
        }

        /**
         * Whether falling back deserves a warning: only an error does. Disabling the library or
         * running on a platform it was not built for are expected, informational cases.
         */
        public boolean warn() {
            return outcome == Outcome.FAILED;
        }
    }

    /** The two native steps, apart so that tests can run the loader without System.load. */
    interface Linker {
        void load(Path file);

        int abiVersion();
    }

    /** Why ND4J's backend could not be initialised before libbnb4j (null: it was, or not tried). */
    private static volatile String hostBackendProblem;

    private static final Linker SYSTEM = new Linker() {
        @Override
        public void load(Path file) {
            // ND4J first, so that libbnb4j's libgomp.so.1 resolves to the copy ND4J loaded: one
            // OpenMP runtime per process (see OpenMpRuntimes).
            hostBackendProblem = OpenMpRuntimes.initHostBackend();
            System.load(file.toString());
        }

        @Override
        public int abiVersion() {
            return BnbNative.abiVersion();
        }
    };

    private static Result result;

    public static synchronized Result load() {
        if (result == null) result = tryLoad(System.getProperty("bnb4j.native"), platform(), cacheRoots(), SYSTEM);
        return result;
    }

    /** Why ND4J's backend could not be initialised before libbnb4j was loaded, or null. */
    public static String hostBackendProblem() {
        return hostBackendProblem;
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx" : os.startsWith("windows") ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch;
        return o + "-" + a;
    }

    static Result tryLoad(String nativeSwitch, String platform, List<Path> roots, Linker linker) {
        if ("false".equalsIgnoreCase(nativeSwitch)) {
            return new Result(Outcome.DISABLED, "disabled by -Dbnb4j.native=false");
        }
        String resource = "/org/bnb4j/native/" + platform + "/" + LibraryCache.LIB;
        byte[] bytes;
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                return new Result(Outcome.NO_LIBRARY_FOR_PLATFORM,
                        "no native library for " + platform + " in the classpath (" + resource + ")");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            return new Result(Outcome.FAILED, "cannot read " + resource + ": " + e);
        }
        return loadFrom(bytes, roots, linker);
    }

    static Result loadFrom(byte[] bytes, List<Path> roots, Linker linker) {
        LibraryCache.Extraction x;
        try {
            x = LibraryCache.extract(bytes, roots);
        } catch (CacheUnavailableException e) {
            return new Result(Outcome.FAILED, e.getMessage());
        }
        try {
            linker.load(x.file());
            int abi = linker.abiVersion();
            if (abi != BnbNative.ABI_VERSION) {
                return new Result(Outcome.FAILED, "native ABI " + abi + " of " + x.file()
                        + " does not match the Java side's " + BnbNative.ABI_VERSION, x.skipped());
            }
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return new Result(Outcome.FAILED, e.getClass().getSimpleName() + " loading " + x.file() + ": " + e.getMessage(),
                    x.skipped());
        }
        return new Result(Outcome.LOADED, x.file().toString(), x.skipped());
    }

    static List<Path> cacheRoots() {
        String configured = System.getProperty("bnb4j.cacheDir");
        if (configured != null) return List.of(Paths.get(configured));
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("user.home", "");
        // The JDK reports "?" when the user has no home entry: no cache there, not one in the cwd.
        if (!home.isEmpty() && Paths.get(home).isAbsolute()) roots.add(Paths.get(home, ".cache", "bnb4j"));
        roots.add(Paths.get(System.getProperty("java.io.tmpdir"), "bnb4j-" + System.getProperty("user.name", "user")));
        return roots;
    }
}
