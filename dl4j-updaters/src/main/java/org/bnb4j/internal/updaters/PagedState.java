package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.internal.paging.MemoryHeadroom;
import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.internal.paging.PagedStateException;
import org.bnb4j.internal.paging.PagingDirectory;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The paged storage of one updater's view (config {@code paged(true)}): the view's memory becomes a
 * file-backed mapping ({@link PagedMemory}) at the view's own address, so DL4J's save, restore, clone
 * and SameDiff's save see the state where they always do, and the operating system pages it out
 * when memory runs short. A new view is mapped at once and reads as zero (its pages were never
 * touched, so a paged state is never resident as a whole); a view that already holds state (a restore
 * handing its array, SameDiff's load) is mapped with its contents on the first step, and when that
 * mapping fails (no space, a file-size limit) the state stays in memory with a warning rather than
 * failing the step halfway (other blocks of the iteration may have stepped).
 *
 * <p>A step runs whole while the state fits in the memory left (the OS then keeps its pages, and the
 * step costs what an in-memory one does, plus a read-ahead hint). When it does not fit, the step is
 * streamed: a range of blocks at a time, in order, with the next range read ahead and each finished
 * range written to the file and dropped, so that at most a few ranges are resident. (The kernel's
 * reclaim cannot be left to do this alone: under a cgroup v1 limit it does not write dirty file pages
 * itself and kills the process when nothing clean is left to reclaim.)
 * {@code -Dbnb4j.paged.streaming=auto|always|never} overrides the choice (tests, benchmarks).
 */
final class PagedState {
    private static final Logger log = LoggerFactory.getLogger(PagedState.class);
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
    /** State bytes stepped between two write-outs when streaming. */
    static final long CHUNK_BYTES = 8L << 20;
    private static final long PAGE = 4096;

    private final String who;
    private final Path dir;
    private final String streaming = System.getProperty("bnb4j.paged.streaming", "auto").toLowerCase(Locale.ROOT);
    private INDArray view;
    private boolean pending;
    private long address, bytes;
    private long streamedSteps;

    PagedState(String who, String directory) {
        this.who = who;
        this.dir = PagingDirectory.resolve(directory);
        if (!streaming.equals("auto") && !streaming.equals("always") && !streaming.equals("never")) {
            throw new IllegalStateException("bnb4j.paged.streaming must be auto, always or never, got " + streaming);
        }
    }

    /**
     * Takes a new view. The directory, its free space and the platform are checked here, before any step.
     *
     * @return true when the view now reads as zero (a fresh mapping), so the caller need not zero it
     */
    boolean attach(INDArray newView, boolean initialize) {
        view = newView;
        pending = false;
        address = bytes = 0;
        if (newView == null || newView.length() == 0) return false;
        String unavailable = PagedMemory.unavailableReason();
        if (unavailable != null) throw new PagedStateException(who + ": " + unavailable);
        PagingDirectory.check(dir, newView.length() * ArrayMemory.elementSize(newView.dataType()));
        if (!initialize) {
            pending = true;
            return false;
        }
        return record(PagedMemory.page(newView, dir, true)) == PagedMemory.Outcome.PAGED;
    }

    /**
     * Before a step: maps a view that arrived with state, and says how to step it.
     *
     * @return true: stream the step (the step*Streamed methods); false: step it whole (its pages are being read ahead)
     */
    boolean beginStep() {
        if (pending) {
            pending = false;
            try {
                record(PagedMemory.page(view, dir, false));
            } catch (PagedStateException e) {
                // DL4J steps its updater blocks one after another: blocks before this one may have stepped in this
                // iteration already, so failing here would leave a partial step. The state is intact in memory.
                log.warn("{}: the state that came with this updater view cannot be paged, it stays in memory ({})", who, e.getMessage());
                return false;
            }
        }
        if (bytes == 0) return false;
        boolean stream = streaming.equals("always") || (streaming.equals("auto") && !fitsInMemory());
        if (!stream) PagedMemory.willNeed(address, bytes);
        else if (streamedSteps++ == 0) {
            if (streaming.equals("always")) log.info("{}: {} MB of paged state, streamed (bnb4j.paged.streaming=always)", who, bytes >> 20);
            else log.info("{}: {} MB of paged state do not fit in the memory left: steps stream it through memory", who, bytes >> 20);
        }
        return stream;
    }

    /** The state fits when it would take at most half of what is left (counting the part already in memory). */
    private boolean fitsInMemory() {
        long free = MemoryHeadroom.bytes();
        if (free == Long.MAX_VALUE || bytes <= free / 2) return true;
        long resident;
        try {
            resident = PagedMemory.residentBytes(view);
        } finally {
            Reference.reachabilityFence(view);
        }
        return bytes <= (free + resident) / 2;
    }

    /** The 8-bit step a range of blocks at a time, each range's code pages written out behind it. */
    void step8bitStreamed(OptimizerKernels kernels, OptimHyper h, INDArray gradient, OptimState8bit st) {
        int k = st.kind().numStates();
        long n = st.length(), bs = st.blocksize(), nb = Blockwise.numBlocks(n, st.blocksize());
        long perChunk = Math.max(1, CHUNK_BYTES / (k * bs));
        try {
            for (long b0 = 0; b0 < nb; b0 += perChunk) {
                long b1 = Math.min(nb, b0 + perChunk), b2 = Math.min(nb, b1 + perChunk);
                for (int s = 0; s < k; s++) willNeed(st.codesAddress(s) + b1 * bs, st.codesAddress(s) + Math.min(n, b2 * bs));
                kernels.step8bitBlocks(h, gradient, st, b0, b1);
                // from a page back: the page the previous range ended in is whole only now
                for (int s = 0; s < k; s++) flush(st.codesAddress(s) + b0 * bs - PAGE, st.codesAddress(s) + Math.min(n, b1 * bs));
            }
        } finally {
            Reference.reachabilityFence(st);
            Reference.reachabilityFence(view);
        }
    }

    /** Streams a 32-bit step: FLOAT states (k runs of n values in {@code states}) and a FLOAT gradient only. */
    static boolean canStream32(INDArray gradient, INDArray states) {
        return gradient.dataType() == DataType.FLOAT && states.dataType() == DataType.FLOAT && ArrayMemory.of(gradient).isContiguous();
    }

    void step32Streamed(OptimizerKernels kernels, OptimHyper h, INDArray gradient, INDArray states, int k, long n) {
        long perChunk = Math.max(1, CHUNK_BYTES / (4L * k));
        INDArray g = gradient.reshape(n), flat = states.reshape(states.length());
        long base = ArrayMemory.of(flat).address();
        INDArray[] chunk = new INDArray[k];
        try {
            for (long i0 = 0; i0 < n; i0 += perChunk) {
                long i1 = Math.min(n, i0 + perChunk), i2 = Math.min(n, i1 + perChunk);
                for (int s = 0; s < k; s++) {
                    willNeed(base + 4 * (s * n + i1), base + 4 * (s * n + i2));
                    chunk[s] = flat.get(NDArrayIndex.interval(s * n + i0, s * n + i1));
                }
                kernels.step32(h, g.get(NDArrayIndex.interval(i0, i1)), chunk);
                for (int s = 0; s < k; s++) flush(base + 4 * (s * n + i0) - PAGE, base + 4 * (s * n + i1));
            }
        } finally {
            Reference.reachabilityFence(flat);
            Reference.reachabilityFence(view);
        }
    }

    /** [from, to) clamped to the paged pages: nothing outside them may be dropped (it would be lost). */
    private void flush(long from, long to) {
        long a = Math.max(from, address), b = Math.min(to, address + bytes);
        if (b > a) PagedMemory.flush(a, b - a);
    }

    private void willNeed(long from, long to) {
        long a = Math.max(from, address), b = Math.min(to, address + bytes);
        if (b > a) PagedMemory.willNeed(a, b - a);
    }

    /** Bytes of the view that are paged (0 when it could not be). */
    long pagedBytes() {
        return bytes;
    }

    private PagedMemory.Outcome record(PagedMemory.Result r) {
        address = r.address;
        bytes = r.bytes;
        if (r.outcome == PagedMemory.Outcome.NOT_PAGEABLE) {
            if (REPORTED.add(r.reason)) {
                log.info("{}: a state view of {} bytes stays in memory: {}", who, view.length() * ArrayMemory.elementSize(view.dataType()), r.reason);
            }
        } else if (log.isDebugEnabled()) {
            log.debug("{}: {} bytes of state paged in {}", who, r.bytes, dir);
        }
        return r.outcome;
    }
}
