package org.bnb4j.examples.memory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs a command under a hard memory limit: a child memory cgroup of this process's own (cgroup v1's
 * memory controller, or cgroup v2 with the memory controller delegated), with swap forbidden, so that
 * a process that needs more is killed by the kernel (out of memory) and page cache, paged state
 * included, is reclaimed to stay under it. Needs a writable cgroup directory (root, or delegation);
 * {@link #find()} is empty where there is none.
 */
public final class MemoryLimit {
    private final Path group;      // the parent directory new groups are made in
    private final boolean v2;

    private MemoryLimit(Path group, boolean v2) {
        this.group = group;
        this.v2 = v2;
    }

    /** The outcome of a limited run: exit code, output, the group's peak usage (bytes; -1 unknown) and whether it hit the limit. */
    public static final class Run {
        public final int exitCode;
        public final List<String> output;
        public final long peakBytes;
        public final boolean hitLimit;

        Run(int exitCode, List<String> output, long peakBytes, boolean hitLimit) {
            this.exitCode = exitCode;
            this.output = output;
            this.peakBytes = peakBytes;
            this.hitLimit = hitLimit;
        }

        /** Killed by the kernel (SIGKILL: the out-of-memory killer, under a limit). */
        public boolean killed() {
            return exitCode == 137 || exitCode == -9;
        }
    }

    /** A writable memory cgroup to make limited groups in, if this machine and user have one. */
    public static Optional<MemoryLimit> find() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length < 3) continue;
                if (f[1].equals("memory")) {
                    Path dir = Paths.get("/sys/fs/cgroup/memory" + f[2]);
                    if (Files.isWritable(dir) && Files.exists(dir.resolve("memory.limit_in_bytes"))) return Optional.of(new MemoryLimit(dir, false));
                } else if (f[0].equals("0") && f[1].isEmpty()) {
                    Path dir = Paths.get("/sys/fs/cgroup" + f[2]);
                    Path controllers = dir.resolve("cgroup.subtree_control");
                    if (Files.isWritable(dir) && Files.exists(controllers)
                            && new String(Files.readAllBytes(controllers), StandardCharsets.US_ASCII).contains("memory")) {
                        return Optional.of(new MemoryLimit(dir, true));
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Where the limit is enforced, for reports. */
    public String describe() {
        return (v2 ? "cgroup v2 " : "cgroup v1 memory ") + group;
    }

    /**
     * Runs {@code command} with at most {@code limitBytes} of memory (resident pages and page cache
     * together); its output lines are echoed with {@code echoPrefix} (null: not echoed) and returned.
     */
    public Run run(List<String> command, long limitBytes, String echoPrefix) throws IOException, InterruptedException {
        Path g = group.resolve("bnb4j-limit-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectory(g);
        try {
            if (v2) {
                write(g.resolve("memory.max"), limitBytes);
                if (Files.exists(g.resolve("memory.swap.max"))) write(g.resolve("memory.swap.max"), 0);
            } else {
                write(g.resolve("memory.limit_in_bytes"), limitBytes);
                Path memsw = g.resolve("memory.memsw.limit_in_bytes");
                if (Files.exists(memsw)) write(memsw, limitBytes);   // no swapping instead of the limit
            }
            List<String> shell = new ArrayList<>(List.of("/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", g.resolve("cgroup.procs").toString()));
            shell.addAll(command);
            Process p = new ProcessBuilder(shell).redirectErrorStream(true).start();
            List<String> out = Processes.collect(p, echoPrefix);
            int rc = p.waitFor();
            long peak = readLong(g.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes"));
            long fails = v2 ? readEvent(g.resolve("memory.events"), "max") : readLong(g.resolve("memory.failcnt"));
            return new Run(rc, out, peak, fails > 0);
        } finally {
            for (int i = 0; i < 50 && Files.exists(g); i++) {
                try {
                    Files.delete(g);   // rmdir; fails while the kernel still lists an exiting task
                } catch (IOException e) {
                    Thread.sleep(100);
                }
            }
        }
    }

    private static void write(Path f, long v) throws IOException {
        Files.write(f, Long.toString(v).getBytes(StandardCharsets.US_ASCII));
    }

    private static long readLong(Path f) {
        try {
            return Long.parseLong(new String(Files.readAllBytes(f), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static long readEvent(Path f, String key) {
        try {
            for (String l : Files.readAllLines(f)) if (l.startsWith(key + " ")) return Long.parseLong(l.substring(key.length() + 1).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
