package org.bnb4j.optim;

import org.bnb4j.kernels.CodeSearch;

/**
 * How optimizer state values become codes and back (same rules as the native optim.cpp):
 * the block-wise search of {@link CodeSearch}, bitsandbytes' sign fix for state 1, and the NaN-safe
 * byte form for bytes at word position 3 of a packed FLOAT array (codes 1 and 254 are not used
 * there; sigma swaps 0x7f with 1 and 0xff with 254, so the byte never has an all-ones exponent).
 */
final class StateCodec {
    private StateCodec() {}

    static int sigma(int c) {
        switch (c) {
            case 0x7f: return 1;
            case 1: return 0x7f;
            case 0xff: return 254;
            case 254: return 0xff;
            default: return c;
        }
    }

    static boolean isTop(int phase, long i) {
        return phase >= 0 && ((phase + i) & 3) == 3;
    }

    static float decode(float[] map, int stored, boolean top, float absmax) {
        return map[top ? sigma(stored) : stored] * absmax;
    }

    static int encode(float[] map, float s, float absmax, boolean signFix, boolean top) {
        float y = CodeSearch.normalize(s, absmax);
        int c = CodeSearch.nearest(map, y);
        if (signFix && signBit(map[c]) != signBit(s)) c += s > 0.0f ? 1 : -1;
        if (top && (c == 1 || c == 254)) {
            float dl = Math.abs(y - map[c - 1]), dh = Math.abs(y - map[c + 1]);
            c = dh < dl ? c + 1 : c - 1;
        }
        return top ? sigma(c) : c;
    }

    private static boolean signBit(float f) {
        return (Float.floatToRawIntBits(f) & 0x80000000) != 0;
    }
}
