package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Puts a verified copy of the library into the first usable cache root, in a subdirectory named by
 * its SHA-256 (so concurrent JVMs and upgrades never clash), and returns its path.
 *
 * <p>Why verifying and then loading by path is safe (no time-of-check/time-of-use hole): every
 * directory on the way to the file is owned by this user or root and writable by nobody else (or
 * sticky, so others cannot rename our entries), the cache directories are this user's and
 * owner-only, and the file is this user's and not writable by others. Between the hash check and
 * {@code System.load} the path can therefore only be re-pointed, or the file rewritten, by this
 * user or root, who could equally replace the jar itself. Other JVMs of this user only ever rename
 * complete, correct copies into place (a rename never exposes a partly written file, and a process
 * that already mapped the old file keeps its inode).
 */
final class LibraryCache {
    static final String LIB = "libbnb4j.so";

    /** The verified file, and the roots passed over on the way with why. */
    record Extraction(Path file, List<String> skipped) {}

    private LibraryCache() {}

    static Extraction extract(byte[] bytes, List<Path> roots) throws CacheUnavailableException {
        PathTrust trust;
        try {
            trust = PathTrust.currentUser();
        } catch (IOException e) {
            throw new CacheUnavailableException(List.of(describe(e)));
        }
        return extract(bytes, roots, trust);
    }

    static Extraction extract(byte[] bytes, List<Path> roots, PathTrust trust) throws CacheUnavailableException {
        return extract(bytes, roots, trust, LIB);
    }

    /** The same for another library of the jar (libbnb4j_cuda.so), under its own file name. */
    static Extraction extract(byte[] bytes, List<Path> roots, String fileName) throws CacheUnavailableException {
        PathTrust trust;
        try {
            trust = PathTrust.currentUser();
        } catch (IOException e) {
            throw new CacheUnavailableException(List.of(describe(e)));
        }
        return extract(bytes, roots, trust, fileName);
    }

    static Extraction extract(byte[] bytes, List<Path> roots, PathTrust trust, String fileName) throws CacheUnavailableException {
        byte[] digest = sha256(bytes);
        String dirName = HexFormat.of().formatHex(digest).substring(0, 16);
        List<String> skipped = new ArrayList<>();
        for (Path root : roots) {
            try {
                return new Extraction(extractInto(root, dirName, fileName, bytes, digest, trust), List.copyOf(skipped));
            } catch (IOException | RuntimeException e) {
                // RuntimeException: SecurityException or an odd provider's UnsupportedOperationException.
                skipped.add(root + ": " + describe(e));
            }
        }
        throw new CacheUnavailableException(skipped);
    }

    /** Temporaries older than this were left by a process killed while extracting (a copy takes milliseconds). */
    static final long STALE_TEMPORARY_MILLIS = 10 * 60 * 1000L;

    /** Deletes what killed extractions left in dir; another JVM's copy in progress is younger than that. */
    static void removeStaleTemporaries(Path dir, String fileName) {
        long cutoff = System.currentTimeMillis() - STALE_TEMPORARY_MILLIS;
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, fileName + "*.tmp")) {
            for (Path p : ds) {
                try {
                    if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.getLastModifiedTime(p).toMillis() < cutoff) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException | RuntimeException e) {
                    // another process removed or is using it: not ours to insist on
                }
            }
        } catch (IOException | RuntimeException e) {
            // an unlistable directory fails the extraction itself, with its reason
        }
    }

    private static Path extractInto(Path root, String dirName, String fileName, byte[] bytes, byte[] digest, PathTrust trust)
            throws IOException {
        Path dir = trust.ownerOnlyChild(trust.ownerOnlyDirectory(root), dirName);
        Path target = dir.resolve(fileName);
        removeStaleTemporaries(dir, fileName);
        if (intact(target, bytes.length, digest, trust)) return target;
        // Damaged, truncated, missing or open to others: a fresh copy is renamed over it, never
        // written in place (another JVM may have the old file mapped).
        Path tmp = Files.createTempFile(dir, fileName, ".tmp"); // rw------- on POSIX
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        // Checked again where it will be loaded from: the copy on disk, not the bytes we meant to write.
        if (!intact(target, bytes.length, digest, trust)) {
            throw new IOException(target + " does not match the library in the jar right after extracting it");
        }
        return target;
    }

    private static boolean intact(Path file, long size, byte[] digest, PathTrust trust) throws IOException {
        if (trust.fileState(file) != PathTrust.FileState.CANDIDATE) return false;
        if (Files.size(file) != size) return false;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest md = sha256();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return Arrays.equals(md.digest(), digest);
        }
    }

    private static String describe(Exception e) {
        return e instanceof UntrustedPathException ? "refused: " + e.getMessage()
                : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
