package org.bnb4j.internal.kernels;

import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Child-JVM main of {@link EmulatedCpuTest}, run on an emulated CPU: prints which kernels
 * {@link KernelProvider} picked and which ISAs the native library found, then runs quantize,
 * dequantize and three 8-bit optimizers with the picked kernels and with the scalar Java oracle, and
 * prints whether they agree bit for bit.
 */
public final class EmulatedCpuProbe {
    private EmulatedCpuProbe() {}

    public static void main(String[] args) {
        KernelProvider active = KernelProvider.get();
        System.out.println("KERNELS " + active.quantKernels().name());
        System.out.println("SUPPORTED " + (KernelProvider.nativeKernels().isPresent() ? BnbNative.supportedIsas() : "-"));
        KernelProvider ref = KernelProvider.reference();
        System.out.println("QUANT_EQUAL " + quantEqual(active.quantKernels(), ref.quantKernels()));
        String steps = "true";
        for (OptimKind kind : new OptimKind[]{OptimKind.ADAM, OptimKind.LION, OptimKind.MOMENTUM}) {
            String diff = stepsDiffer(kind, active.optimizerKernels(), ref.optimizerKernels());
            if (diff != null) steps = diff;
        }
        System.out.println("STEPS_EQUAL " + steps);
    }

    /** Quantize and dequantize of a gaussian with a NaN, a zero block and a short tail, blocksizes 64 and 256. */
    private static boolean quantEqual(QuantKernels a, QuantKernels b) {
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 5003).muli(3f);
        x.putScalar(17, Float.NaN);
        for (int i = 256; i < 512; i++) x.putScalar(i, 0f);
        for (int blocksize : new int[]{64, 256}) {
            QuantState qa = new BlockwiseQuantizer(a).quantize(x, QuantMap.dynamic(), blocksize);
            QuantState qb = new BlockwiseQuantizer(b).quantize(x, QuantMap.dynamic(), blocksize);
            if (!Arrays.equals(qa.codes().data().asBytes(), qb.codes().data().asBytes())
                    || !Arrays.equals(qa.absmax().data().asBytes(), qb.absmax().data().asBytes())) return false;
            INDArray da = new BlockwiseQuantizer(a).dequantize(qa), db = new BlockwiseQuantizer(b).dequantize(qb);
            if (!Arrays.equals(da.data().asBytes(), db.data().asBytes())) return false;
        }
        return true;
    }

    /** Null when four steps of kind on a packed state (as DL4J's updater view holds it) agree, else what differed. */
    private static String stepsDiffer(OptimKind kind, OptimizerKernels a, OptimizerKernels b) {
        long n = 3000;   // not a multiple of the blocksize: a short last block
        int blocksize = 256;
        long words = OptimState8bit.packedLength(kind, n, blocksize);
        INDArray va = Nd4j.create(DataType.FLOAT, words), vb = Nd4j.create(DataType.FLOAT, words);
        OptimState8bit sa = OptimState8bit.packed(kind, va, n, blocksize), sb = OptimState8bit.packed(kind, vb, n, blocksize);
        for (int t = 1; t <= 4; t++) {
            Nd4j.getRandom().setSeed(100 + t);
            INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(t == 3 ? 10f : 0.01f);
            if (t == 2) g.putScalar(5, Float.NaN);
            INDArray ga = g.dup(), gb = g.dup();
            a.step8bit(kind.example(t), ga, sa);
            b.step8bit(kind.example(t), gb, sb);
            if (!Arrays.equals(ga.data().asBytes(), gb.data().asBytes())) return kind + " update at step " + t;
            if (!Arrays.equals(va.data().asBytes(), vb.data().asBytes())) return kind + " state at step " + t;
        }
        return null;
    }
}
