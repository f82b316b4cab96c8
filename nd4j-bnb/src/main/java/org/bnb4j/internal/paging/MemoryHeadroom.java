package org.bnb4j.internal.paging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * How much memory this process can still take without the OS reclaiming something: the smaller of
 * the machine's MemAvailable and what its memory cgroup (v1 or v2, the tightest limit up its tree)
 * leaves below the limit. Paged state is streamed through memory when it would not fit in it.
 */
public final class MemoryHeadroom {
    private MemoryHeadroom() {}

    private static final long NONE = Long.MAX_VALUE;
    private static final Path CGROUP_V1, CGROUP_V2;

    static {
        Path v1 = null, v2 = null;
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length < 3) continue;
                if (f[1].equals("memory")) v1 = Paths.get("/sys/fs/cgroup/memory" + f[2]);
                else if (f[0].equals("0") && f[1].isEmpty()) v2 = Paths.get("/sys/fs/cgroup" + f[2]);
            }
        } catch (IOException | SecurityException e) {
            // no cgroup information: MemAvailable alone
        }
        CGROUP_V1 = v1 != null && Files.exists(v1.resolve("memory.usage_in_bytes")) ? v1 : null;
        CGROUP_V2 = CGROUP_V1 == null && v2 != null && Files.exists(v2.resolve("memory.current")) ? v2 : null;
    }

    /** Bytes available now; Long.MAX_VALUE when nothing can be read (not Linux). */
    public static long bytes() {
        return Math.min(memAvailable(), cgroupHeadroom());
    }

    static long memAvailable() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/meminfo"))) {
                if (l.startsWith("MemAvailable:")) return 1024 * Long.parseLong(l.substring(13).replace("kB", "").trim());
            }
        } catch (IOException | NumberFormatException e) {
            return NONE;
        }
        return NONE;
    }

    static long cgroupHeadroom() {
        if (CGROUP_V1 != null) {
            long limit = NONE;
            try {
                for (String l : Files.readAllLines(CGROUP_V1.resolve("memory.stat"))) {
                    if (l.startsWith("hierarchical_memory_limit ")) limit = Long.parseLong(l.substring(26).trim());
                }
            } catch (IOException | NumberFormatException e) {
                limit = read(CGROUP_V1.resolve("memory.limit_in_bytes"));
            }
            return headroom(limit, read(CGROUP_V1.resolve("memory.usage_in_bytes")));
        }
        if (CGROUP_V2 != null) {
            long best = NONE;
            for (Path p = CGROUP_V2; p != null && p.startsWith("/sys/fs/cgroup") && Files.exists(p.resolve("memory.current")); p = p.getParent()) {
                best = Math.min(best, headroom(read(p.resolve("memory.max")), read(p.resolve("memory.current"))));
            }
            return best;
        }
        return NONE;
    }

    private static long headroom(long limit, long usage) {
        if (limit == NONE || limit >= (1L << 60) || usage == NONE) return NONE;
        return Math.max(0, limit - usage);
    }

    /** A number in a cgroup file; "max" and unreadable files are no limit. */
    private static long read(Path f) {
        try {
            String s = new String(Files.readAllBytes(f), StandardCharsets.US_ASCII).trim();
            return s.equals("max") ? NONE : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return NONE;
        }
    }
}
