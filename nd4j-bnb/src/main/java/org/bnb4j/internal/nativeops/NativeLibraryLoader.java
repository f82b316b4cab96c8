package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.InvalidPathException;
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

        /** This result with roots that were left out before trying (a failure's detail names them too). */
        Result withSkipped(List<String> more) {
            List<String> all = new ArrayList<>(more);
            all.addAll(skippedCaches);
            return new Result(outcome, loaded ? detail : detail + "; left out: " + String.join("; ", more), all);
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
        if (result == null) {
            List<String> problems = new ArrayList<>();
            Result r = tryLoad(System.getProperty("bnb4j.native"), platform(), cacheRoots(problems), SYSTEM);
            result = problems.isEmpty() ? r : r.withSkipped(problems);
        }
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
        if (nativeSwitch != null && "false".equalsIgnoreCase(nativeSwitch.trim())) {
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

    /**
     * Extracts into the first usable root and loads that copy. A copy the system cannot map there (a
     * noexec mount: "failed to map segment", or a permission refusal) makes the next root the next try;
     * any other link failure (a missing dependency, a library already loaded by another class loader,
     * no or another ABI) ends the search, since another copy would fail alike.
     */
    static Result loadFrom(byte[] bytes, List<Path> roots, Linker linker) {
        List<String> skipped = new ArrayList<>();
        String lastFailure = null;
        for (Path root : roots) {
            LibraryCache.Extraction x;
            try {
                x = LibraryCache.extract(bytes, List.of(root));
            } catch (CacheUnavailableException e) {
                skipped.addAll(e.reasons);
                continue;
            }
            int abi;
            try {
                linker.load(x.file());
            } catch (UnsatisfiedLinkError | SecurityException e) {
                lastFailure = e.getClass().getSimpleName() + " loading " + x.file() + ": " + e.getMessage();
                if (!(e instanceof UnsatisfiedLinkError) || !cannotMap(e.getMessage())) break;
                skipped.add(root + ": " + lastFailure + " (a file system mounted noexec?)");
                continue;
            }
            try {
                abi = linker.abiVersion();
            } catch (UnsatisfiedLinkError e) {
                // a library of another build, without this ABI check's entry point
                return new Result(Outcome.FAILED, x.file() + " has no ABI version entry point (a library from another build): " + e.getMessage(), skipped);
            }
            if (abi != BnbNative.ABI_VERSION) {
                return new Result(Outcome.FAILED, "native ABI " + abi + " of " + x.file()
                        + " does not match the Java side's " + BnbNative.ABI_VERSION, skipped);
            }
            return new Result(Outcome.LOADED, x.file().toString(), skipped);
        }
        // no root could take a copy (none at all: "no cache directory ...")
        if (lastFailure == null) return new Result(Outcome.FAILED, new CacheUnavailableException(skipped).getMessage(), skipped);
        return new Result(Outcome.FAILED, skipped.isEmpty() ? lastFailure : lastFailure + "; tried before: " + String.join("; ", skipped), skipped);
    }

    /** The dynamic loader's messages for a file it may not map as code (noexec mounts, some security modules). */
    static boolean cannotMap(String message) {
        String m = String.valueOf(message).toLowerCase(Locale.ROOT);
        return m.contains("failed to map segment") || m.contains("operation not permitted") || m.contains("permission denied");
    }

    /**
     * The cache roots to try, in order: -Dbnb4j.cacheDir alone when set (blank counts as unset), else
     * ~/.cache/bnb4j and ${java.io.tmpdir}/bnb4j-USER (relative ones against the working directory; a
     * home that is no path, "?" without a passwd entry, is passed over). A path the file system cannot name (non-ASCII
     * characters under a POSIX locale, whose sun.jnu.encoding is ASCII) is left out, with the reason
     * in {@code problems}.
     */
    static List<Path> cacheRoots(List<String> problems) {
        String configured = System.getProperty("bnb4j.cacheDir");
        List<Path> roots = new ArrayList<>();
        if (configured != null && !configured.isBlank()) {
            addRoot(roots, problems, true, configured);
            return roots;
        }
        String home = System.getProperty("user.home", "");
        // The JDK reports "?" when the user has no home entry: no cache there, not one in the cwd.
        if (!home.isEmpty()) addRoot(roots, problems, false, home, ".cache", "bnb4j");
        addRoot(roots, problems, true, System.getProperty("java.io.tmpdir", "/tmp"), "bnb4j-" + System.getProperty("user.name", "user"));
        return roots;
    }

    private static void addRoot(List<Path> roots, List<String> problems, boolean reportRelative, String first, String... more) {
        try {
            Path p = Paths.get(first, more);
            if (p.isAbsolute()) roots.add(p);
            else if (reportRelative) roots.add(p.toAbsolutePath());   // against the working directory, as ever
        } catch (InvalidPathException e) {
            problems.add(first + (more.length > 0 ? "/" + String.join("/", more) : "") + ": " + e.getMessage()
                    + " (file names are encoded as " + System.getProperty("sun.jnu.encoding") + "; a UTF-8 locale, e.g. LANG=C.UTF-8, names them)");
        }
    }
}
