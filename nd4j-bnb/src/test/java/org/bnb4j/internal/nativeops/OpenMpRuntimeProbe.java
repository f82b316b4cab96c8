package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.kernels.KernelProvider;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Child-JVM main of {@link OpenMpRuntimesTest}: uses bnb4j's native kernels and ND4J in the order
 * given ("bnb4j-first" or "nd4j-first"), each running at least one parallel region, then prints the
 * OpenMP runtimes mapped into the process.
 */
public final class OpenMpRuntimeProbe {
    private OpenMpRuntimeProbe() {}

    public static void main(String[] args) {
        boolean bnbFirst = args.length > 0 && args[0].equals("bnb4j-first");
        if (bnbFirst) useBnb4j();
        useNd4j();
        if (!bnbFirst) useBnb4j();
        System.out.println("KERNELS " + KernelProvider.get().quantKernels().name());
        System.out.println("RUNTIMES " + String.join("|", OpenMpRuntimes.mapped()));
    }

    /** Loads libbnb4j and runs one of its parallel regions without touching ND4J's API. */
    private static void useBnb4j() {
        KernelProvider.get().quantKernels();
        if (!NativeLibraryLoader.load().loaded) return;
        float[] map = new float[256];
        for (int i = 0; i < 256; i++) map[i] = -1f + 2f * i / 255f;
        long cb = BnbNative.codebookCreate(map);
        BnbNative.codebookCheckFast(cb, 0, 1 << 12); // an OpenMP parallel loop
        BnbNative.codebookFree(cb);
    }

    private static void useNd4j() {
        Nd4j.create(DataType.FLOAT, 1 << 20).addi(1.0f).sumNumber();
        Nd4j.rand(DataType.FLOAT, 256, 256).mmul(Nd4j.rand(DataType.FLOAT, 256, 256)).sumNumber();
    }
}
