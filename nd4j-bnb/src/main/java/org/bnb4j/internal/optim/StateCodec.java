package org.bnb4j.internal.optim;

import org.bnb4j.internal.kernels.CodeSearch;

/**
 * How optimizer state values become codes and back (same rules as the native optim.cpp): the
 * block-wise search of {@link CodeSearch}, bitsandbytes' sign fix for state 1, and the NaN-safe byte
 * forms of codes packed into words that a save writes as floating point values.
 *
 * <p>A phase says where a code stream sits in those words: -1 plain bytes; {@code 0..3} the word
 * position of its first byte in FLOAT words; {@link #HALF_WORDS} plus that position for 16-bit words.
 * <ul>
 * <li>FLOAT words: byte 3 of a word (sign and 7 exponent bits) must not be 0x7f or 0xff. Codes 1 and
 *   254 are not used there (the nearer neighbour is taken) and {@link #sigma} swaps 0x7f with 1 and
 *   0xff with 254.</li>
 * <li>HALF words: byte 1 of a 16-bit word (sign, 5 exponent bits, 2 mantissa bits) must not have an
 *   all-ones exponent, i.e. not be one of 0x7c..0x7f, 0xfc..0xff. The odd codes 0xe9..0xf7 are not
 *   used there (both of their neighbours are, so the nearer one is taken: codes of the top of both
 *   dynamic maps, where a step is 0.7% to 1.5% of the value) and {@link #sigma16} swaps the eight
 *   forbidden bytes with them, in order. The block scales in such words are rounded up by
 *   {@link #halfWordScale} so that neither 16-bit half of the float is a half NaN either.</li>
 * </ul>
 */
final class StateCodec {
    private StateCodec() {}

    /** Flag of a phase whose words are 16-bit (HALF) words. */
    static final int HALF_WORDS = 16;
    /** Slots: a plain byte, byte 3 of a FLOAT word, byte 1 of a HALF word. */
    static final int PLAIN = 0, FLOAT_TOP = 1, HALF_TOP = 2;

    static int sigma(int c) {
        switch (c) {
            case 0x7f: return 1;
            case 1: return 0x7f;
            case 0xff: return 254;
            case 254: return 0xff;
            default: return c;
        }
    }

    /** The HALF-word swap: 0x7c..0x7f -> 0xe9, 0xeb, 0xed, 0xef and 0xfc..0xff -> 0xf1, 0xf3, 0xf5, 0xf7, and back. */
    static int sigma16(int c) {
        if ((c & 0x7c) == 0x7c) return 0xe9 + 2 * ((c & 3) | ((c >> 5) & 4));
        if (isHalfDropped(c)) {
            int k = (c - 0xe9) >> 1;
            return ((k & 4) != 0 ? 0xfc : 0x7c) | (k & 3);
        }
        return c;
    }

    /** Codes not used at HALF top bytes: the odd codes 0xe9..0xf7. */
    static boolean isHalfDropped(int c) {
        return c >= 0xe9 && c <= 0xf7 && (c & 1) == 1;
    }

    static boolean isHalfWords(int phase) {
        return phase >= 0 && (phase & HALF_WORDS) != 0;
    }

    /** The phase of the element {@code offset} places after one at {@code phase}. */
    static int at(int phase, long offset) {
        return phase < 0 ? -1 : (phase & HALF_WORDS) | (int) ((phase + offset) & 3);
    }

    /** The slot of element i of a stream starting at phase. */
    static int slot(int phase, long i) {
        if (phase < 0) return PLAIN;
        if ((phase & HALF_WORDS) != 0) return ((phase + i) & 1) == 1 ? HALF_TOP : PLAIN;
        return ((phase + i) & 3) == 3 ? FLOAT_TOP : PLAIN;
    }

    /** True when element i of a stream starting at a FLOAT-word phase is a word's byte 3. */
    static boolean isTop(int phase, long i) {
        return slot(phase, i) == FLOAT_TOP;
    }

    /** {@link #encode(float[], float, float, boolean, int)} for FLOAT words or plain bytes. */
    static int encode(float[] map, float s, float absmax, boolean signFix, boolean top) {
        return encode(map, s, absmax, signFix, top ? FLOAT_TOP : PLAIN);
    }

    /** The block scale as stored: itself, or for HALF words rounded up so that no 16-bit half is NaN. */
    static float storedScale(int phase, float absmax) {
        return isHalfWords(phase) ? halfWordScale(absmax) : absmax;
    }

    /**
     * The smallest float >= m (m >= 0, not NaN) whose two 16-bit halves are not half NaNs: the low half
     * must not have an all-ones exponent (at most 2^10 ulps up, a relative 1.2e-4), and the high half
     * is that of a float below 2^121; larger scales (and +Inf) saturate at 2^121, whose high half is
     * half +Inf, which a save keeps (such states cannot come from HALF gradients, |g| <= 65504).
     */
    static float halfWordScale(float m) {
        int u = Float.floatToRawIntBits(m);
        if (Integer.compareUnsigned(u, 0x7c000000) >= 0) return Float.intBitsToFloat(0x7c000000);
        if ((u & 0x7c00) == 0x7c00) u = (u | 0x7fff) + 1;
        return Float.intBitsToFloat(u);
    }

    static float decode(float[] map, int stored, int slot, float absmax) {
        int c = slot == FLOAT_TOP ? sigma(stored) : slot == HALF_TOP ? sigma16(stored) : stored;
        return map[c] * absmax;
    }

    static int encode(float[] map, float s, float absmax, boolean signFix, int slot) {
        float y = CodeSearch.normalize(s, absmax);
        int c = CodeSearch.nearest(map, y);
        // a NaN state has no sign to keep: it keeps the code of NaN (moving it could leave the map)
        if (signFix && !Float.isNaN(s) && signBit(map[c]) != signBit(s)) c += s > 0.0f ? 1 : -1;
        boolean dropped = slot == FLOAT_TOP ? c == 1 || c == 254 : slot == HALF_TOP && isHalfDropped(c);
        if (dropped) {
            float dl = Math.abs(y - map[c - 1]), dh = Math.abs(y - map[c + 1]);
            c = dh < dl ? c + 1 : c - 1;
        }
        return slot == FLOAT_TOP ? sigma(c) : slot == HALF_TOP ? sigma16(c) : c;
    }

    private static boolean signBit(float f) {
        return (Float.floatToRawIntBits(f) & 0x80000000) != 0;
    }
}
