package org.bnb4j.examples.bench;

/**
 * Every benchmark in one command, each printing its ratios against a baseline measured in the same
 * run: quantize/dequantize vs a memory copy (native core), applyUpdater vs DL4J's Adam/Nesterovs and
 * vs the memory-copy roofline (8-bit optimizers), with a C copy/triad measured outside the JVM.
 *
 * <pre>mvn -B -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.Benchmarks [-Dexec.args="--noisy --isa=all"]</pre>
 *
 * {@code --noisy[=K]} runs UpdaterBench quiet and again beside K processes that each spin a core (a
 * noisy neighbour); {@code --isa=...} is passed to UpdaterBench (see there).
 */
public final class Benchmarks {
    private Benchmarks() {}

    public static void main(String[] args) {
        // only UpdaterBench's options: its sizes and runs are this suite's (checked before the first benchmark runs)
        BenchArgs a = BenchArgs.parse("Benchmarks [--noisy[=K]] [--isa=all|ISA,...]", args, java.util.Set.of("--noisy", "--isa"), 0);
        a.optionCount("--noisy", 1, 64);
        a.isas();
        QuantizeBench.main(new String[0]);
        System.out.println();
        String[] updaterArgs = new String[args.length + 2];
        updaterArgs[0] = "1000000,10000000,50000000";
        updaterArgs[1] = "10";
        System.arraycopy(args, 0, updaterArgs, 2, args.length);
        UpdaterBench.main(updaterArgs);
    }
}
