package org.bnb4j.examples.bench;

/**
 * Every benchmark in one command, each printing its ratios against a baseline measured in the same
 * run: quantize/dequantize vs a memory copy (native core), applyUpdater vs DL4J's Adam/Nesterovs and
 * vs the memory-copy roofline (8-bit optimizers).
 *
 * <pre>mvn -B -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.Benchmarks</pre>
 */
public final class Benchmarks {
    private Benchmarks() {}

    public static void main(String[] args) {
        QuantizeBench.main(new String[0]);
        System.out.println();
        UpdaterBench.main(new String[0]);
    }
}
