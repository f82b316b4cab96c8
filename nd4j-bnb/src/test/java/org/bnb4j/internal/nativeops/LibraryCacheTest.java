package org.bnb4j.internal.nativeops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cache the loader extracts into, without System.load: integrity (a damaged copy is replaced),
 * trust (a directory or file others could have written is skipped with a reason), availability
 * (an unusable root falls to the next) and concurrent extraction.
 */
class LibraryCacheTest {
    private static final byte[] LIB = library();
    private static final String HASH_DIR = HexFormat.of().formatHex(LibraryCache.sha256(LIB)).substring(0, 16);
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;

    private static byte[] library() {
        byte[] b = new byte[200_000];
        new Random(7).nextBytes(b);
        return b;
    }

    private static LibraryCache.Extraction extract(Path... roots) throws IOException {
        return LibraryCache.extract(LIB, List.of(roots));
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private static void chmod(Path p, int mode) throws IOException {
        Files.setAttribute(p, "unix:mode", mode);
    }

    private static boolean isRoot() throws IOException {
        return PathTrust.currentUser().uid() == 0;
    }

    private static void chownToNobody(Path p) throws IOException {
        assumeTrue(isRoot(), "changing a file's owner needs root");
        Files.setAttribute(p, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
    }

    /** Owner-only whatever the umask, so that only the damage a test makes is judged. */
    private static Path mkdirs(Path dir) throws IOException {
        return Files.createDirectories(dir, PathTrust.OWNER_ONLY);
    }

    /** A root that already holds a correct copy, as an attacker who knows the library would plant it. */
    private Path plantedRoot(String name) throws IOException {
        Path root = tmp.resolve(name);
        mkdirs(root.resolve(HASH_DIR));
        Files.write(root.resolve(HASH_DIR).resolve(LibraryCache.LIB), LIB);
        return root;
    }

    private Path good() throws IOException {
        return tmp.toRealPath().resolve("good").resolve(HASH_DIR).resolve(LibraryCache.LIB);
    }

    /** The first root was skipped for a reason containing {@code why}, and the second one used. */
    private void assertSkippedTo(LibraryCache.Extraction x, Path skippedRoot, String why) throws IOException {
        assertEquals(good(), x.file());
        assertArrayEquals(LIB, Files.readAllBytes(x.file()));
        assertEquals(1, x.skipped().size(), x.skipped().toString());
        String reason = x.skipped().get(0);
        assertTrue(reason.startsWith(skippedRoot.toString()), reason);
        assertTrue(reason.contains(why), reason);
    }

    // ---- integrity ------------------------------------------------------------------------------

    /** What a process killed while extracting left is removed by the next extraction; a young temporary (another JVM's copy in progress) stays. */
    @Test
    void temporariesOfKilledExtractionsAreRemoved() throws IOException {
        Path root = tmp.resolve("killed");
        Path dir = mkdirs(root.resolve(HASH_DIR));
        Path stale = Files.write(dir.resolve(LibraryCache.LIB + "123.tmp"), new byte[1000]);
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - LibraryCache.STALE_TEMPORARY_MILLIS - 60_000));
        Path young = Files.write(dir.resolve(LibraryCache.LIB + "456.tmp"), new byte[1000]);
        LibraryCache.Extraction x = extract(root);
        assertArrayEquals(LIB, Files.readAllBytes(x.file()));
        assertFalse(Files.exists(stale), "stale temporary removed");
        assertTrue(Files.exists(young), "a temporary in progress is left alone");
        // also when the cached copy is intact (the killed process's copy was finished by another)
        Files.write(stale, new byte[10]);
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - LibraryCache.STALE_TEMPORARY_MILLIS - 60_000));
        assertEquals(x.file(), extract(root).file());
        assertFalse(Files.exists(stale), "stale temporary beside an intact copy removed");
    }

    @Test
    void freshExtractionIsIdenticalAndOwnerOnly() throws IOException {
        Path root = tmp.resolve("a").resolve("b").resolve("cache");
        LibraryCache.Extraction x = extract(root);
        assertEquals(tmp.toRealPath().resolve("a/b/cache").resolve(HASH_DIR).resolve(LibraryCache.LIB), x.file());
        assertArrayEquals(LIB, Files.readAllBytes(x.file()));
        assertTrue(x.skipped().isEmpty());
        for (Path dir : List.of(tmp.resolve("a"), tmp.resolve("a/b"), root, root.resolve(HASH_DIR))) {
            assertEquals(0700, mode(dir), dir.toString());
        }
        assertEquals(0, mode(x.file()) & 0077, "the library must be private: " + Integer.toOctalString(mode(x.file())));
        try (Stream<Path> s = Files.list(root.resolve(HASH_DIR))) {
            assertEquals(List.of(x.file()), s.toList(), "no temporary file left behind");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"flip-first-bit", "flip-middle-bit", "flip-last-bit", "truncate-half", "truncate-empty",
            "append-byte"})
    void damagedCopyIsReplacedByAnIdenticalOne(String damage) throws IOException {
        Path file = extract(tmp.resolve("cache")).file();
        Object inode = Files.readAttributes(file, "unix:ino").get("ino");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            switch (damage) {
                case "flip-first-bit" -> flip(ch, 0, 0x01);
                case "flip-middle-bit" -> flip(ch, LIB.length / 2, 0x10);
                case "flip-last-bit" -> flip(ch, LIB.length - 1, 0x80);
                case "truncate-half" -> ch.truncate(LIB.length / 2);
                case "truncate-empty" -> ch.truncate(0);
                case "append-byte" -> ch.write(ByteBuffer.wrap(new byte[]{1}), LIB.length);
                default -> fail(damage);
            }
        }
        assertFalse(java.util.Arrays.equals(LIB, Files.readAllBytes(file)), "the damage took");
        LibraryCache.Extraction again = extract(tmp.resolve("cache"));
        assertEquals(file, again.file());
        assertArrayEquals(LIB, Files.readAllBytes(again.file()));
        // Renamed over, not rewritten in place: a JVM that mapped the old file keeps its inode.
        assertNotEquals(inode, Files.readAttributes(file, "unix:ino").get("ino"));
    }

    private static void flip(FileChannel ch, long pos, int bit) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        ch.read(b, pos);
        b.put(0, (byte) (b.get(0) ^ bit));
        b.rewind();
        ch.write(b, pos);
    }

    @Test
    void intactCopyIsReusedNotRewritten() throws IOException {
        Path file = extract(tmp.resolve("cache")).file();
        Object inode = Files.readAttributes(file, "unix:ino").get("ino");
        assertEquals(file, extract(tmp.resolve("cache")).file());
        assertEquals(inode, Files.readAttributes(file, "unix:ino").get("ino"));
    }

    @Test
    void ownCopyWritableByOthersIsReplacedByAPrivateOne() throws IOException {
        Path file = extract(tmp.resolve("cache")).file();
        chmod(file, 0666);
        assertEquals(file, extract(tmp.resolve("cache")).file());
        assertEquals(0, mode(file) & 0077);
        assertArrayEquals(LIB, Files.readAllBytes(file));
    }

    // ---- trust ----------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {0770, 0777, 0720, 0702, 01777})
    void cacheDirectoryWritableByOthersIsRefused(int mode) throws IOException {
        Path shared = plantedRoot("shared");
        Path planted = shared.resolve(HASH_DIR).resolve(LibraryCache.LIB);
        Files.write(planted, "attacker's code".getBytes());
        chmod(shared, mode);
        assertSkippedTo(extract(shared, tmp.resolve("good")), shared, "writable by group or others");
        assertArrayEquals("attacker's code".getBytes(), Files.readAllBytes(planted), "the refused root is left alone");
    }

    @Test
    void hashDirectoryWritableByOthersIsRefused() throws IOException {
        Path shared = plantedRoot("shared");
        chmod(shared.resolve(HASH_DIR), 0777);
        assertSkippedTo(extract(shared, tmp.resolve("good")), shared, "writable by group or others");
    }

    @Test
    void cacheDirectoryOfAnotherUserIsRefusedEvenWithACorrectCopy() throws IOException {
        Path shared = plantedRoot("shared");
        chownToNobody(shared);
        assertSkippedTo(extract(shared, tmp.resolve("good")), shared, "owned by uid 65534");
    }

    @Test
    void hashDirectoryOfAnotherUserIsRefused() throws IOException {
        Path shared = plantedRoot("shared");
        chownToNobody(shared.resolve(HASH_DIR));
        assertSkippedTo(extract(shared, tmp.resolve("good")), shared, "owned by uid 65534");
    }

    @Test
    void libraryFileOfAnotherUserIsRefusedEvenWhenCorrect() throws IOException {
        Path shared = plantedRoot("shared");
        chownToNobody(shared.resolve(HASH_DIR).resolve(LibraryCache.LIB));
        assertSkippedTo(extract(shared, tmp.resolve("good")), shared, "owned by uid 65534");
    }

    @Test
    void ancestorOfAnotherUserIsRefused() throws IOException {
        Path theirs = mkdirs(tmp.resolve("theirs"));
        Path root = plantedRoot("theirs/cache");
        chownToNobody(theirs);
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "ancestor " + theirs.toRealPath() + " is owned by uid 65534");
    }

    @Test
    void ancestorWritableByOthersIsRefusedUnlessSticky() throws IOException {
        Path pub = mkdirs(tmp.resolve("pub"));
        Path root = pub.resolve("cache");
        chmod(pub, 0777);
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "without the sticky bit");
        // Like /tmp: others may add entries but not rename or delete ours.
        chmod(pub, 01777);
        LibraryCache.Extraction x = extract(root, tmp.resolve("good"));
        assertEquals(root.toRealPath().resolve(HASH_DIR).resolve(LibraryCache.LIB), x.file());
        assertTrue(x.skipped().isEmpty(), x.skipped().toString());
    }

    @Test
    void symlinkedCacheDirectoryIsRefused() throws IOException {
        Path real = plantedRoot("real");
        Files.write(real.resolve(HASH_DIR).resolve(LibraryCache.LIB), "attacker's code".getBytes());
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertSkippedTo(extract(link, tmp.resolve("good")), link, "symbolic link");
    }

    @Test
    void symlinkedHashDirectoryIsRefused() throws IOException {
        Path elsewhere = plantedRoot("elsewhere").resolve(HASH_DIR);
        Path root = mkdirs(tmp.resolve("cache"));
        Files.createSymbolicLink(root.resolve(HASH_DIR), elsewhere);
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "symbolic link");
    }

    @Test
    void symlinkedLibraryIsRefusedEvenToACorrectCopy() throws IOException {
        Path correct = plantedRoot("elsewhere").resolve(HASH_DIR).resolve(LibraryCache.LIB);
        Path root = tmp.resolve("cache");
        mkdirs(root.resolve(HASH_DIR));
        Files.createSymbolicLink(root.resolve(HASH_DIR).resolve(LibraryCache.LIB), correct);
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "symbolic link");
    }

    @Test
    void libraryPathThatIsADirectoryIsRefused() throws IOException {
        Path root = tmp.resolve("cache");
        mkdirs(root.resolve(HASH_DIR).resolve(LibraryCache.LIB));
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "not a regular file");
    }

    @Test
    void symlinkAboveTheCacheIsResolvedAndTheRealPathLoaded() throws IOException {
        // A symlinked ancestor (e.g. /home -> /var/home) is fine: what gets loaded is the real path,
        // whose every directory was checked.
        Path realParent = mkdirs(tmp.resolve("realParent"));
        Path alias = Files.createSymbolicLink(tmp.resolve("alias"), realParent);
        LibraryCache.Extraction x = extract(alias.resolve("cache"));
        assertEquals(realParent.toRealPath().resolve("cache").resolve(HASH_DIR).resolve(LibraryCache.LIB), x.file());
        assertArrayEquals(LIB, Files.readAllBytes(x.file()));
    }

    @Test
    void everyRefusedRootIsNamedWithItsReason() throws IOException {
        Path file = Files.createFile(tmp.resolve("file"));
        Path open = mkdirs(tmp.resolve("open"));
        chmod(open, 0777);
        CacheUnavailableException e = assertThrows(CacheUnavailableException.class, () -> extract(file, open));
        assertEquals(2, e.reasons.size(), e.reasons.toString());
        assertTrue(e.reasons.get(0).startsWith(file + ": ") && e.reasons.get(0).contains("not a directory"), e.reasons.get(0));
        assertTrue(e.reasons.get(1).startsWith(open + ": ") && e.reasons.get(1).contains("writable by group or others"),
                e.reasons.get(1));
        assertTrue(e.getMessage().contains(e.reasons.get(0)) && e.getMessage().contains(e.reasons.get(1)), e.getMessage());
    }

    @Test
    void noRootsAtAllIsAnError() {
        CacheUnavailableException e = assertThrows(CacheUnavailableException.class, LibraryCacheTest::extract);
        assertTrue(e.getMessage().contains("no cache directory"), e.getMessage());
    }

    // ---- availability ---------------------------------------------------------------------------

    @Test
    void rootThatCannotBeCreatedFallsToTheNext() throws IOException {
        // Below a regular file no directory can be made, even by root (who ignores permissions).
        Path blocked = Files.createFile(tmp.resolve("plainFile")).resolve("cache");
        assertSkippedTo(extract(blocked, tmp.resolve("good")), blocked, "FileAlreadyExistsException");
    }

    @Test
    void readOnlyRootFallsToTheNext() throws IOException {
        assumeFalse(isRoot(), "root writes into read-only directories");
        Path ro = mkdirs(tmp.resolve("ro"));
        chmod(ro, 0500);
        Path root = ro.resolve("cache");
        assertSkippedTo(extract(root, tmp.resolve("good")), root, "AccessDeniedException");
    }

    // ---- concurrency ----------------------------------------------------------------------------

    @Test
    void fourThreadsExtractingIntoOneRootLeaveOneValidFile() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 6; round++) {
                Path root = tmp.resolve("race" + round);
                if (round % 2 == 1) { // half the rounds race on a damaged copy
                    Path damaged = extract(root).file();
                    Files.write(damaged, new byte[LIB.length]);
                }
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<LibraryCache.Extraction>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    fs.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return extract(root);
                    }));
                }
                List<LibraryCache.Extraction> xs = new ArrayList<>();
                for (Future<LibraryCache.Extraction> f : fs) xs.add(f.get(30, TimeUnit.SECONDS));
                Path expected = root.toRealPath().resolve(HASH_DIR).resolve(LibraryCache.LIB);
                for (LibraryCache.Extraction x : xs) {
                    assertEquals(expected, x.file());
                    assertTrue(x.skipped().isEmpty(), x.skipped().toString());
                }
                assertArrayEquals(LIB, Files.readAllBytes(expected), "round " + round);
                try (Stream<Path> s = Files.list(expected.getParent())) {
                    assertEquals(List.of(expected), s.toList(), "round " + round + ": one file, no temporaries");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
