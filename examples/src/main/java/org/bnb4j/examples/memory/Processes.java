package org.bnb4j.examples.memory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Forked JVMs for measurements that need a process of their own (peak resident memory, a memory limit). */
public final class Processes {
    private Processes() {}

    /** A command that runs {@code mainClass} with {@code args} in a new JVM on this JVM's class path and java. */
    public static List<String> java(String mainClass, List<String> jvmArgs, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /**
     * The class path this code was loaded from. Under {@code mvn exec:java} the examples and their
     * dependencies come from the plugin's URLClassLoader while {@code java.class.path} names only
     * Maven's launcher, so the loaders' URLs are used when there are any.
     */
    static String classPath() {
        List<String> parts = new ArrayList<>();
        for (ClassLoader l = Processes.class.getClassLoader(); l != null; l = l.getParent()) {
            if (!(l instanceof URLClassLoader)) continue;
            for (URL u : ((URLClassLoader) l).getURLs()) {
                try {
                    parts.add(Paths.get(u.toURI()).toString());
                } catch (URISyntaxException | RuntimeException e) {
                    // not a file URL: a forked JVM could not use it anyway
                }
            }
        }
        return parts.isEmpty() ? System.getProperty("java.class.path") : String.join(File.pathSeparator, parts);
    }

    /** Runs a command without a limit; output lines echoed with {@code echoPrefix} (null: not) and returned, exit code last. */
    public static int run(List<String> command, String echoPrefix, List<String> output) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        output.addAll(collect(p, echoPrefix));
        return p.waitFor();
    }

    static List<String> collect(Process p, String echoPrefix) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                out.add(l);
                if (echoPrefix != null) System.out.println(echoPrefix + l);
            }
        }
        return out;
    }

    /** A field of /proc/self/status in bytes (VmHWM, VmRSS, RssAnon, RssFile), -1 if absent. */
    public static long statusBytes(String field) {
        try {
            for (String l : java.nio.file.Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (l.startsWith(field + ":")) return 1024 * Long.parseLong(l.substring(field.length() + 1).replace("kB", "").trim());
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
