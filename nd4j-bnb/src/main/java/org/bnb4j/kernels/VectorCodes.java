package org.bnb4j.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Internal: the vectorised pieces of the search shared by {@link VectorQuantKernels} and the
 * vectorised optimizer steps. Uses the incubating Vector API: load this class only after
 * {@link JavaKernelsProvider} found the module (it never does otherwise).
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
    private static final VectorMask<Integer>[] TOP = topMasks();

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

    @SuppressWarnings("unchecked")
    private static VectorMask<Integer>[] topMasks() {
        VectorMask<Integer>[] m = new VectorMask[4];
        for (int r = 0; r < 4; r++) {
            boolean[] b = new boolean[I.length()];
            for (int l = 0; l < b.length; l++) b[l] = ((r + l) & 3) == 3;
            m[r] = VectorMask.fromArray(I, b, 0);
        }
        return m;
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

    /** The largest lane (all lanes are >= +0, none NaN): as the scalar loop, +0 when all are 0. */
    public static float reduceMax(FloatVector m) {
        float r = 0f;
        for (int l = 0; l < L; l++) {
            float v = m.lane(l);
            if (v > r) r = v;
        }
        return r;
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

    /** keys[i] = packed[keys[i]] over [off, off + padded(len)): the scalar lookup between the vector passes. */
    public static void lookup(int[] packed, int[] keys, int off, int len) {
        for (int i = off, end = off + padded(len); i < end; i++) keys[i] = packed[keys[i]];
    }

    /** The reference search for the lanes of c the table does not cover (NaN, |y| >= 2): rare. */
    private static IntVector outside(IntVector c, VectorMask<Float> inside, float[] values, float[] y, int i) {
        int[] fix = c.toArray();
        for (int l = 0; l < L; l++) if (!inside.laneIsSet(l)) fix[l] = CodeSearch.nearest(values, y[i + l]);
        return IntVector.fromArray(I, fix, 0);
    }

    /** As {@link #outside}, with the sign fix computed from s (StateCodec.encode's rule). */
    private static IntVector outsideState(IntVector c, VectorMask<Float> inside, float[] values, int signSplit, boolean signFix,
                                          float[] s, float[] y, int i) {
        int[] fix = c.toArray();
        for (int l = 0; l < L; l++) {
            if (inside.laneIsSet(l)) continue;
            int code = CodeSearch.nearest(values, y[i + l]);
            float sv = s[i + l];
            if (signFix && (code < signSplit) != (Float.floatToRawIntBits(sv) < 0)) code += sv > 0.0f ? 1 : -1;
            fix[l] = code;
        }
        return IntVector.fromArray(I, fix, 0);
    }

    /**
     * Quantization codes of y over [off, off + padded(len)) into out (same offsets), given the
     * looked-up entries: {@link CodeSearch#nearest}(values, y[i]).
     */
    public static void codes(float[] values, float[] y, int[] entries, int off, int len, byte[] out) {
        for (int i = off, end = off + padded(len); i < end; i += L) {
            // code = c0 + 1 where low >= t: (t - 1 - low) is negative exactly then (t <= 0x10000, low <= 0xffff)
            FloatVector yv = FloatVector.fromArray(F, y, i);
            IntVector b = yv.reinterpretAsInts();
            IntVector e = IntVector.fromArray(I, entries, i);
            IntVector low = b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31)).and(0xffff);
            IntVector c = e.and(0xff).sub(e.lanewise(VectorOperators.LSHR, 8).sub(1).sub(low).lanewise(VectorOperators.ASHR, 31));
            VectorMask<Float> inside = yv.abs().compare(VectorOperators.LT, 2.0f);
            if (!inside.allTrue()) c = outside(c, inside, values, y, i);
            ((ByteVector) c.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, i);
        }
    }

    /**
     * Optimizer state codes (the rules of the optimizers' StateCodec.encode): the code of y, with
     * {@code signFix} bitsandbytes' sign fix (a code whose value's sign bit differs from s's moves
     * one step towards s), then, with {@code topPhase} >= 0, the NaN-safe byte form at the lanes i
     * with (topPhase + i - off) &amp; 3 == 3: codes 1 and 254 replaced by the nearer neighbour, and
     * sigma (0x7f &lt;-&gt; 1, 0xff &lt;-&gt; 254). The entries are looked up in
     * {@link SearchTable#signFixed()} when {@code signFix} (the fix is folded into that table), else
     * in {@link SearchTable#packed()}; lanes outside the tables take the reference search and the fix
     * on s itself. {@code signSplit} is {@link SearchTable#signSplit()}.
     */
    public static void stateCodes(float[] values, int signSplit, float[] s, float[] y, int[] entries, int off, int len,
                                  boolean signFix, int topPhase, byte[] out) {
        VectorMask<Integer> top = topPhase < 0 ? null : TOP[topPhase & 3];
        IntVector plus = IntVector.broadcast(I, 1), minus = IntVector.broadcast(I, -1);
        FloatVector v0 = FloatVector.broadcast(F, values[0]), v2 = FloatVector.broadcast(F, values[2]);
        FloatVector v253 = FloatVector.broadcast(F, values[253]), v255 = FloatVector.broadcast(F, values[255]);
        for (int i = off, end = off + padded(len); i < end; i += L) {
            FloatVector yv = FloatVector.fromArray(F, y, i);
            IntVector b = yv.reinterpretAsInts();
            IntVector e = IntVector.fromArray(I, entries, i);
            IntVector low = b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31)).and(0xffff);
            IntVector c = e.and(0xff).sub(e.lanewise(VectorOperators.LSHR, 8).sub(1).sub(low).lanewise(VectorOperators.ASHR, 31));
            VectorMask<Float> inside = yv.abs().compare(VectorOperators.LT, 2.0f);
            if (!inside.allTrue()) c = outsideState(c, inside, values, signSplit, signFix, s, y, i);
            if (top != null) {
                VectorMask<Integer> fix = c.compare(VectorOperators.EQ, 1).or(c.compare(VectorOperators.EQ, 254)).and(top);
                if (fix.anyTrue()) {
                    // the nearer of the two neighbours: dh < dl ? c + 1 : c - 1 (values 0/2 for code 1, 253/255 for 254)
                    VectorMask<Float> hi = c.compare(VectorOperators.EQ, 254).cast(F);
                    FloatVector dl = yv.sub(v0.blend(v253, hi)).abs(), dh = yv.sub(v2.blend(v255, hi)).abs();
                    IntVector step = minus.blend(plus, dh.compare(VectorOperators.LT, dl).cast(I));
                    c = c.add(step, fix);
                }
                // after that no top lane holds 1 or 254: sigma only maps 0x7f -> 1 and 0xff -> 254
                c = c.blend(1, c.compare(VectorOperators.EQ, 0x7f).and(top)).blend(254, c.compare(VectorOperators.EQ, 0xff).and(top));
            }
            ((ByteVector) c.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, i);
        }
    }
}
