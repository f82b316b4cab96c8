package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.internal.paging.PagingDirectory;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The paged storage of one updater's view (config {@code paged(true)}): the view's memory becomes a
 * file-backed mapping ({@link PagedMemory}) at the view's own address, so DL4J's save, restore, clone
 * and SameDiff's save see the state where they always do, and the operating system pages it out
 * when memory runs short. A new view is mapped at once and reads as zero (its pages were never
 * touched, so a paged state is never resident as a whole); a view that already holds state (a restore
 * handing its array, SameDiff's load) is mapped with its contents on the first step. Each step asks
 * the OS to read the view's pages in ahead of the kernel.
 */
final class PagedState {
    private static final Logger log = LoggerFactory.getLogger(PagedState.class);
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private final String who;
    private final Path dir;
    private INDArray view;
    private boolean pending;
    private long address, bytes;

    PagedState(String who, String directory) {
        this.who = who;
        this.dir = PagingDirectory.resolve(directory);
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
        if (unavailable != null) throw new org.bnb4j.internal.paging.PagedStateException(who + ": " + unavailable);
        PagingDirectory.check(dir, newView.length() * ArrayMemory.elementSize(newView.dataType()));
        if (!initialize) {
            pending = true;
            return false;
        }
        return record(PagedMemory.page(newView, dir, true)) == PagedMemory.Outcome.PAGED;
    }

    /** Before a step: maps a view that arrived with state, then starts reading its pages in. */
    void beforeStep() {
        if (pending) {
            pending = false;
            record(PagedMemory.page(view, dir, false));
        }
        PagedMemory.willNeed(address, bytes);
    }

    /** Bytes of the view that are paged (0 when it could not be). */
    long pagedBytes() {
        return bytes;
    }

    private PagedMemory.Outcome record(PagedMemory.Result r) {
        address = r.address;
        bytes = r.bytes;
        if (r.outcome == PagedMemory.Outcome.NOT_PAGEABLE) {
            if (REPORTED.add(r.reason)) log.info("{}: a state view of {} bytes stays in memory: {}", who, view.length() * ArrayMemory.elementSize(view.dataType()), r.reason);
        } else if (log.isDebugEnabled()) {
            log.debug("{}: {} bytes of state paged in {}", who, r.bytes, dir);
        }
        return r.outcome;
    }
}
