package org.bnb4j.distributed;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The public API is what users see: the packages outside {@code org.bnb4j.internal} (quantization,
 * ops, SameDiff, optimizer descriptors, updater configs, the ParallelWrapper drop-in). Scans every
 * bnb4j class on this module's classpath (nd4j-bnb, dl4j-updaters, dl4j-distributed) and checks that
 * the set of public packages is the documented one and that no public or protected member of a
 * public class in them mentions an internal type (raw addresses, host buffers and the kernel
 * providers live there).
 */
class PublicApiTest {

    /** The packages users program against (README, docs/DESIGN.md "Public API"). */
    static final Set<String> PUBLIC_PACKAGES = Set.of(
            "org.bnb4j", "org.bnb4j.quant", "org.bnb4j.ops", "org.bnb4j.samediff", "org.bnb4j.optim",
            "org.bnb4j.updaters", "org.bnb4j.updaters.config", "org.bnb4j.distributed");

    static boolean internal(String name) {
        return name.startsWith("org.bnb4j.internal.");
    }

    @Test
    void publicPackagesAreTheDocumentedOnes() throws Exception {
        Set<String> found = new TreeSet<>();
        for (Class<?> c : bnb4jClasses()) {
            if (!internal(c.getName()) && Modifier.isPublic(c.getModifiers())) found.add(c.getPackageName());
        }
        assertEquals(new TreeSet<>(PUBLIC_PACKAGES), found, "packages with public classes outside org.bnb4j.internal");
    }

    @Test
    void noPublicSignatureMentionsAnInternalType() throws Exception {
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : bnb4jClasses()) {
            if (internal(c.getName()) || !visible(c.getModifiers()) || !visibleOwner(c)) continue;
            check(c.getGenericSuperclass(), c + " extends", leaks);
            for (Type t : c.getGenericInterfaces()) check(t, c + " implements", leaks);
            for (Field f : c.getDeclaredFields()) {
                if (visible(f.getModifiers())) check(f.getGenericType(), c.getName() + "." + f.getName(), leaks);
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (!visible(k.getModifiers())) continue;
                for (Type t : k.getGenericParameterTypes()) check(t, k.toString(), leaks);
            }
            for (Method m : c.getDeclaredMethods()) {
                if (!visible(m.getModifiers()) || m.isSynthetic()) continue;
                check(m.getGenericReturnType(), m.toString(), leaks);
                for (Type t : m.getGenericParameterTypes()) check(t, m.toString(), leaks);
                for (Type t : m.getGenericExceptionTypes()) check(t, m.toString(), leaks);
            }
        }
        assertTrue(leaks.isEmpty(), "internal types in the public API:\n" + String.join("\n", leaks));
    }

    private static boolean visible(int mod) {
        return Modifier.isPublic(mod) || Modifier.isProtected(mod);
    }

    private static boolean visibleOwner(Class<?> c) {
        for (Class<?> o = c.getDeclaringClass(); o != null; o = o.getDeclaringClass()) {
            if (!visible(o.getModifiers())) return false;
        }
        return true;
    }

    private static void check(Type t, String where, List<String> leaks) {
        if (t == null) return;
        if (t instanceof Class<?> k) {
            while (k.isArray()) k = k.getComponentType();
            if (internal(k.getName())) leaks.add(where + " -> " + k.getName());
        } else if (t instanceof ParameterizedType p) {
            check(p.getRawType(), where, leaks);
            for (Type a : p.getActualTypeArguments()) check(a, where, leaks);
        } else if (t instanceof java.lang.reflect.WildcardType w) {
            for (Type b : w.getUpperBounds()) check(b, where, leaks);
            for (Type b : w.getLowerBounds()) check(b, where, leaks);
        } else if (t instanceof java.lang.reflect.GenericArrayType a) {
            check(a.getGenericComponentType(), where, leaks);
        }
    }

    /** Every class under org/bnb4j in a classpath entry (directory or jar) that holds bnb4j main classes. */
    static List<Class<?>> bnb4jClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Set<String> names = new TreeSet<>();
        ClassLoader cl = PublicApiTest.class.getClassLoader();
        Enumeration<URL> roots = cl.getResources("org/bnb4j");
        while (roots.hasMoreElements()) {
            URL u = roots.nextElement();
            if (u.getProtocol().equals("file")) {
                Path dir = Paths.get(u.toURI());
                Path base = dir.getParent().getParent();
                if (base.endsWith("test-classes")) continue;   // test code is not API
                try (Stream<Path> s = Files.walk(dir)) {
                    s.filter(p -> p.toString().endsWith(".class"))
                            .forEach(p -> names.add(className(base.relativize(p).toString())));
                }
            } else if (u.getProtocol().equals("jar")) {
                String path = u.getPath();
                String jar = path.substring("file:".length(), path.indexOf("!/"));
                if (jar.contains("-tests.jar")) continue;
                try (JarFile jf = new JarFile(jar)) {
                    jf.stream().map(e -> e.getName()).filter(n -> n.startsWith("org/bnb4j/") && n.endsWith(".class"))
                            .forEach(n -> names.add(className(n)));
                }
            }
        }
        List<Class<?>> out = new ArrayList<>();
        for (String n : names) {
            // internal classes are not loaded: some need modules this JVM may lack (jdk.incubator.vector)
            if (n.endsWith("module-info") || n.endsWith("package-info") || internal(n)) continue;
            out.add(Class.forName(n, false, cl));
        }
        assertTrue(out.size() > 20, "found only " + out.size() + " public-package bnb4j classes");
        return out;
    }

    private static String className(String file) {
        return file.substring(0, file.length() - ".class".length()).replace('/', '.').replace('\\', '.');
    }
}
