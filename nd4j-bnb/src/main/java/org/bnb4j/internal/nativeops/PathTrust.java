package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether a cache path can be trusted to hold a library this process will load: only this
 * user (or root) may be able to change what the path names. Works on the "unix" attribute view
 * (owner uid and raw mode bits, which the POSIX view lacks: the sticky bit).
 */
final class PathTrust {
    static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000;
    private static final int GROUP_OR_OTHER_WRITE = 0022, STICKY = 01000;
    private static final int ROOT_UID = 0;

    /** State of an existing file in a trusted directory. */
    enum FileState { ABSENT, CANDIDATE, WRITABLE_BY_OTHERS }

    private final int uid;

    PathTrust(int uid) {
        this.uid = uid;
    }

    static PathTrust currentUser() throws IOException {
        return new PathTrust(currentUid());
    }

    int uid() {
        return uid;
    }

    /**
     * Creates {@code dir} owner-only (missing parents too) or accepts an existing one, and returns
     * its real path. Refuses a directory that is a symbolic link, not owned by this user or writable
     * by group/others, and one below a directory that someone other than this user or root could
     * rename entries in.
     */
    Path ownerOnlyDirectory(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        Path name = abs.getFileName();
        Path parent = abs.getParent();
        if (name == null || parent == null || name.toString().equals(".") || name.toString().equals("..")) {
            throw new UntrustedPathException(abs + " does not name a directory below another one");
        }
        // The permissions go in with mkdir itself (umask can only narrow them): no window in which a
        // fresh directory is open to others.
        try {
            Files.createDirectories(parent, OWNER_ONLY);
        } catch (IOException e) {
            throw new IOException("cannot create the directories up to " + parent + " (" + e + ")", e);
        }
        Path realParent = parent.toRealPath();
        for (Path p = realParent; p != null; p = p.getParent()) requireSafeAncestor(p);
        return ownerOnlyChild(realParent, name.toString());
    }

    /** As {@link #ownerOnlyDirectory} for an entry of a directory that has already passed it. */
    Path ownerOnlyChild(Path trustedDir, String name) throws IOException {
        Path child = trustedDir.resolve(name);
        try {
            Files.createDirectory(child, OWNER_ONLY);
        } catch (FileAlreadyExistsException e) {
            // Someone (maybe another JVM of this user) made it first: judged below like any other.
        }
        Map<String, Object> a = attributes(child);
        int mode = mode(a);
        if (type(mode) == S_IFLNK) throw new UntrustedPathException(child + " is a symbolic link");
        if (type(mode) != S_IFDIR) throw new UntrustedPathException(child + " is not a directory");
        requireOwnedByThisUser(child, a);
        if ((mode & GROUP_OR_OTHER_WRITE) != 0) {
            throw new UntrustedPathException(child + " is writable by group or others (mode " + octal(mode)
                    + "); make it owner-only (chmod 700) or remove it");
        }
        return child;
    }

    /**
     * The state of a file in a directory that passed {@link #ownerOnlyChild}. A symbolic link,
     * something that is not a regular file, or a file of another user is refused: none of them can
     * appear there without this user's or root's hand, so they are a sign of tampering.
     */
    FileState fileState(Path file) throws IOException {
        Map<String, Object> a;
        try {
            a = attributes(file);
        } catch (NoSuchFileException e) {
            return FileState.ABSENT;
        }
        int mode = mode(a);
        if (type(mode) == S_IFLNK) throw new UntrustedPathException(file + " is a symbolic link");
        if (type(mode) != S_IFREG) throw new UntrustedPathException(file + " is not a regular file");
        requireOwnedByThisUser(file, a);
        return (mode & GROUP_OR_OTHER_WRITE) != 0 ? FileState.WRITABLE_BY_OTHERS : FileState.CANDIDATE;
    }

    /**
     * An ancestor may belong to root or this user; it may be writable by others only with the
     * sticky bit (like /tmp), which stops them renaming or deleting the entries they do not own.
     */
    private void requireSafeAncestor(Path p) throws IOException {
        Map<String, Object> a = attributes(p);
        int owner = owner(a);
        if (owner != uid && owner != ROOT_UID) {
            throw new UntrustedPathException("its ancestor " + p + " is owned by uid " + owner
                    + ", neither this user (uid " + uid + ") nor root");
        }
        int mode = mode(a);
        if ((mode & GROUP_OR_OTHER_WRITE) != 0 && (mode & STICKY) == 0) {
            throw new UntrustedPathException("its ancestor " + p + " is writable by group or others without the sticky bit (mode "
                    + octal(mode) + ")");
        }
    }

    private void requireOwnedByThisUser(Path p, Map<String, Object> a) throws UntrustedPathException {
        int owner = owner(a);
        if (owner != uid) {
            throw new UntrustedPathException(p + " is owned by uid " + owner + ", not by this user (uid " + uid + ")");
        }
    }

    private static Map<String, Object> attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new UntrustedPathException("the file system of " + p + " has no unix owner and mode attributes");
        }
    }

    private static int mode(Map<String, Object> a) {
        return (Integer) a.get("mode");
    }

    private static int owner(Map<String, Object> a) {
        return (Integer) a.get("uid");
    }

    private static int type(int mode) {
        return mode & S_IFMT;
    }

    private static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }

    /**
     * The process's user id. The JDK's documented UnixSystem first; /proc/self (owned by the
     * process's effective uid) where a trimmed runtime lacks the jdk.security.auth module.
     */
    /**
     * The effective user id, from /proc/self/status. Not from UnixSystem first: on JDK 17 it reports uid
     * 0 for a user without a passwd entry (containers run with an arbitrary uid), which made every
     * directory the process had just created look foreign, and would have made root's look its own.
     */
    /** The effective uid of a /proc/PID/status text ("Uid:" real, effective, saved, file-system), or -1. */
    static int effectiveUid(List<String> statusLines) {
        for (String line : statusLines) {
            if (line.startsWith("Uid:")) return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
        }
        return -1;
    }

    private static int currentUid() throws IOException {
        try {
            int uid = effectiveUid(Files.readAllLines(Path.of("/proc/self/status")));
            if (uid >= 0) return uid;
        } catch (IOException | RuntimeException e) {
            // no procfs: ask the JDK
        }
        try {
            com.sun.security.auth.module.UnixSystem u = new com.sun.security.auth.module.UnixSystem();
            if (u.getUsername() == null) throw new IOException("this process's user id " + u.getUid() + " has no passwd entry and /proc/self/status is unreadable");
            return (int) u.getUid();
        } catch (LinkageError e) {
            throw new IOException("cannot determine this process's user id (" + e + ")");
        }
    }
}
