package org.bnb4j.internal.nativeops;

import java.util.Arrays;
import java.util.List;

/**
 * Judges the BNB4J_ISA environment variable against what the native dispatcher did with it. The
 * dispatcher (dispatch.cpp) ignores a name it does not know or this CPU lacks without a word; this
 * turns that into a message, so the Java side can warn about it.
 */
public final class IsaRequest {
    /** The names dispatch.cpp's by_name() accepts, compared exactly (case and spaces matter). */
    static final List<String> KNOWN = List.of("scalar", "avx2", "avx512", "avx512vbmi");

    /** Whether the request was ignored and deserves a warning. */
    public final boolean warn;
    /** Null when BNB4J_ISA is unset (or empty, which the dispatcher treats alike). */
    public final String message;

    private IsaRequest(boolean warn, String message) {
        this.warn = warn;
        this.message = message;
    }

    /**
     * @param requested the value of BNB4J_ISA, or null
     * @param supported BnbNative.supportedIsas(): comma-separated
     * @param active    BnbNative.activeIsa()
     */
    public static IsaRequest check(String requested, String supported, String active) {
        if (requested == null || requested.isEmpty()) return new IsaRequest(false, null);
        String shown = "BNB4J_ISA=\"" + requested + "\"";
        String consequence = "; this CPU supports " + supported + "; using " + active;
        if (!KNOWN.contains(requested)) {
            return new IsaRequest(true, shown + " is not an instruction set name (one of " + String.join(", ", KNOWN)
                    + ") and was ignored" + consequence);
        }
        if (!Arrays.asList(supported.split(",")).contains(requested)) {
            return new IsaRequest(true, shown + " is not supported by this CPU and was ignored" + consequence);
        }
        if (!requested.equals(active)) {
            // Honoured at start-up but switched since (BnbNative.selectIsa before the first kernel).
            return new IsaRequest(false, shown + ", since switched to " + active);
        }
        return new IsaRequest(false, shown);
    }
}
