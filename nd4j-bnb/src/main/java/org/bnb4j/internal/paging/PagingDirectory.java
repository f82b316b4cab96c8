package org.bnb4j.internal.paging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The directory paged state lives in: checked before the first step (exists, is a writable directory,
 * has the space), logged once, and swept once per run of files a crashed process may have left.
 * The files are unlinked the moment they are created, so only a crash in that instant leaves one; its
 * name carries the process id, and a file whose process is gone is deleted.
 */
public final class PagingDirectory {
    private static final Logger log = LoggerFactory.getLogger(PagingDirectory.class);
    /** paging.cpp's file name prefix: bnb4j-paged-PID-SEQ. */
    static final String FILE_PREFIX = "bnb4j-paged-";
    private static final Set<Path> SEEN = ConcurrentHashMap.newKeySet();

    private PagingDirectory() {}

    /** The directory for a configured path: {@code configured}, or the system temporary directory when null or empty. */
    public static Path resolve(String configured) {
        String d = configured == null || configured.isEmpty() ? System.getProperty("java.io.tmpdir") : configured;
        return Paths.get(d).toAbsolutePath().normalize();
    }

    /**
     * Checks that {@code dir} can hold {@code bytes} more of paged state.
     *
     * @throws PagedStateException naming the problem
     */
    public static void check(Path dir, long bytes) {
        // the native library gets the path through JNI's modified UTF-8, which writes characters outside the
        // Basic Multilingual Plane (emoji, ...) as surrogate pairs: open() would be given another name
        if (dir.toString().codePoints().anyMatch(Character::isSupplementaryCodePoint)) {
            throw new PagedStateException("paged state: directory " + dir + " has characters outside Unicode's Basic Multilingual "
                    + "Plane (e.g. emoji), which the native library cannot pass to the file system; choose another pagedDirectory");
        }
        if (!Files.exists(dir)) throw new PagedStateException("paged state: directory " + dir + " does not exist (pagedDirectory)");
        if (!Files.isDirectory(dir)) throw new PagedStateException("paged state: " + dir + " is not a directory (pagedDirectory)");
        if (!Files.isWritable(dir)) throw new PagedStateException("paged state: directory " + dir + " is not writable (pagedDirectory)");
        FileStore store;
        long usable;
        try {
            store = Files.getFileStore(dir);
            usable = store.getUsableSpace();
        } catch (IOException e) {
            throw new PagedStateException("paged state: cannot read the file system of " + dir + ": " + e.getMessage());
        }
        requireSpace(dir, bytes, usable);
        if (SEEN.add(dir)) {
            sweepStale(dir);
            if ("tmpfs".equals(store.type()) || "ramfs".equals(store.type())) {
                log.warn("paged state in {} ({}): that file system is memory itself, so paging there frees no memory; "
                        + "set pagedDirectory to a directory on a disk", dir, store.type());
            } else {
                log.info("paged state in {} ({}, {} MB free)", dir, store.type(), usable >> 20);
            }
        }
    }

    /** The space check on its own (tests drive it with a given free space). */
    static void requireSpace(Path dir, long bytes, long usable) {
        if (usable < bytes) {
            throw new PagedStateException("paged state: directory " + dir + " has " + usable + " bytes free, the state needs " + bytes
                    + "; choose another directory with pagedDirectory(...) or free space. The state is unchanged.");
        }
    }

    /** Deletes bnb4j-paged-PID-* files whose process has ended. */
    static int sweepStale(Path dir) {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, FILE_PREFIX + "*")) {
            for (Path f : files) {
                long pid = pidOf(f.getFileName().toString());
                if (pid <= 0 || pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).isPresent()) continue;
                try {
                    if (Files.deleteIfExists(f)) removed++;
                } catch (IOException e) {
                    log.warn("paged state: cannot delete the stale file {}: {}", f, e.getMessage());
                }
            }
        } catch (IOException e) {
            log.debug("paged state: cannot list {}: {}", dir, e.getMessage());
        }
        if (removed > 0) log.info("paged state: removed {} file(s) left in {} by ended processes", removed, dir);
        return removed;
    }

    /** The PID of a name of paging.cpp's exact form bnb4j-paged-PID-SEQ (digits only), else -1: nothing else is ever deleted. */
    static long pidOf(String name) {
        if (!name.startsWith(FILE_PREFIX)) return -1;
        String rest = name.substring(FILE_PREFIX.length());
        int dash = rest.indexOf('-');
        if (dash <= 0 || dash == rest.length() - 1) return -1;
        String pid = rest.substring(0, dash), seq = rest.substring(dash + 1);
        if (!pid.chars().allMatch(c -> c >= '0' && c <= '9') || !seq.chars().allMatch(c -> c >= '0' && c <= '9')) return -1;
        try {
            return Long.parseLong(pid);
        } catch (NumberFormatException e) {
            return -1;   // more digits than a long
        }
    }
}
