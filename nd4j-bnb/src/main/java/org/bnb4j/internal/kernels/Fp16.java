package org.bnb4j.internal.kernels;

/**
 * HALF and BFLOAT16 conversions, round-to-nearest-even, bit for bit the same as the native
 * library's (libnd4j-ops dtype.h), so both implementations agree exactly. Java 17 has no
 * Float.floatToFloat16.
 */
public final class Fp16 {
    private Fp16() {}

    public static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0) {
            float v = mant * 5.9604644775390625e-8f; // mant * 2^-24, exact
            return Float.intBitsToFloat(Float.floatToRawIntBits(v) | sign);
        }
        if (exp == 31) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    public static short floatToHalf(float f) {
        int u = Float.floatToRawIntBits(f);
        int sign = (u >>> 16) & 0x8000;
        u &= 0x7fffffff;
        if (u >= 0x47800000) { // >= 65536, Inf or NaN
            return (short) (sign | (u > 0x7f800000 ? 0x7e00 : 0x7c00));
        }
        if (u < 0x38800000) { // subnormal half: an FP add with 0.5f does the rounding
            int magic = 0x3f000000;
            return (short) (sign | (Float.floatToRawIntBits(Float.intBitsToFloat(u) + Float.intBitsToFloat(magic)) - magic));
        }
        int odd = (u >>> 13) & 1;
        u += 0xc8000fff + odd; // rebias exponent and add the rounding bias
        return (short) (sign | (u >>> 13));
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x40);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }
}
