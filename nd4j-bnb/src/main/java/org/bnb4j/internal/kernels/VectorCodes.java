package org.bnb4j.internal.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Internal: the vectorised pieces of the search shared by {@link VectorQuantKernels} and the
 * vectorised optimizer steps. Uses the incubating Vector API: load this class only after
 * {@link KernelProvider} found the module (it never does otherwise).
 *
 * <p>Everything here computes exactly what the scalar reference computes, element by element:
 * the same float operations in the same order (separate multiply and add, no FMA; IEEE sqrt and
 * divide), {@link CodeSearch#nearest} through {@link SearchTable}. The table lookups are plain
 * scalar array loads between two vector passes rather than vector gathers, which only some CPUs
 * (x86 with AVX2, ARM with SVE) execute as one instruction: on NEON (Apple silicon, Graviton 2)
 * a Vector API gather falls back to a slow emulation, a scalar load does not.
 *
 * <p>Arrays passed here are work buffers padded to a whole number of vectors ({@link #padded})
 * plus {@link #SLACK}: the vector passes run over the padding (zeros) and callers copy out only
 * the real elements.
 */
public final class VectorCodes {
    private VectorCodes() {}

    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Float lanes per vector. */
    public static final int L = F.length();
    /** Byte vectors used to store L codes: at least 64 bits, so a store may write past L bytes. */
    static final VectorSpecies<Byte> B = L >= 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** Extra room at the end of every work buffer (byte stores of narrow vectors write 8 bytes). */
    public static final int SLACK = 64;

    private static final FloatVector ZERO = FloatVector.zero(F);

    /**
     * Whether this JVM's preferred vectors suit the kernels: the same float and int lane count, 4, 8
     * or 16 lanes (128-bit NEON/SSE, 256-bit AVX2/SVE, 512-bit AVX-512/SVE).
     */
    static boolean usable() {
        return I.length() == L && (L == 4 || L == 8 || L == 16);
    }

    /** n rounded up to whole vectors. */
    public static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    /**
     * max |x[i]| over [off, off + padded(len)) as {@link CodeSearch#absmax}: NaN ignored, +-Inf
     * propagates (the padding must be zeros, or at least not larger).
     */
    public static float absmax(float[] x, int off, int len) {
        FloatVector m = ZERO;
        for (int i = off, end = off + padded(len); i < end; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, i).abs();
            m = m.blend(a, a.compare(VectorOperators.GT, m));
        }
        return reduceMax(m);
    }

    /**
     * The largest lane (all lanes are >= +0, none NaN): as the scalar loop, +0 when all are 0. With no NaN
     * and no -0 among the lanes, the reduction's Math.max rule gives exactly that; it compiles to a few
     * shuffles and max instructions, where lane(i) in a loop was a call per lane on JDK 17 (4% of the
     * vectorized Adam8bit step's samples on an AVX2 core).
     */
    public static float reduceMax(FloatVector m) {
        return m.reduceLanes(VectorOperators.MAX);
    }

    /**
     * y = {@link CodeSearch#normalize}(x, absmax) for the vectors covering [off, off + len), and the
     * search table bucket of each y into {@code keys}.
     */
    public static void normalizeAndKey(float[] x, int off, int len, float absmax, float[] y, int[] keys) {
        int end = off + padded(len);
        float inv = absmax == 0.0f ? 0.0f : 1.0f / absmax;     // an all-zero block scales by 0
        // (The loops are written out: a helper taking vectors may be compiled on its own, and vectors
        // passed to a call that is not inlined are boxed, which is very slow.)
        if (Float.isInfinite(inv)) {                           // denormal absmax: divide
            FloatVector a = FloatVector.broadcast(F, absmax);
            for (int i = off; i < end; i += L) {
                FloatVector yv = FloatVector.fromArray(F, x, i).div(a);
                yv.intoArray(y, i);
                IntVector b = yv.reinterpretAsInts();
                b.lanewise(VectorOperators.LSHR, 17).and(0x4000).or(b.lanewise(VectorOperators.LSHR, 16).and(0x3fff)).intoArray(keys, i);
            }
        } else {
            FloatVector m = FloatVector.broadcast(F, inv);
            for (int i = off; i < end; i += L) {
                FloatVector yv = FloatVector.fromArray(F, x, i).mul(m);
                yv.intoArray(y, i);
                IntVector b = yv.reinterpretAsInts();
                b.lanewise(VectorOperators.LSHR, 17).and(0x4000).or(b.lanewise(VectorOperators.LSHR, 16).and(0x3fff)).intoArray(keys, i);
            }
        }
    }

    /** keys[i] = table[keys[i]] over [off, off + padded(len)): the scalar lookup between the vector passes. */
    public static void lookup(int[] table, int[] keys, int off, int len) {
        for (int i = off, end = off + padded(len); i < end; i++) keys[i] = table[keys[i]];
    }

    /**
     * As {@link #lookup}, taking the entries of the elements i with (topPhase + i - off) &amp; 3 == 3
     * (the bytes at word position 3 of a packed state) from {@code top}. off must be a multiple of 4
     * from the start of the state's bytes counted in topPhase.
     */
    public static void lookup(int[] table, int[] top, int topPhase, int[] keys, int off, int len) {
        int[] t0 = topPhase == 3 ? top : table, t1 = topPhase == 2 ? top : table, t2 = topPhase == 1 ? top : table,
                t3 = topPhase == 0 ? top : table;
        for (int i = off, end = off + padded(len); i < end; i += 4) {   // padded(len) is a multiple of 4
            keys[i] = t0[keys[i]];
            keys[i + 1] = t1[keys[i + 1]];
            keys[i + 2] = t2[keys[i + 2]];
            keys[i + 3] = t3[keys[i + 3]];
        }
    }

    /**
     * Quantization codes of y over [off, off + padded(len)) into out (same offsets), given the
     * looked-up entries of {@link SearchTable#packed()}: {@link CodeSearch#nearest}(values, y[i]).
     */
    public static void codes(float[] values, float[] y, int[] entries, int off, int len, byte[] out) {
        for (int i = off, end = off + padded(len); i < end; i += L) {
            // low >= t ? c1 : c0; the bits above the low byte are dropped by the byte conversion
            FloatVector yv = FloatVector.fromArray(F, y, i);
            IntVector b = yv.reinterpretAsInts();
            IntVector e = IntVector.fromArray(I, entries, i);
            IntVector low = b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31)).and(0xffff);
            IntVector c = e.blend(e.lanewise(VectorOperators.LSHR, 8), low.compare(VectorOperators.GE, e.lanewise(VectorOperators.LSHR, 16)));
            VectorMask<Float> inside = yv.abs().compare(VectorOperators.LT, 2.0f);
            if (!inside.allTrue()) c = outside(c, inside, values, -1, false, -1, null, y, i, off);
            ((ByteVector) c.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, i);
        }
    }

    /**
     * Optimizer state bytes (the rules of the optimizers' StateCodec.encode) over [off, off +
     * padded(len)), given the looked-up entries of {@link SearchTable#stateTable}(signFix, top) (top
     * for the elements with (topPhase + i - off) &amp; 3 == 3 when topPhase &gt;= 0, see
     * {@link #lookup(int[], int[], int, int[], int, int)}): the table gives the final byte. Lanes
     * outside the tables (NaN) take the reference search and the rules on s itself.
     * {@code signSplit} is {@link SearchTable#signSplit()}.
     */
    public static void stateCodes(float[] values, int signSplit, float[] s, float[] y, int[] entries, int off, int len,
                                  boolean signFix, int topPhase, byte[] out) {
        for (int i = off, end = off + padded(len); i < end; i += L) {
            FloatVector yv = FloatVector.fromArray(F, y, i);
            IntVector b = yv.reinterpretAsInts();
            IntVector e = IntVector.fromArray(I, entries, i);
            IntVector low = b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31)).and(0xffff);
            IntVector c = e.blend(e.lanewise(VectorOperators.LSHR, 8), low.compare(VectorOperators.GE, e.lanewise(VectorOperators.LSHR, 16)));
            VectorMask<Float> inside = yv.abs().compare(VectorOperators.LT, 2.0f);
            if (!inside.allTrue()) c = outside(c, inside, values, signSplit, signFix, topPhase, s, y, i, off);
            ((ByteVector) c.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, i);
        }
    }

    /**
     * The lanes of c the tables do not cover (NaN, |y| >= 2), by the reference search and, for
     * optimizer states (s != null), StateCodec.encode's rules: the sign fix from s, the top-byte
     * neighbour rule and sigma. Rare.
     */
    private static IntVector outside(IntVector c, VectorMask<Float> inside, float[] values, int signSplit, boolean signFix,
                                     int topPhase, float[] s, float[] y, int i, int off) {
        int[] fix = c.toArray();
        for (int l = 0; l < L; l++) {
            if (inside.laneIsSet(l)) continue;
            float yl = y[i + l];
            int code = CodeSearch.nearest(values, yl);
            if (s != null) {
                float sv = s[i + l];
                if (signFix && !Float.isNaN(sv) && (code < signSplit) != (Float.floatToRawIntBits(sv) < 0)) code += sv > 0.0f ? 1 : -1;
                if (topPhase >= 0 && ((topPhase + i - off + l) & 3) == 3) {
                    if (code == 1 || code == 254) {
                        float dl = Math.abs(yl - values[code - 1]), dh = Math.abs(yl - values[code + 1]);
                        code = dh < dl ? code + 1 : code - 1;
                    }
                    code = code == 0x7f ? 1 : code == 1 ? 0x7f : code == 0xff ? 254 : code == 254 ? 0xff : code;
                }
            }
            fix[l] = code;
        }
        return IntVector.fromArray(I, fix, 0);
    }
}
