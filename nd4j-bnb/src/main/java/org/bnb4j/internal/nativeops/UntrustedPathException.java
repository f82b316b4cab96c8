package org.bnb4j.internal.nativeops;

import java.io.IOException;

/** A cache path that someone other than this user (or root) could change; the loader skips it. */
final class UntrustedPathException extends IOException {
    UntrustedPathException(String message) {
        super(message);
    }
}
