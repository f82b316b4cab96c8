package org.bnb4j.internal.paging;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.internal.nativeops.NativeLibraryLoader;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.file.Path;

/**
 * Pages an INDArray's memory to a file: an unlinked file in a directory is mapped over the whole pages
 * of the array's memory (libnd4j-ops paging.cpp), so the operating system writes them out and drops
 * them when memory runs short and reads them back on access. The array keeps its address, so every
 * INDArray aliasing that memory (DL4J's updater view and what saves, restores and clones it) sees
 * ordinary memory; the mapping goes when the array's memory is freed, and the file with it (it has no
 * name: a crash leaves nothing behind).
 *
 * <p>Only arrays whose memory malloc mapped on its own can be paged (always those of more than 64 MiB,
 * which no malloc arena heap of a Java thread can hold; smaller ones usually): {@link Outcome#NOT_PAGEABLE}
 * says why an array stays in memory.
 */
public final class PagedMemory {
    private PagedMemory() {}

    /** What {@link #page} did. */
    public enum Outcome { PAGED, ALREADY_PAGED, NOT_PAGEABLE }

    /** The result of {@link #page}: the paged pages (first address, bytes; 0 bytes when none) and, when not paged, why. */
    public static final class Result {
        public final Outcome outcome;
        public final long address, bytes;
        public final String reason;

        Result(Outcome outcome, long address, long bytes, String reason) {
            this.outcome = outcome;
            this.address = address;
            this.bytes = bytes;
            this.reason = reason;
        }
    }

    /** Null when paging works here, else why not (paging needs the native library's mapping code). */
    public static String unavailableReason() {
        try {
            org.bnb4j.internal.cuda.CudaBackend.requireHostMemory("paged state");
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        NativeLibraryLoader.Result r = NativeLibraryLoader.load();
        return r.loaded ? null : "paged state needs bnb4j's native library (Linux x86-64), which is not loaded: " + r.detail;
    }

    /**
     * Maps a new file in {@code dir} over {@code array}'s whole pages.
     *
     * @param fresh true: the array reads as zero afterwards (a new state; nothing is copied); false: its
     *              contents are kept (written to the file first)
     * @throws PagedStateException when the directory cannot take the file (cannot create or map it, too
     *                             little space); the array is then as it was
     */
    public static Result page(INDArray array, Path dir, boolean fresh) {
        String unavailable = unavailableReason();
        if (unavailable != null) throw new PagedStateException(unavailable);
        if (array.length() == 0) return new Result(Outcome.NOT_PAGEABLE, 0, 0, "empty array");
        ArrayMemory m = ArrayMemory.of(array);
        if (!m.isContiguous()) throw new IllegalArgumentException("paged memory must be contiguous, got strides of " + array.shapeInfoToString());
        DataBuffer root = array.data();
        while (root.originalDataBuffer() != null && root.originalDataBuffer() != root) root = root.originalDataBuffer();
        long rootAddress = root.addressPointer().address();
        long rootBytes = root.length() * root.getElementSize();
        long bytes = array.length() * ArrayMemory.elementSize(array.dataType());
        long[] out = new long[3];
        String why;
        try {
            why = BnbNative.pageMap(m.address(), bytes, rootAddress, rootBytes, dir.toString(),
                    fresh ? BnbNative.PAGE_FRESH : BnbNative.PAGE_KEEP, out);
        } finally {
            Reference.reachabilityFence(array);
            Reference.reachabilityFence(root);
        }
        int status = (int) out[0];
        switch (status) {
            case BnbNative.PAGE_OK: return new Result(Outcome.PAGED, out[1], out[2], null);
            case BnbNative.PAGE_ALREADY: return new Result(Outcome.ALREADY_PAGED, out[1], out[2], null);
            case BnbNative.PAGE_NOT_PAGEABLE: return new Result(Outcome.NOT_PAGEABLE, 0, 0, why);
            default: throw failure(status, dir, why, ". The state is unchanged.");
        }
    }

    /** The error of a failed mapping: too little space, or a directory that cannot take the file. */
    private static PagedStateException failure(long status, Path dir, String why, String after) {
        if (status == BnbNative.PAGE_ERR_SPACE) {
            return new PagedStateException("paged state: too little disk space in " + dir + " (" + why + "); choose another "
                    + "directory with pagedDirectory(...) or free space" + after);
        }
        return new PagedStateException("paged state: cannot use directory " + dir + ": " + why + after);
    }

    private static final Cleaner UNMAPPER = Cleaner.create();

    /**
     * A new array of {@code length} elements of {@code type} in paged memory of its own (an unlinked file
     * in {@code dir}), reading as zero, none of it resident until used. The mapping (and with it the
     * file) goes when the array's buffer is collected; closing the array does not unmap it earlier
     * (views of it may still be in use).
     *
     * @throws PagedStateException when the directory cannot take the file
     */
    public static INDArray allocate(DataType type, long length, Path dir) {
        String unavailable = unavailableReason();
        if (unavailable != null) throw new PagedStateException(unavailable);
        if (length <= 0) throw new IllegalArgumentException("length must be > 0, got " + length);
        long bytes = length * ArrayMemory.elementSize(type);
        long[] out = new long[3];
        String why = BnbNative.pageAlloc(bytes, dir.toString(), out);
        if (why != null) throw failure(out[0], dir, why, "");
        long address = out[1], mapped = out[2];
        Pointer p = new RawPointer(address, bytes);
        DataBuffer buffer = Nd4j.createBuffer(p, length, type);
        // the buffer owns nothing (an external pointer): unmap once nothing can reach it any more
        UNMAPPER.register(buffer, () -> BnbNative.pageFree(address, mapped));
        return Nd4j.create(buffer, new long[]{length}, new long[]{1}, 0, 'c', type);
    }

    /** A javacpp pointer over memory javacpp does not own. */
    private static final class RawPointer extends Pointer {
        RawPointer(long address, long bytes) {
            this.address = address;
            this.capacity = bytes;
            this.limit = bytes;
        }
    }

    /** Asks the OS to start reading {@code bytes} paged bytes at {@code address} in (it returns at once). */
    public static void willNeed(long address, long bytes) {
        if (bytes > 0) BnbNative.pageAdvise(address, bytes, BnbNative.PAGE_WILLNEED);
    }

    /**
     * Writes the dirty pages wholly inside [address, address + bytes) to the file and drops them from this
     * process: clean, they are the first memory the OS reclaims. Only for paged ranges (on ordinary
     * memory dropping pages would lose them): the caller keeps the range inside a {@link Result}'s.
     */
    public static void flush(long address, long bytes) {
        if (bytes <= 0) return;
        int rc = BnbNative.pageFlush(address, bytes);
        if (rc != 0) throw new PagedStateException("paged state: writing state pages to their file failed: errno " + (-rc));
    }

    /** Writes the pages out and drops them from memory (benchmarks and tests); false where the OS cannot. */
    public static boolean pageOut(long address, long bytes) {
        return bytes == 0 || BnbNative.pageAdvise(address, bytes, BnbNative.PAGE_PAGEOUT) == 0;
    }

    /**
     * Bytes of the paged-file mappings over the array's memory that this process has resident now (their
     * Rss in /proc/self/smaps; pages only in the page cache are the OS's to drop), or -1 when none of
     * the array is paged.
     */
    public static long mappedResidentBytes(INDArray array) {
        long from, to;
        try {
            from = ArrayMemory.of(array).address();
            to = from + array.length() * ArrayMemory.elementSize(array.dataType());
        } finally {
            Reference.reachabilityFence(array);
        }
        long kb = 0;
        boolean paged = false, ours = false;
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/smaps"))) {
                if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                    String[] range = l.substring(0, l.indexOf(' ')).split("-");
                    ours = l.contains("/" + PagingDirectory.FILE_PREFIX) && Long.parseUnsignedLong(range[0], 16) < to
                            && Long.parseUnsignedLong(range[1], 16) > from;
                    paged |= ours;
                } else if (ours && l.startsWith("Rss:")) {
                    kb += Long.parseLong(l.substring(4).replace("kB", "").trim());
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read /proc/self/smaps: " + e.getMessage(), e);
        }
        return paged ? kb * 1024 : -1;
    }

    /**
     * Bytes of the array's pages that are in memory now (mincore). Loads the native library when no
     * 8-bit updater has yet (a process training with DL4J's own updaters).
     * @throws PagedStateException where paging cannot work ({@link #unavailableReason})
     */
    public static long residentBytes(INDArray array) {
        if (array.length() == 0) return 0;
        String unavailable = unavailableReason();
        if (unavailable != null) throw new PagedStateException(unavailable);
        try {
            long r = BnbNative.pageResident(ArrayMemory.of(array).address(), array.length() * ArrayMemory.elementSize(array.dataType()));
            if (r < 0) throw new IllegalStateException("mincore failed: errno " + (-r));
            return r;
        } finally {
            Reference.reachabilityFence(array);
        }
    }
}
