package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.OptimMath;
import org.bnb4j.optim.StateSpec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.internal.kernels.RunScheduler;
import org.bnb4j.internal.kernels.SearchTable;
import org.bnb4j.internal.kernels.VectorCodes;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The optimizer steps on the JDK Vector API: bit for bit {@link JavaOptimizerKernels} (the same
 * float operations as the optimizer's rule, {@link OptimKind#update}, in the same order, separate
 * multiply and add, IEEE sqrt and divide; the codes of {@link StateCodec}). Per run of whole blocks:
 * the gradient and the codes are bulk-copied into work arrays, decoded by scalar table loads,
 * updated (with each block's new absmax), and encoded by {@link VectorCodes}. The update runs the
 * optimizer's {@link VectorRule} where one is registered ({@link #VECTOR_RULES}), else its scalar
 * rule element by element on the work arrays (bit for bit by construction, only slower): a new
 * optimizer runs here without a vector rule. Loaded only when the jdk.incubator.vector module is
 * present (see {@link org.bnb4j.internal.kernels.KernelProvider#vectorized()}).
 */
final class VectorOptimizerKernels implements OptimizerKernels {
    private static final VectorSpecies<Float> F = VectorCodes.F;
    private static final int L = VectorCodes.L;
    /** Elements per work run (whole blocks; one block when the blocksize is larger). */
    private static final int RUN = 4096;
    /** States the work arrays hold: the most any optimizer's descriptor names. */
    private static final int MAX_STATES = OptimKind.maxStates();
    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    /** The codec of each (map, sign rule) pair a state descriptor can name, built when first needed. */
    private static final Codec[] CODECS = new Codec[4];

    /**
     * An optimizer's update rule on vectors: over [off, off + len) (len a multiple of L, the tail
     * padded with zero gradients and zero states) g becomes the update and s[0..numStates) the new
     * states, exactly as {@link OptimMath#step} element by element; mx[j] gets the largest |new state
     * j| (NaN ignored). Zero gradients on zero states must leave the states zero (the padding lanes
     * count in mx). The self-check compares each registered rule with the scalar one at start-up.
     */
    @FunctionalInterface
    interface VectorRule {
        void update(OptimHyper h, float[] g, float[][] s, int off, int len, float[] mx);
    }

    /** The optimizers with a vector rule; any other runs its scalar rule (see the class comment). */
    static final Map<OptimKind, VectorRule> VECTOR_RULES = vectorRules();

    private static Map<OptimKind, VectorRule> vectorRules() {
        EnumMap<OptimKind, VectorRule> r = new EnumMap<>(OptimKind.class);
        r.put(OptimKind.ADAM, (h, g, s, off, len, mx) -> adam(h, g, s[0], s[1], off, len, mx));
        r.put(OptimKind.ADEMAMIX, (h, g, s, off, len, mx) -> ademamix(h, g, s[0], s[1], s[2], off, len, mx));
        r.put(OptimKind.MOMENTUM, (h, g, s, off, len, mx) -> momentum(h, g, s[0], off, len, mx));
        r.put(OptimKind.RMSPROP, (h, g, s, off, len, mx) -> rmsprop(h, g, s[0], off, len, mx));
        r.put(OptimKind.ADAGRAD, (h, g, s, off, len, mx) -> adagrad(h, g, s[0], off, len, mx));
        r.put(OptimKind.LION, (h, g, s, off, len, mx) -> lion(h, g, s[0], off, len, mx));
        return Collections.unmodifiableMap(r);
    }

    /** The vector rules this instance runs (a kind missing here runs its scalar rule). */
    private final Map<OptimKind, VectorRule> rules;

    VectorOptimizerKernels() {
        this(VECTOR_RULES);
    }

    /** With the given vector rules only (tests: an empty map runs every optimizer's scalar rule). */
    VectorOptimizerKernels(Map<OptimKind, VectorRule> rules) {
        this.rules = rules.isEmpty() ? new EnumMap<>(OptimKind.class) : new EnumMap<>(rules);
        for (OptimKind kind : OptimKind.values()) {
            for (StateSpec spec : kind.states()) {
                Codec c = Codec.of(spec);
                if (c.search == null || c.searchTop == null) throw new IllegalStateException("dynamic maps without state tables");
            }
        }
        selfCheck();
    }

    /**
     * Every optimizer's update (its vector rule, or the scalar fallback) against its scalar rule on a
     * few vectors of values and a padded tail (NaN/Inf gradients, zeros, NaN states, the moment bound
     * acting; updates, states and the largest |state|), with its {@link OptimKind#example} step, and
     * the state encoder against StateCodec, once at start-up: a JDK whose incubating Vector API
     * changed or behaves differently is caught here, and the scalar kernels are used instead.
     */
    void selfCheck() {
        int n = 4 * L, cap = n + VectorCodes.SLACK;
        for (OptimKind kind : OptimKind.values()) {
            int k = kind.numStates(), len = n - 3;
            OptimHyper h = kind.example(3);
            float[] g = new float[cap];
            float[][] s = new float[k][cap];
            for (int i = 0; i < len; i++) {
                g[i] = i == 1 ? Float.NaN : i == 2 ? Float.NEGATIVE_INFINITY : i == 3 ? 0f : (float) Math.sin(i * 0.7) * (i % 7 == 0 ? 1e3f : 1e-2f);
                for (int j = 0; j < k; j++) {
                    // first state: signed, one NaN; unsigned-map states: >= 0 with zeros; others: signed
                    s[j][i] = j == 0 ? (i == 5 ? Float.NaN : (float) Math.cos(i * 1.3) * 1e-2f)
                            : !kind.state(j).signedMap() ? (i % 6 == 0 ? 0f : (float) (1e-4 * (1 + Math.sin(i))))
                            : (float) Math.sin(i * (0.7 * j + 0.7)) * 1e-2f;
                }
            }
            float[] ge = g.clone();
            float[][] se = new float[k][];
            for (int j = 0; j < k; j++) se[j] = s[j].clone();
            float[] mx = new float[k], mxe = new float[k];
            update(h, g, s, 0, len, mx);
            float[] cur = new float[k];
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < k; j++) cur[j] = se[j][i];
                float u = OptimMath.step(h, ge[i], cur);
                boolean same = Float.floatToRawIntBits(u) == Float.floatToRawIntBits(g[i]);
                for (int j = 0; j < k; j++) {
                    same &= Float.floatToRawIntBits(cur[j]) == Float.floatToRawIntBits(s[j][i]);
                    if (Math.abs(cur[j]) > mxe[j]) mxe[j] = Math.abs(cur[j]);
                }
                if (!same) throw new IllegalStateException("self-check failed: " + kind + " update of element " + i);
            }
            for (int j = 0; j < k; j++) {
                if (Float.floatToRawIntBits(mx[j]) != Float.floatToRawIntBits(mxe[j])) {
                    throw new IllegalStateException("self-check failed: " + kind + " largest |state " + j + "|: " + mx[j] + ", expected " + mxe[j]);
                }
            }
        }
        Codec c = Codec.of(StateSpec.signed("selfcheck"));
        float[] x = new float[cap], y = new float[cap];
        for (int i = 0; i < n; i++) x[i] = i == 3 ? Float.NaN : i % 5 == 0 ? -0f : (float) Math.sin(i * 0.9) * (i % 3 == 0 ? 1e-6f : 1f);
        x[7] = 1f;
        x[11] = c.values[1];
        x[15] = c.values[254];
        int[] keys = new int[cap];
        byte[] out = new byte[cap];
        for (int phase = -1; phase < 4; phase++) {
            VectorCodes.normalizeAndKey(x, 0, n, 1f, y, keys);
            c.lookup(keys, n, phase);
            VectorCodes.stateCodes(c.values, c.signSplit, x, y, keys, 0, n, true, phase, out);
            for (int i = 0; i < n; i++) {
                if ((out[i] & 0xff) != (StateCodec.encode(c.values, x[i], 1f, true, StateCodec.isTop(phase, i)) & 0xff)) {
                    throw new IllegalStateException("self-check failed: state code of " + x[i] + " at phase " + phase);
                }
            }
        }
    }

    /**
     * Decode tables (plain and for NaN-safe top bytes) and the state tables of one (map, sign rule)
     * pair of a state descriptor (see SearchTable.stateTable).
     */
    private static final class Codec {
        final float[] values, topValues;
        final int[] search, searchTop;
        final int signSplit;
        final boolean signFix;

        static Codec of(StateSpec spec) {
            int i = (spec.signedMap() ? 2 : 0) + (spec.signFix() ? 1 : 0);
            synchronized (CODECS) {
                if (CODECS[i] == null) CODECS[i] = new Codec(spec.map(), spec.signFix());
                return CODECS[i];
            }
        }

        Codec(QuantMap map, boolean signFix) {
            SearchTable t = SearchTable.of(map);
            values = t.values();
            search = t.stateTable(signFix, false);
            searchTop = t.stateTable(signFix, true);
            signSplit = t.signSplit();
            this.signFix = signFix;
            topValues = new float[256];
            for (int c = 0; c < 256; c++) topValues[c] = values[StateCodec.sigma(c)];
        }

        /** Looks up the entries of [0, len) of a run whose first element has the given top phase (-1: plain bytes). */
        void lookup(int[] keys, int len, int topPhase) {
            if (topPhase < 0) VectorCodes.lookup(search, keys, 0, len);
            else VectorCodes.lookup(search, searchTop, topPhase, keys, 0, len);
        }
    }

    private static final class Work {
        final int cap = RUN + VectorCodes.SLACK;
        final float[] g = new float[cap], y = new float[cap];
        final float[][] s = new float[MAX_STATES][cap];
        final int[] keys = new int[cap];
        final byte[] codes = new byte[cap];
        final float[][] amax = new float[MAX_STATES][cap];
        final float[] mx = new float[MAX_STATES];
    }

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        OptimChecks.step8(h, gradient, st);
        // codes in 16-bit words (a HALF network's updater view) take the scalar path, as in native code
        if (StateCodec.isHalfWords(st.bytePhase)) {
            JavaOptimizerKernels.INSTANCE.step8bit(h, gradient, st);
            return;
        }
        try {
            step8bitBody(h, gradient, st);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    /** Ranges (paged state, which needs the native library and so its kernels) take the scalar path. */
    @Override
    public void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        JavaOptimizerKernels.INSTANCE.step8bitBlocks(h, gradient, st, blockBegin, blockEnd);
    }

    @Override
    public int absmaxChecksum(OptimState8bit st) {
        return JavaOptimizerKernels.INSTANCE.absmaxChecksum(st);
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
        try {
            step32Body(h, gradient, states);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(states);
        }
    }

    /** The work of runs [firstBlock, endBlock) of whole blocks, with the running thread's work arrays. */
    private interface RunBody {
        void run(long firstBlock, long endBlock, Work w);
    }

    private static void forRuns(long n, int blocksize, RunBody body) {
        RunScheduler.forRuns(Blockwise.numBlocks(n, blocksize), Math.max(1, RUN / blocksize), (b0, b1) -> body.run(b0, b1, WORK.get()));
    }

    private void step8bitBody(OptimHyper h, INDArray gradient, OptimState8bit st) {
        long n = st.n; // arguments checked by step8bit (OptimChecks.step8)
        if (n == 0) return;
        int bs = st.blocksize;
        FloatBuffer g = HostBuffers.of(gradient).asFloatBuffer();
        long nb = Blockwise.numBlocks(n, bs);
        int k = h.kind.numStates();
        ByteBuffer[] codes = new ByteBuffer[k];
        FloatBuffer[] amax = new FloatBuffer[k];
        Codec[] codecs = new Codec[k];
        int[] phases = new int[k];
        for (int s = 0; s < k; s++) {
            codes[s] = HostBuffers.wrap(st.codes[s], n);
            amax[s] = HostBuffers.wrap(st.absmax[s], 4 * nb).asFloatBuffer();
            codecs[s] = Codec.of(h.kind.state(s));
            phases[s] = StateCodec.at(st.bytePhase, s * n);   // FLOAT words or plain bytes (HALF words went to the scalar path)
        }
        forRuns(n, bs, (b0, b1, w) -> {
            int start = (int) (b0 * bs), len = (int) Math.min((b1 - b0) * bs, n - start), blocks = (int) (b1 - b0);
            int padEnd = VectorCodes.padded(len);
            g.get(start, w.g, 0, len);
            for (int i = len; i < padEnd; i++) w.g[i] = 0f;
            for (int s = 0; s < k; s++) {
                float[] cur = w.s[s];
                codes[s].get(start, w.codes, 0, len);
                amax[s].get((int) b0, w.amax[s], 0, blocks);
                decode(codecs[s], w.codes, w.amax[s], bs, len, StateCodec.at(phases[s], start), cur);
                for (int i = len; i < padEnd; i++) cur[i] = 0f;
            }
            for (int b = 0; b < blocks; b++) {
                int off = b * bs, blen = Math.min(bs, len - off);
                update(h, w.g, w.s, off, blen, w.mx);
                for (int s = 0; s < k; s++) w.amax[s][b] = w.mx[s];
            }
            g.put(start, w.g, 0, len);
            for (int s = 0; s < k; s++) {
                amax[s].put((int) b0, w.amax[s], 0, blocks);
                Codec c = codecs[s];
                float[] cur = w.s[s];
                for (int b = 0; b < blocks; b++) {
                    int off = b * bs;
                    VectorCodes.normalizeAndKey(cur, off, Math.min(bs, len - off), w.amax[s][b], w.y, w.keys);
                }
                int topPhase = StateCodec.at(phases[s], start);
                c.lookup(w.keys, len, topPhase);
                VectorCodes.stateCodes(c.values, c.signSplit, cur, w.y, w.keys, 0, len, c.signFix, topPhase, w.codes);
                codes[s].put(start, w.codes, 0, len);
            }
        });
    }

    /**
     * cur[i] = StateCodec.decode of the stored byte: values[c] * absmax of its block, or
     * values[sigma(c)] at top bytes (element i with (topPhase + i) &amp; 3 == 3).
     */
    private static void decode(Codec c, byte[] codes, float[] amax, int bs, int len, int topPhase, float[] cur) {
        float[] v = c.values;
        // packed: element i decodes through topValues when (topPhase + i) & 3 == 3. Blocks start at
        // multiples of 4, so in each group of four the same position is the top byte.
        float[] t = c.topValues;
        float[] m0 = StateCodec.isTop(topPhase, 0) ? t : v, m1 = StateCodec.isTop(topPhase, 1) ? t : v,
                m2 = StateCodec.isTop(topPhase, 2) ? t : v, m3 = StateCodec.isTop(topPhase, 3) ? t : v;
        for (int off = 0, b = 0; off < len; off += bs, b++) {
            float am = amax[b];
            int end = Math.min(off + bs, len), quads = off + ((end - off) & ~3);
            decodeQuads(m0, m1, m2, m3, codes, am, off, quads, cur);
            for (int i = quads; i < end; i++) cur[i] = (StateCodec.isTop(topPhase, i) ? t : v)[codes[i] & 0xff] * am;
        }
    }

    /**
     * cur[i + j] = mj[codes[i + j] &amp; 0xff] * am for the groups of four in [from, to) (to - from a multiple
     * of 4). A method of its own with plain bounds: written inside decode's block loop as an
     * {@code i + 3 < end} loop, C2 kept the range checks of codes and cur in the loop body, and this form
     * decodes 25-30% faster (a Zen 3 core, JDK 17 and 25; docs/PORTABLE.md).
     */
    private static void decodeQuads(float[] m0, float[] m1, float[] m2, float[] m3, byte[] codes, float am, int from, int to,
                                    float[] cur) {
        for (int i = from; i < to; i += 4) {
            cur[i] = m0[codes[i] & 0xff] * am;
            cur[i + 1] = m1[codes[i + 1] & 0xff] * am;
            cur[i + 2] = m2[codes[i + 2] & 0xff] * am;
            cur[i + 3] = m3[codes[i + 3] & 0xff] * am;
        }
    }

    private void step32Body(OptimHyper h, INDArray gradient, INDArray[] states) {
        long n = gradient == null ? 0 : gradient.length();
        OptimChecks.step32(h, gradient, states);
        if (n == 0) return;
        FloatBuffer g = HostBuffers.of(gradient).asFloatBuffer();
        int k = h.kind.numStates();
        FloatBuffer[] sb = new FloatBuffer[k];
        for (int s = 0; s < k; s++) sb[s] = HostBuffers.of(states[s]).asFloatBuffer();
        forRuns(n, RUN, (b0, b1, w) -> {
            int start = (int) (b0 * RUN), len = (int) Math.min((b1 - b0) * RUN, n - start);
            int padEnd = VectorCodes.padded(len);
            g.get(start, w.g, 0, len);
            for (int i = len; i < padEnd; i++) w.g[i] = 0f;
            for (int s = 0; s < k; s++) {
                sb[s].get(start, w.s[s], 0, len);
                for (int i = len; i < padEnd; i++) w.s[s][i] = 0f;
            }
            update(h, w.g, w.s, 0, len, w.mx);
            g.put(start, w.g, 0, len);
            for (int s = 0; s < k; s++) sb[s].put(start, w.s[s], 0, len);
        });
    }

    /**
     * The update of [off, off + len) of the work arrays (len: the real elements; [off + len, padded)
     * holds zero gradients and states): g becomes the update, s[] the new states, mx[] the largest
     * |new state| per state. The optimizer's vector rule where registered, else its scalar rule.
     */
    void update(OptimHyper h, float[] g, float[][] s, int off, int len, float[] mx) {
        VectorRule rule = rules.get(h.kind);
        if (rule != null) rule.update(h, g, s, off, VectorCodes.padded(len), mx);
        else scalarRule(h, g, s, off, len, mx);
    }

    /** A kind without a vector rule: {@link OptimMath#step} element by element, as the scalar kernels run it. */
    private static void scalarRule(OptimHyper h, float[] g, float[][] s, int off, int len, float[] mx) {
        int k = h.kind.numStates();
        float[] cur = new float[k];
        for (int j = 0; j < k; j++) mx[j] = 0f;
        for (int i = off, end = off + len; i < end; i++) {
            for (int j = 0; j < k; j++) cur[j] = s[j][i];
            g[i] = OptimMath.step(h, g[i], cur);
            for (int j = 0; j < k; j++) {
                s[j][i] = cur[j];
                float x = Math.abs(cur[j]);
                if (x > mx[j]) mx[j] = x;   // the scalar step's comparison: NaN does not count
            }
        }
    }

    // ---- the registered vector rules (VectorRule's contract). The loops are written out without
    // helper methods taking vectors: such a helper may be compiled on its own, and vectors passed to
    // a call that is not inlined are boxed (very slow). The moment bound is OptimMath.clamp:
    // m = lim < m ? lim : m; m = -lim > m ? -lim : m (NaN passes unchanged); a non-finite g (|g| < inf
    // false) resets the states and gives a zero update; the largest |state| ignores NaN.

    /** |x| < inf: false for NaN and +-Inf (a lane whose gradient or new state is not finite is reset, as OptimMath.step). */
    private static VectorMask<Float> finite(FloatVector x) {
        return x.abs().compare(VectorOperators.LT, Float.POSITIVE_INFINITY);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(F, v);
    }

    private static void adam(OptimHyper h, float[] g, float[] s0, float[] s1, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), b1 = bc(h.beta1), b2 = bc(h.beta2), omb1 = bc(h.oneMinusBeta1),
                omb2 = bc(h.oneMinusBeta2), r1 = bc(h.ratio1), step = bc(h.stepSize), epsHat = bc(h.epsHat);
        FloatVector mx0 = zero, mx1 = zero;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector v = b2.mul(FloatVector.fromArray(F, s1, i)).add(omb2.mul(gv.mul(gv)));
            FloatVector sv = v.sqrt();
            FloatVector m = b1.mul(FloatVector.fromArray(F, s0, i)).add(omb1.mul(gv));
            FloatVector lim = r1.mul(sv), nl = lim.neg();
            m = m.blend(lim, lim.compare(VectorOperators.LT, m));
            m = m.blend(nl, nl.compare(VectorOperators.GT, m));
            FloatVector u = step.mul(m.div(sv.add(epsHat)));
            fin = fin.and(finite(m)).and(finite(v));
            m = zero.blend(m, fin);
            v = zero.blend(v, fin);
            zero.blend(u, fin).intoArray(g, i);
            m.intoArray(s0, i);
            v.intoArray(s1, i);
            FloatVector a0 = m.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
            FloatVector a1 = v.abs();
            mx1 = mx1.blend(a1, a1.compare(VectorOperators.GT, mx1));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
        mx[1] = VectorCodes.reduceMax(mx1);
    }

    private static void ademamix(OptimHyper h, float[] g, float[] s0, float[] s1, float[] s2, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), b1 = bc(h.beta1), b2 = bc(h.beta2), b3 = bc(h.beta3),
                omb1 = bc(h.oneMinusBeta1), omb2 = bc(h.oneMinusBeta2), omb3 = bc(h.oneMinusBeta3),
                r1 = bc(h.ratio1), r3 = bc(h.ratio3), lr = bc(h.lr), alpha = bc(h.alpha), c1 = bc(h.biasCorrection1),
                sc2 = bc(h.sqrtBiasCorrection2), eps = bc(h.eps);
        FloatVector mx0 = zero, mx1 = zero, mx2 = zero;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector v = b2.mul(FloatVector.fromArray(F, s1, i)).add(omb2.mul(gv.mul(gv)));
            FloatVector sv = v.sqrt();
            FloatVector m1 = b1.mul(FloatVector.fromArray(F, s0, i)).add(omb1.mul(gv));
            FloatVector lim1 = r1.mul(sv), nl1 = lim1.neg();
            m1 = m1.blend(lim1, lim1.compare(VectorOperators.LT, m1));
            m1 = m1.blend(nl1, nl1.compare(VectorOperators.GT, m1));
            FloatVector m2 = b3.mul(FloatVector.fromArray(F, s2, i)).add(omb3.mul(gv));
            FloatVector lim3 = r3.mul(sv), nl3 = lim3.neg();
            m2 = m2.blend(lim3, lim3.compare(VectorOperators.LT, m2));
            m2 = m2.blend(nl3, nl3.compare(VectorOperators.GT, m2));
            FloatVector u = lr.mul(m1.div(c1).add(alpha.mul(m2)).div(sv.div(sc2).add(eps)));
            fin = fin.and(finite(m1)).and(finite(v)).and(finite(m2));
            m1 = zero.blend(m1, fin);
            v = zero.blend(v, fin);
            m2 = zero.blend(m2, fin);
            zero.blend(u, fin).intoArray(g, i);
            m1.intoArray(s0, i);
            v.intoArray(s1, i);
            m2.intoArray(s2, i);
            FloatVector a0 = m1.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
            FloatVector a1 = v.abs();
            mx1 = mx1.blend(a1, a1.compare(VectorOperators.GT, mx1));
            FloatVector a2 = m2.abs();
            mx2 = mx2.blend(a2, a2.compare(VectorOperators.GT, mx2));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
        mx[1] = VectorCodes.reduceMax(mx1);
        mx[2] = VectorCodes.reduceMax(mx2);
    }

    private static void momentum(OptimHyper h, float[] g, float[] s0, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), b1 = bc(h.beta1), lr = bc(h.lr);
        FloatVector mx0 = zero;
        boolean first = h.firstStep;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector st = first ? gv : b1.mul(FloatVector.fromArray(F, s0, i)).add(gv);
            FloatVector u = lr.mul(st);
            fin = fin.and(finite(st));
            st = zero.blend(st, fin);
            zero.blend(u, fin).intoArray(g, i);
            st.intoArray(s0, i);
            FloatVector a0 = st.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
    }

    private static void rmsprop(OptimHyper h, float[] g, float[] s0, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), b1 = bc(h.beta1), omb1 = bc(h.oneMinusBeta1), lr = bc(h.lr), eps = bc(h.eps);
        FloatVector mx0 = zero;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector st = b1.mul(FloatVector.fromArray(F, s0, i)).add(omb1.mul(gv.mul(gv)));
            FloatVector u = lr.mul(gv.div(st.sqrt().add(eps)));
            fin = fin.and(finite(st));
            st = zero.blend(st, fin);
            zero.blend(u, fin).intoArray(g, i);
            st.intoArray(s0, i);
            FloatVector a0 = st.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
    }

    private static void adagrad(OptimHyper h, float[] g, float[] s0, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), lr = bc(h.lr), eps = bc(h.eps);
        FloatVector mx0 = zero;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector st = FloatVector.fromArray(F, s0, i).add(gv.mul(gv));
            FloatVector u = lr.mul(gv.div(st.sqrt().add(eps)));
            fin = fin.and(finite(st));
            st = zero.blend(st, fin);
            zero.blend(u, fin).intoArray(g, i);
            st.intoArray(s0, i);
            FloatVector a0 = st.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
    }

    private static void lion(OptimHyper h, float[] g, float[] s0, int off, int len, float[] mx) {
        FloatVector zero = FloatVector.zero(F), b1 = bc(h.beta1), b2 = bc(h.beta2), omb1 = bc(h.oneMinusBeta1),
                omb2 = bc(h.oneMinusBeta2), lr = bc(h.lr), nlr = bc(-h.lr);
        FloatVector mx0 = zero;
        for (int i = off, end = off + len; i < end; i += L) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            VectorMask<Float> fin = finite(gv);
            FloatVector s = FloatVector.fromArray(F, s0, i);
            FloatVector c = b1.mul(s).add(omb1.mul(gv));
            FloatVector st = b2.mul(s).add(omb2.mul(gv));
            FloatVector u = zero.blend(lr, c.compare(VectorOperators.GT, 0f)).blend(nlr, c.compare(VectorOperators.LT, 0f));
            fin = fin.and(finite(st));
            st = zero.blend(st, fin);
            zero.blend(u, fin).intoArray(g, i);
            st.intoArray(s0, i);
            FloatVector a0 = st.abs();
            mx0 = mx0.blend(a0, a0.compare(VectorOperators.GT, mx0));
        }
        mx[0] = VectorCodes.reduceMax(mx0);
    }
}
