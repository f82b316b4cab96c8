package org.bnb4j.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A quantization map ("code" in bitsandbytes): 256 sorted float32 values; code i decodes to
 * {@code values[i] * absmax}. Immutable; equal maps have equal values bit for bit.
 *
 * <p>The factories reproduce bitsandbytes bit for bit: {@link #dynamic(boolean)} is
 * {@code create_dynamic_map} with its defaults, {@link #linear(boolean)} is {@code create_linear_map}.
 */
public final class QuantMap {
    public static final int SIZE = 256;

    private static final QuantMap DYNAMIC_SIGNED = dynamic(true, 7, 8);
    private static final QuantMap DYNAMIC_UNSIGNED = dynamic(false, 7, 8);

    private final float[] values;
    private final String name;
    private final int hash;

    private QuantMap(float[] values, String name) {
        this.values = values;
        this.name = name;
        int h = 1;
        for (float v : values) h = 31 * h + Float.floatToRawIntBits(v);
        this.hash = h;
    }

    /** The signed dynamic map, bitsandbytes' default for quantize_blockwise and for Adam's first state. */
    public static QuantMap dynamic() {
        return DYNAMIC_SIGNED;
    }

    /** bitsandbytes {@code create_dynamic_map(signed)} with max_exponent_bits=7, total_bits=8. */
    public static QuantMap dynamic(boolean signed) {
        return signed ? DYNAMIC_SIGNED : DYNAMIC_UNSIGNED;
    }

    /**
     * bitsandbytes {@code create_dynamic_map(signed, max_exponent_bits, total_bits)}: dynamic tree
     * quantization, float32 arithmetic as PyTorch's CPU kernels do it (so the values match bit for
     * bit), padded with zeros to 256 entries and sorted.
     */
    public static QuantMap dynamic(boolean signed, int maxExponentBits, int totalBits) {
        if (totalBits < 2 || totalBits > 8) throw new IllegalArgumentException("totalBits must be in 2..8, got " + totalBits);
        int nonSignBits = totalBits - 1;
        if (maxExponentBits < 1 || maxExponentBits > nonSignBits) {
            throw new IllegalArgumentException("maxExponentBits must be in 1.." + nonSignBits + ", got " + maxExponentBits);
        }
        // bitsandbytes' construction makes 2^totalBits - 2^d + 1 unsigned values, d = nonSignBits - maxExponentBits
        // (its own assert fails for the others): only d = 0 fills the map
        if (!signed && maxExponentBits != nonSignBits) {
            throw new IllegalArgumentException("an unsigned dynamic map needs maxExponentBits = totalBits - 1 (" + nonSignBits
                    + " for totalBits " + totalBits + "), got " + maxExponentBits + ": the construction gives "
                    + ((1 << totalBits) - (1 << (nonSignBits - maxExponentBits)) + 1) + " values, not " + (1 << totalBits));
        }
        List<Float> data = new ArrayList<>();
        int additionalItems = (1 << (nonSignBits - maxExponentBits)) - 1;
        for (int i = 0; i < maxExponentBits; i++) {
            int items = signed ? (1 << (i + nonSignBits - maxExponentBits)) + 1
                    : (1 << (i + nonSignBits - maxExponentBits + 1)) + 1;
            addMeans(data, items, i - (maxExponentBits - 1), signed);
        }
        if (additionalItems > 0) addMeans(data, additionalItems + 1, 0, signed);
        data.add(0.0f);
        data.add(1.0f);
        if (data.size() != (1 << totalBits)) {
            throw new IllegalArgumentException("dynamic map with signed=" + signed + ", maxExponentBits=" + maxExponentBits
                    + ", totalBits=" + totalBits + " has " + data.size() + " values, not " + (1 << totalBits));
        }
        float[] v = new float[SIZE];
        for (int i = 0; i < data.size(); i++) v[i] = data.get(i);
        Arrays.sort(v); // zeros padding included, as bitsandbytes does
        String name = "dynamic(" + (signed ? "signed" : "unsigned")
                + (maxExponentBits == 7 && totalBits == 8 ? "" : ", " + maxExponentBits + ", " + totalBits) + ")";
        return new QuantMap(v, name);
    }

    // means of linspace(0.1, 1, items) scaled by 10^exponent (and negated copies when signed)
    private static void addMeans(List<Float> data, int items, int exponent, boolean signed) {
        float[] b = linspace(0.1f, 1.0f, items);
        float scale = (float) Math.pow(10, exponent);
        for (int k = 0; k + 1 < items; k++) {
            float mean = (b[k] + b[k + 1]) / 2.0f;
            data.add(mean * scale);
        }
        if (signed) {
            for (int k = 0; k + 1 < items; k++) {
                float mean = (b[k] + b[k + 1]) / 2.0f;
                data.add(-scale * mean);
            }
        }
    }

    /**
     * bitsandbytes {@code create_linear_map(signed)}: signed is linspace(-1, 1, 255) with one 0
     * inserted at index 127; unsigned is linspace(0, 1, 256).
     */
    public static QuantMap linear(boolean signed) {
        float[] v;
        if (signed) {
            float[] l = linspace(-1.0f, 1.0f, 255);
            v = new float[SIZE];
            System.arraycopy(l, 0, v, 0, 127);
            v[127] = 0.0f;
            System.arraycopy(l, 127, v, 128, 128);
        } else {
            v = linspace(0.0f, 1.0f, 256);
        }
        return new QuantMap(v, "linear(" + (signed ? "signed" : "unsigned") + ")");
    }

    /** A user-supplied map: exactly 256 finite float values in non-decreasing order. */
    public static QuantMap of(float... values) {
        if (values == null) throw new IllegalArgumentException("quantization map is null");
        if (values.length != SIZE) {
            throw new IllegalArgumentException("a quantization map needs exactly 256 values, got " + values.length);
        }
        for (int i = 0; i < SIZE; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException("quantization map value " + i + " is " + values[i] + "; all values must be finite");
            }
            if (i > 0 && values[i] < values[i - 1]) {
                throw new IllegalArgumentException("quantization map must be sorted ascending: value " + i + " ("
                        + values[i] + ") < value " + (i - 1) + " (" + values[i - 1] + ")");
            }
        }
        return new QuantMap(values.clone(), "custom");
    }

    /** A user-supplied map from a FLOAT (or DOUBLE/HALF/BFLOAT16) vector of 256 values. */
    public static QuantMap of(INDArray values) {
        if (values == null) throw new IllegalArgumentException("quantization map is null");
        if (!values.dataType().isFPType()) {
            throw new IllegalArgumentException("quantization map must be a floating-point array, got " + values.dataType());
        }
        if (values.length() != SIZE) {
            throw new IllegalArgumentException("a quantization map needs exactly 256 values, got " + values.length()
                    + " (shape " + Arrays.toString(values.shape()) + ")");
        }
        if (values.dataType() == DataType.DOUBLE) {
            // named before the cast turns it into Infinity
            double[] d = values.dup('c').reshape(SIZE).toDoubleVector();
            for (int i = 0; i < SIZE; i++) {
                if (Double.isFinite(d[i]) && Float.isInfinite((float) d[i])) {
                    throw new IllegalArgumentException("quantization map value " + i + " is " + d[i]
                            + ", beyond float range (+-" + Float.MAX_VALUE + "); maps hold floats");
                }
            }
        }
        return of(values.castTo(DataType.FLOAT).reshape(SIZE).toFloatVector());
    }

    // torch.linspace on CPU in float32: the first half counts up from start, the second half down
    // from end, each element one fused multiply-add.
    static float[] linspace(float start, float end, int steps) {
        float[] r = new float[steps];
        if (steps == 1) {
            r[0] = start;
            return r;
        }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) {
            r[i] = i < half ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (steps - 1 - i), end);
        }
        return r;
    }

    /** A copy of the 256 values. */
    public float[] values() {
        return values.clone();
    }

    public float get(int code) {
        return values[code];
    }

    /** The values as a FLOAT vector [256] (a new array). */
    public INDArray toINDArray() {
        return Nd4j.createFromArray(values.clone());
    }

    public String name() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof QuantMap)) return false;
        QuantMap m = (QuantMap) o;
        if (hash != m.hash) return false;
        for (int i = 0; i < SIZE; i++) {
            if (Float.floatToRawIntBits(values[i]) != Float.floatToRawIntBits(m.values[i])) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "QuantMap[" + name + ", " + values[0] + " .. " + values[SIZE - 1] + "]";
    }
}
