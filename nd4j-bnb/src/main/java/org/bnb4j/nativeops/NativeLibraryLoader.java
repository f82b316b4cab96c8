package org.bnb4j.nativeops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Finds libbnb4j in the classpath (the libnd4j-ops jar), extracts it once into a cache directory
 * named by its SHA-256 (so concurrent JVMs and upgrades never clash) and loads it. No
 * LD_LIBRARY_PATH or manual step.
 *
 * <p>System properties: {@code bnb4j.native=false} skips loading (pure-Java kernels);
 * {@code bnb4j.cacheDir} overrides the extraction directory (default {@code ~/.cache/bnb4j}, then
 * {@code java.io.tmpdir}).
 */
public final class NativeLibraryLoader {
    private NativeLibraryLoader() {}

    private static final String LIB = "libbnb4j.so";

    /** Outcome of the (single) load attempt. */
    public static final class Result {
        public final boolean loaded;
        public final String detail;

        Result(boolean loaded, String detail) {
            this.loaded = loaded;
            this.detail = detail;
        }
    }

    private static Result result;

    public static synchronized Result load() {
        if (result == null) result = tryLoad();
        return result;
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx" : os.startsWith("windows") ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch;
        return o + "-" + a;
    }

    private static Result tryLoad() {
        if ("false".equalsIgnoreCase(System.getProperty("bnb4j.native"))) {
            return new Result(false, "disabled by -Dbnb4j.native=false");
        }
        String resource = "/org/bnb4j/native/" + platform() + "/" + LIB;
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(resource)) {
            if (in == null) return new Result(false, "no native library for " + platform() + " in the classpath (" + resource + ")");
            byte[] bytes = in.readAllBytes();
            Path file = extract(bytes);
            System.load(file.toString());
            int abi = BnbNative.abiVersion();
            if (abi != BnbNative.ABI_VERSION) {
                return new Result(false, "native ABI " + abi + " does not match the Java side's " + BnbNative.ABI_VERSION);
            }
            return new Result(true, file.toString());
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            return new Result(false, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static Path extract(byte[] bytes) throws IOException {
        String hash = sha256(bytes).substring(0, 16);
        IOException last = null;
        for (Path root : cacheRoots()) {
            try {
                Path dir = root.resolve(hash);
                Path target = dir.resolve(LIB);
                if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return target;
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, LIB, ".tmp");
                Files.write(tmp, bytes);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                return target;
            } catch (IOException e) {
                last = e;
            }
        }
        throw last != null ? last : new IOException("no writable cache directory");
    }

    private static Path[] cacheRoots() {
        String configured = System.getProperty("bnb4j.cacheDir");
        if (configured != null) return new Path[]{Paths.get(configured)};
        return new Path[]{
                Paths.get(System.getProperty("user.home", "."), ".cache", "bnb4j"),
                Paths.get(System.getProperty("java.io.tmpdir"), "bnb4j-" + System.getProperty("user.name", "user"))};
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
