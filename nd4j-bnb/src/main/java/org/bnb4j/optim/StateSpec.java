package org.bnb4j.optim;

import org.bnb4j.quant.QuantMap;

/**
 * What one state of an optimizer is: its role (for messages and docs), which dynamic map its 8-bit
 * codes use, and whether quantization keeps its sign (bitsandbytes' sign fix: a code of the wrong
 * sign moves one step toward the value's sign, so a small momentum never flips). Every kernel (Java
 * and native) takes these from the optimizer's descriptor ({@link OptimKind#states()}); the native
 * library's own descriptors are checked against them when it loads.
 *
 * @param role      short name of the state ("m", "v", ...)
 * @param signedMap true: the signed dynamic map; false: the unsigned one (a state that is never negative)
 * @param signFix   whether the encoder applies the sign fix
 */
public record StateSpec(String role, boolean signedMap, boolean signFix) {

    /** A signed state encoded with the sign fix (momenta). */
    public static StateSpec signed(String role) {
        return new StateSpec(role, true, true);
    }

    /** A non-negative state on the unsigned map (second moments). */
    public static StateSpec unsigned(String role) {
        return new StateSpec(role, false, false);
    }

    /** The dynamic map of this state's codes. */
    public QuantMap map() {
        return QuantMap.dynamic(signedMap);
    }
}
