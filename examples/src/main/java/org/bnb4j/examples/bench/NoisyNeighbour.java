package org.bnb4j.examples.bench;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * A noisy neighbour for the benchmarks: separate OS processes, each spinning one core, as another
 * tenant's busy process would on a shared host. Each is a small JVM running {@link Spin}; it stops
 * when closed, when this JVM dies, and after {@code maxSeconds} in any case (bounded lifetime).
 */
public final class NoisyNeighbour implements AutoCloseable {
    private final List<Process> spinners = new ArrayList<>();

    public NoisyNeighbour(int processes, int maxSeconds) {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String self = Long.toString(ProcessHandle.current().pid());
        try {
            for (int i = 0; i < processes; i++) {
                spinners.add(new ProcessBuilder(java, "-Xmx32m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                        "-cp", ownClassPath(), Spin.class.getName(), self, Integer.toString(maxSeconds))
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            Thread.sleep(1000); // let the spinners' JVMs start and reach their loop
        } catch (IOException e) {
            close();
            throw new IllegalStateException("cannot start the noisy neighbour", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Process p : spinners) {
            if (!p.isAlive()) throw new IllegalStateException("noisy neighbour exited at once (status " + p.exitValue() + ")");
        }
    }

    /**
     * Where this class was loaded from (Spin needs nothing else). Not java.class.path: under
     * {@code mvn exec:java} that is Maven's launcher, not the examples' classes.
     */
    private static String ownClassPath() {
        try {
            return Paths.get(NoisyNeighbour.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return System.getProperty("java.class.path");
        }
    }

    public int processes() {
        return spinners.size();
    }

    @Override
    public void close() {
        for (Process p : spinners) p.destroyForcibly();
        for (Process p : spinners) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        spinners.clear();
    }

    /** The neighbour's main: spins one core until its parent is gone or maxSeconds have passed. */
    static final class Spin {
        private Spin() {}

        public static void main(String[] args) {
            ProcessHandle parent = ProcessHandle.of(Long.parseLong(args[0])).orElse(null);
            long end = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
            long x = 0;
            while (true) {
                x++;
                if ((x & 0x3ffffff) == 0) {
                    if (System.nanoTime() > end || parent == null || !parent.isAlive()) break;
                }
            }
            System.exit((int) (x & 1));
        }
    }
}
