package org.bnb4j.internal.paging;

/** Paged state cannot be set up: the directory, its free space, or the platform. Thrown before any state changes. */
public class PagedStateException extends IllegalStateException {
    public PagedStateException(String message) {
        super(message);
    }
}
