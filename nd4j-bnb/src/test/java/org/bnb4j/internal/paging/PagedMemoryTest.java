package org.bnb4j.internal.paging;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.nativeops.NativeLibraryLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Paging an array's memory to a file: contents kept or zeroed, the pages really file-backed (they can
 * be dropped and read back from the file), the edges outside whole pages untouched, the mapping gone
 * with the array, and the arrays that must stay in memory refused with a reason.
 */
class PagedMemoryTest {
    /**
     * More than 64 MiB: a Java thread's malloc arena is made of heaps of at most 64 MiB, so glibc maps
     * such an array on its own every time (a smaller one may be cut from a free block of the arena).
     */
    static final long BIG = 20_000_000;   // 80 MB of FLOAT

    @TempDir
    Path dir;

    @BeforeEach
    void nativeLoaded() {
        assumeTrue(NativeLibraryLoader.load().loaded, "paging needs the native library");
    }

    /** Mappings of paged files (by their name prefix) in this process now. */
    static long pagedMappings() throws IOException {
        return Files.readAllLines(Paths.get("/proc/self/maps")).stream().filter(l -> l.contains("/" + PagingDirectory.FILE_PREFIX)).count();
    }

    @Test
    void keepsContentsAndReadsThemBackFromTheFile() throws IOException {
        INDArray a = Nd4j.linspace(DataType.FLOAT, 1, BIG, 1);
        INDArray expected = a.dup();
        long before = pagedMappings();
        PagedMemory.Result r = PagedMemory.page(a, dir, false);
        assertEquals(PagedMemory.Outcome.PAGED, r.outcome, r.reason);
        assertTrue(r.bytes >= 4 * BIG - 8192 && r.bytes <= 4 * BIG, "whole pages inside the array: " + r.bytes);
        assertEquals(before + 1, pagedMappings());
        assertEquals(expected, a);
        // written out and (where the OS drops them) read back from the file
        assertTrue(PagedMemory.pageOut(r.address, r.bytes));
        assertEquals(expected, a);
        a.addi(1);
        assertEquals(expected.add(1), a);
        // the file has no name: nothing is left in the directory
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void freshMappingReadsAsZeroAndLeavesTheRestOfTheArrayAlone() {
        INDArray whole = Nd4j.linspace(DataType.FLOAT, 1, BIG, 1);
        float before = whole.getFloat(1000), after = whole.getFloat(BIG - 999);
        // a view starting and ending inside pages: its edges are zeroed as ordinary memory, the neighbours kept
        INDArray view = whole.get(NDArrayIndex.interval(1001, BIG - 999));
        PagedMemory.Result r = PagedMemory.page(view, dir, true);
        assertEquals(PagedMemory.Outcome.PAGED, r.outcome, r.reason);
        assertEquals(0.0, view.minNumber().doubleValue());
        assertEquals(0.0, view.maxNumber().doubleValue());
        assertEquals(before, whole.getFloat(1000));
        assertEquals(after, whole.getFloat(BIG - 999));
        assertTrue(r.address >= ArrayMemory.of(view).address() && r.address + r.bytes <= ArrayMemory.of(view).address() + 4 * view.length());
        // a second request finds it paged and changes nothing
        view.assign(3);
        PagedMemory.Result again = PagedMemory.page(view, dir, true);
        assertEquals(PagedMemory.Outcome.ALREADY_PAGED, again.outcome);
        assertEquals(r.address, again.address);
        assertEquals(3.0, view.minNumber().doubleValue());
        assertEquals(3.0, view.maxNumber().doubleValue());
        // pages written through the mapping are the file's: the OS can drop them and read them back
        long resident = PagedMemory.residentBytes(view);
        assertTrue(PagedMemory.pageOut(r.address, r.bytes));
        long dropped = PagedMemory.residentBytes(view);
        assertTrue(dropped < resident / 4, "resident before page-out " + resident + ", after " + dropped);
        assertEquals(3.0, view.minNumber().doubleValue());
        assertEquals(3.0, view.maxNumber().doubleValue());
        assertEquals(before, whole.getFloat(1000));
    }

    @Test
    void mappingGoesWithTheArray() throws IOException {
        long before = pagedMappings();
        INDArray a = Nd4j.create(DataType.FLOAT, BIG);
        PagedMemory.page(a, dir, true);
        assertEquals(before + 1, pagedMappings());
        a.close();
        assertEquals(before, pagedMappings());
    }

    @Test
    void allocatedPagedArraysAreZeroUntouchedAndUnmappedWhenCollected() throws Exception {
        long before = pagedMappings();
        INDArray a = PagedMemory.allocate(DataType.FLOAT, BIG, dir);
        assertEquals(before + 1, pagedMappings());
        assertEquals(0, PagedMemory.residentBytes(a), "nothing resident before use");
        assertEquals(0.0, a.minNumber().doubleValue());
        assertEquals(0.0, a.maxNumber().doubleValue());
        a.assign(2);
        assertEquals(2.0, a.minNumber().doubleValue());
        assertEquals(2.0, a.maxNumber().doubleValue());
        // it is paged memory already: paging it again changes nothing
        assertEquals(PagedMemory.Outcome.ALREADY_PAGED, PagedMemory.page(a, dir, false).outcome);
        assertEquals(2.0, a.minNumber().doubleValue());
        a = null;
        for (int i = 0; i < 100 && pagedMappings() > before; i++) {
            System.gc();
            Thread.sleep(100);
        }
        assertEquals(before, pagedMappings(), "the mapping goes once the array is collected");
        PagedStateException e = assertThrows(PagedStateException.class, () -> PagedMemory.allocate(DataType.FLOAT, 10, dir.resolve("missing")));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void smallArraysStayInMemoryWithAReason() {
        INDArray small = Nd4j.linspace(DataType.FLOAT, 1, 5000, 1);
        INDArray copy = small.dup();
        PagedMemory.Result r = PagedMemory.page(small, dir, false);
        assertEquals(PagedMemory.Outcome.NOT_PAGEABLE, r.outcome);
        assertNotNull(r.reason);
        assertEquals(0, r.bytes);
        assertEquals(copy, small);
        // less than a page: the reason says so (it was empty)
        INDArray tiny = Nd4j.linspace(DataType.FLOAT, 1, 220, 1);
        PagedMemory.Result t = PagedMemory.page(tiny, dir, false);
        assertEquals(PagedMemory.Outcome.NOT_PAGEABLE, t.outcome);
        assertTrue(t.reason.startsWith("it does not span a whole page ("), t.reason);
    }

    @Test
    void aMissingDirectoryFailsAndChangesNothing() {
        INDArray a = Nd4j.linspace(DataType.FLOAT, 1, BIG, 1);
        INDArray copy = a.dup();
        Path missing = dir.resolve("no/such/dir");
        PagedStateException e = assertThrows(PagedStateException.class, () -> PagedMemory.page(a, missing, false));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertEquals(copy, a);
        PagedStateException checked = assertThrows(PagedStateException.class, () -> PagingDirectory.check(missing, 1));
        assertTrue(checked.getMessage().contains("does not exist"), checked.getMessage());
    }

    @Test
    void aFileIsNotADirectory() throws IOException {
        Path file = Files.createFile(dir.resolve("plain"));
        PagedStateException e = assertThrows(PagedStateException.class, () -> PagingDirectory.check(file, 1));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
    }

    @Test
    void tooLittleSpaceIsNamedBeforeAnything() {
        PagedStateException e = assertThrows(PagedStateException.class, () -> PagingDirectory.requireSpace(dir, 1L << 40, 1L << 30));
        assertTrue(e.getMessage().contains("1073741824 bytes free, the state needs 1099511627776"), e.getMessage());
        PagingDirectory.requireSpace(dir, 1L << 30, 1L << 30);
        // the real file system's check passes for a small state and fails for an impossible one
        PagingDirectory.check(dir, 1 << 20);
        assertThrows(PagedStateException.class, () -> PagingDirectory.check(dir, Long.MAX_VALUE));
    }

    /**
     * The native reservation fails cleanly: a file larger than ext4 allows (16 TiB) is refused by
     * fallocate at once (EFBIG, nothing allocated), reported as a space error naming the directory, and
     * nothing is mapped. Only on ext4, where that limit is known: elsewhere fallocate could fill the disk.
     */
    @Test
    void aReservationTheFileSystemRefusesIsASpaceError() throws IOException {
        assumeTrue("ext4".equals(Files.getFileStore(dir).type()), "needs ext4's 16 TiB file size limit");
        long before = pagedMappings();
        PagedStateException e = assertThrows(PagedStateException.class, () -> PagedMemory.allocate(DataType.FLOAT, 16L << 40, dir));
        assertTrue(e.getMessage().contains("too little disk space in " + dir), e.getMessage());
        assertEquals(before, pagedMappings());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void filesOfEndedProcessesAreSwept() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long deadPid = p.pid();
        Path stale = Files.createFile(dir.resolve(PagingDirectory.FILE_PREFIX + deadPid + "-0"));
        Path live = Files.createFile(dir.resolve(PagingDirectory.FILE_PREFIX + ProcessHandle.current().pid() + "-0"));
        Path other = Files.createFile(dir.resolve("unrelated-file"));
        // a dead PID in a name that is not of the exact form PID-SEQ: not ours, kept
        Path notes = Files.createFile(dir.resolve(PagingDirectory.FILE_PREFIX + deadPid + "-notes"));
        Path backup = Files.createFile(dir.resolve(PagingDirectory.FILE_PREFIX + deadPid + "-0-backup.tar"));
        assertEquals(1, PagingDirectory.sweepStale(dir));
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(live));
        assertTrue(Files.exists(other));
        assertTrue(Files.exists(notes) && Files.exists(backup));
        assertEquals(-1, PagingDirectory.pidOf("bnb4j-paged-x-1"));
        assertEquals(-1, PagingDirectory.pidOf("bnb4j-paged-42-"));
        assertEquals(-1, PagingDirectory.pidOf("bnb4j-paged-42-7.tmp"));
        assertEquals(-1, PagingDirectory.pidOf("bnb4j-paged-+42-7"));
        assertEquals(-1, PagingDirectory.pidOf("bnb4j-paged-99999999999999999999-7"));
        assertEquals(42, PagingDirectory.pidOf("bnb4j-paged-42-7"));
    }
}
