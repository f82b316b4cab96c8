package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.util.List;

/** No cache root could hold a verified copy of the library; one reason per root tried. */
final class CacheUnavailableException extends IOException {
    final List<String> reasons;

    CacheUnavailableException(List<String> reasons) {
        super(reasons.isEmpty() ? "no cache directory to extract the native library into"
                : "no usable cache directory for the native library: " + String.join("; ", reasons));
        this.reasons = List.copyOf(reasons);
    }
}
