#define _GNU_SOURCE
#include "berth_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// <sys/mount.h>'s value; spelled out because that header's new-mount-API part needs glibc 2.36.
#define MOVE_MOUNT_F_EMPTY_PATH_VALUE 0x00000004

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// Everything below runs in the cloned child of a multi-threaded process: only async-signal-safe
// calls, no malloc, no stdio, no locks. Strings are built in fixed buffers on the stack.

static size_t append(char *dst, size_t used, size_t cap, const char *src) {
    while (src && *src && used + 1 < cap) dst[used++] = *src++;
    dst[used] = 0;
    return used;
}

__attribute__((noreturn)) static void fail(int fd, const char *step, const char *detail, int err, int hint) {
    struct berth_child_error report;
    memset(&report, 0, sizeof(report));
    report.err = err;
    report.exit_hint = hint;
    size_t n = append(report.step, 0, sizeof(report.step), step);
    if (detail) {
        n = append(report.step, n, sizeof(report.step), " ");
        append(report.step, n, sizeof(report.step), detail);
    }
    ssize_t ignored = write(fd, &report, sizeof(report));
    (void)ignored;
    _exit(125);
}

// mkdir -p that tries the directory itself first, then its nearest ancestor that can be made,
// and goes back down from there. Usually one mkdir: walking from "/" took, for every mount point,
// the lock of each directory on the way, the agent's containers directory among them, in which
// every other container was being set up and removed at the same time.
static int mkdir_p(const char *path, mode_t mode) {
    if (mkdir(path, mode) != 0) {
        if (errno != ENOENT && errno != EEXIST) return errno;
        if (errno == ENOENT) {
            char buf[4096];
            size_t len = strlen(path);
            if (len == 0 || len >= sizeof(buf)) return ENAMETOOLONG;
            memcpy(buf, path, len + 1);
            // Up: cut the path at each '/' from the end until that prefix exists or is made.
            size_t cut = len;
            for (;;) {
                while (cut > 0 && buf[cut] != '/') cut--;
                if (cut == 0) return ENOENT;
                buf[cut] = 0;
                if (mkdir(buf, mode) == 0 || errno == EEXIST) break;
                if (errno != ENOENT) return errno;
            }
            // Down: put each cut back and make the directory up to the next one.
            for (size_t i = cut; i < len; i++) {
                if (buf[i] != 0) continue;
                buf[i] = '/';
                if (mkdir(buf, mode) != 0 && errno != EEXIST) return errno;
            }
        }
    }
    struct stat st;
    if (stat(path, &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    struct ifreq req;
    memset(&req, 0, sizeof(req));
    memcpy(req.ifr_name, "lo", 3);
    int err = 0;
    if (ioctl(s, SIOCGIFFLAGS, &req) != 0) err = errno;
    if (!err) {
        req.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &req) != 0) err = errno;
    }
    close(s);
    return err;
}

// Returns 0 or an errno; the caller decides whether ENOENT is fatal.
static int run_op(const struct berth_op *op) {
    switch (op->kind) {
    case BERTH_OP_MOUNT:
        return mount(op->source, op->target, op->fstype, op->mount_flags, op->data) == 0 ? 0 : errno;
    case BERTH_OP_MKDIR:
        return mkdir_p(op->target, op->mode);
    case BERTH_OP_TOUCH: {
        // Read-only: opening an image's existing file for writing would copy it up into the
        // overlay's upper layer (a new inode and a data copy) only to mount over it.
        int fd = open(op->target, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, op->mode);
        if (fd < 0) {
            // Already there (a mount point or a read-only image that has it): fine as it is.
            struct stat st;
            if (lstat(op->target, &st) == 0 && !S_ISLNK(st.st_mode)) return 0;
            return errno;
        }
        close(fd);
        return 0;
    }
    case BERTH_OP_SYMLINK:
        if (symlink(op->source, op->target) == 0 || errno == EEXIST) return 0;
        return errno;
    case BERTH_OP_MASK: {
        struct stat st;
        if (stat(op->target, &st) != 0) return errno;
        if (S_ISDIR(st.st_mode))
            return mount("tmpfs", op->target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") == 0 ? 0 : errno;
        return mount("/dev/null", op->target, NULL, MS_BIND, NULL) == 0 ? 0 : errno;
    }
    case BERTH_OP_READONLY:
        if (mount(op->target, op->target, NULL, MS_BIND | MS_REC, NULL) != 0) return errno;
        if (mount(NULL, op->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | op->mount_flags, NULL) != 0) return errno;
        return 0;
    case BERTH_OP_PIVOT_ROOT:
        // pivot_root(".", ".") stacks the old root under the new one; detaching it then needs no
        // spare directory in the image (runc does the same).
        if (chdir(op->target) != 0) return errno;
        if (syscall(SYS_pivot_root, ".", ".") != 0) return errno;
        if (umount2(".", MNT_DETACH) != 0) return errno;
        if (chdir("/") != 0) return errno;
        return 0;
    case BERTH_OP_SETHOSTNAME:
        return sethostname(op->source, strlen(op->source)) == 0 ? 0 : errno;
    case BERTH_OP_LOOPBACK_UP:
        return loopback_up();
    case BERTH_OP_CHDIR:
        if (chdir(op->target) == 0) return 0;
        if (errno != ENOENT) return errno;
        {
            int err = mkdir_p(op->target, op->mode);
            if (err) return err;
        }
        return chdir(op->target) == 0 ? 0 : errno;
    case BERTH_OP_MOVE_MOUNT:
        // The root filesystem the agent mounted detached: it appears in this mount namespace
        // only, so the host's mount table never holds one per container.
        return syscall(SYS_move_mount, (int)op->mode, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH_VALUE) == 0 ? 0 : errno;
    case BERTH_OP_WRITE_FILE: {
        int fd = open(op->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, op->mode);
        if (fd < 0) return errno;
        size_t length = op->data ? strlen(op->data) : 0, written = 0;
        while (written < length) {
            ssize_t n = write(fd, op->data + written, length - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int err = n < 0 ? errno : EIO;
                close(fd);
                return err;
            }
            written += (size_t)n;
        }
        return close(fd) == 0 ? 0 : errno;
    }
    case BERTH_OP_UNLINK:
        return unlink(op->target) == 0 ? 0 : errno;
    default:
        return EINVAL;
    }
}

static void reset_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &dfl, NULL); // invalid numbers (glibc-reserved) just fail
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

// execvpe without malloc: try each PATH entry; report EACCES if some candidate was found but not
// runnable, ENOENT if none was found.
static void exec_command(const struct berth_spawn_config *c, int err_fd) {
    const char *file = c->argv[0];
    char *const *argv = (char *const *)c->argv;
    char *const *envp = (char *const *)c->envp;
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        int err = errno;
        fail(err_fd, "exec", file, err, (err == ENOENT || err == ENOTDIR) ? 127 : 126);
    }
    const char *p = (c->path && *c->path) ? c->path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int seen_eacces = 0;
    char candidate[4096];
    while (*p) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        size_t n = 0;
        candidate[0] = 0;
        if (dlen == 0) {
            n = append(candidate, 0, sizeof(candidate), ".");
        } else if (dlen < sizeof(candidate) - 2) {
            memcpy(candidate, p, dlen);
            n = dlen;
            candidate[n] = 0;
        }
        n = append(candidate, n, sizeof(candidate), "/");
        append(candidate, n, sizeof(candidate), file);
        execve(candidate, argv, envp);
        if (errno == EACCES) seen_eacces = 1;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG) {
            int err = errno;
            fail(err_fd, "exec", candidate, err, 126);
        }
        if (!end) break;
        p = end + 1;
    }
    fail(err_fd, "exec", file, seen_eacces ? EACCES : ENOENT, seen_eacces ? 126 : 127);
}

// Blocks until the parent lets the launch go on, then enters the cgroup namespace.
static void await_release(const struct berth_spawn_config *c, int release_rd, int err_wr) {
    char go = 0;
    ssize_t got;
    do got = read(release_rd, &go, 1); while (got < 0 && errno == EINTR);
    if (got != 1) _exit(125); // the parent gave up; it reports why
    close(release_rd);
    if (c->unshare_cgroup && unshare(CLONE_NEWCGROUP) != 0) fail(err_wr, "unshare cgroup namespace", NULL, errno, 0);
}

__attribute__((noreturn)) static void finish_and_exec(const struct berth_spawn_config *c, int err_wr);

// join_count is 0 when the clone put the child into its cgroup already.
__attribute__((noreturn)) static void child_main(const struct berth_spawn_config *c, size_t join_count, int release_rd, int err_wr) {
    // Setup order matters and reads top to bottom: join the cgroup → wait for the release → cgroup
    // namespace → session → mounts → pivot_root → masked/read-only paths → fds → capabilities →
    // user → no_new_privs → seccomp (last: it would forbid the steps above) → exec.
    reset_signals();
    if (c->parent_death_signal) prctl(PR_SET_PDEATHSIG, c->parent_death_signal);

    // We move ourselves ("0" is the writer): we are one thread, and on v1 a thread moving itself
    // through `tasks` skips the threadgroup lock that makes a move by PID wait for an RCU grace
    // period. Nothing of the command runs before this.
    for (size_t i = 0; i < join_count; i++) {
        ssize_t n;
        do n = write(c->cgroup_join_fds[i], "0", 1); while (n < 0 && errno == EINTR);
        if (n != 1) fail(err_wr, "join the cgroup by writing to", c->cgroup_join_paths ? c->cgroup_join_paths[i] : NULL, errno, 0);
    }
    // The cgroup namespace comes after the join, so that our own cgroup is its root.
    await_release(c, release_rd, err_wr);
    if (c->new_session && setsid() < 0) fail(err_wr, "setsid", NULL, errno, 0);

    for (size_t i = 0; i < c->op_count; i++) {
        const struct berth_op *op = &c->ops[i];
        int err = run_op(op);
        if (err == ENOENT && (op->flags & BERTH_OP_OPTIONAL)) continue;
        if (err) fail(err_wr, op->label, NULL, err, 0);
    }
    finish_and_exec(c, err_wr);
}

// The end of every launch, in a container's namespaces: stdio → close fds → capabilities → user
// → parent-death signal → no_new_privs → seccomp (last: it would forbid the steps above) → exec.
__attribute__((noreturn)) static void finish_and_exec(const struct berth_spawn_config *c, int err_wr) {
    for (int fd = 0; fd < 3; fd++) {
        if (c->stdio[fd] >= 0 && c->stdio[fd] != fd && dup2(c->stdio[fd], fd) < 0) fail(err_wr, "set up stdio", NULL, errno, 0);
    }
    // Every inherited descriptor beyond stdio closes at exec; the error pipe stays usable until then.
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }

    if (c->cap_last >= 0 && c->bounding_keep) {
        for (int cap = 0; cap <= c->cap_last; cap++) {
            if (!c->bounding_keep[cap] && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
                fail(err_wr, "drop capability from the bounding set", NULL, errno, 0);
        }
    }
    // Keep the permitted set across setuid so the requested capabilities can be applied after it.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail(err_wr, "keep capabilities across setuid", NULL, errno, 0);
    // Raw system calls, not glibc's wrappers: in a child cloned from a multi-threaded parent
    // those signal every thread glibc believes exists and wait for each, and one the parent was
    // creating at the clone is waited for forever (seen: a container stuck in __nptl_setxid).
    if (syscall(SYS_setgroups, (size_t)c->group_count, c->groups) != 0) fail(err_wr, "setgroups", NULL, errno, 0);
    if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) != 0) fail(err_wr, "setgid", NULL, errno, 0);
    if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) != 0) fail(err_wr, "setuid", NULL, errno, 0);
    if (c->capabilities && cap_set_proc((cap_t)c->capabilities) != 0) fail(err_wr, "set capabilities", NULL, errno, 0);
    // Again after setuid, which clears it.
    if (c->parent_death_signal) prctl(PR_SET_PDEATHSIG, c->parent_death_signal);
    if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(err_wr, "set no_new_privs", NULL, errno, 0);
    if (c->seccomp_filter) {
        struct sock_fprog prog = {
            .len = (unsigned short)c->seccomp_filter_len,
            .filter = (struct sock_filter *)c->seccomp_filter,
        };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) fail(err_wr, "load seccomp filter", NULL, errno, 0);
    }
    exec_command(c, err_wr);
    _exit(125);
}

// struct clone_args of <linux/sched.h> up to `cgroup` (CLONE_ARGS_SIZE_VER2); spelled out because
// that header clashes with glibc's <sched.h>.
struct berth_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define BERTH_CLONE_INTO_CGROUP 0x200000000ULL

// clone3 with CLONE_INTO_CGROUP (Linux 5.7): the child starts in the cgroup behind cgroup_fd, so
// nobody has to migrate it. -1 with errno when the kernel cannot do it; the caller falls back.
static long clone_into_cgroup(int flags, int cgroup_fd) {
#ifdef SYS_clone3
    struct berth_clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = (uint64_t)(unsigned int)flags | BERTH_CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    return syscall(SYS_clone3, &args, sizeof(args));
#else
    (void)flags;
    (void)cgroup_fd;
    errno = ENOSYS;
    return -1;
#endif
}

pid_t berth_spawn(const struct berth_spawn_config *config, int *release_fd, int *error_fd, int *in_cgroup) {
    int release[2], errors[2];
    // A socket, not a pipe, so the parent can write to a child that already died without SIGPIPE.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, release) != 0) return -1;
    if (pipe2(errors, O_CLOEXEC) != 0) {
        int saved = errno;
        close(release[0]);
        close(release[1]);
        errno = saved;
        return -1;
    }
    // A raw clone behaves like fork on the caller's stack and creates the namespaces in one step;
    // the child is pid 1 of its new pid namespace.
    long pid = -1;
    int cloned_into_cgroup = 0;
    if (config->cgroup_fd >= 0) {
        pid = clone_into_cgroup(config->clone_flags, config->cgroup_fd);
        cloned_into_cgroup = pid >= 0;
    }
    *in_cgroup = cloned_into_cgroup;
    if (pid < 0) pid = syscall(SYS_clone, (unsigned long)(config->clone_flags | SIGCHLD), NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(release[1]);
        close(errors[0]);
        child_main(config, cloned_into_cgroup ? 0 : config->cgroup_join_count, release[0], errors[1]);
    }
    int saved = errno;
    close(release[0]);
    close(errors[1]);
    if (pid < 0) {
        close(release[1]);
        close(errors[0]);
        errno = saved;
        return -1;
    }
    *release_fd = release[1];
    *error_fd = errors[0];
    return (pid_t)pid;
}

int berth_release(int fd) {
    char go = 1;
    ssize_t n;
    do n = send(fd, &go, 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

int berth_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int berth_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int berth_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int berth_signalfd(const sigset_t *mask) {
    return signalfd(-1, mask, SFD_CLOEXEC);
}

int berth_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n != (ssize_t)sizeof(info)) return -1;
    return (int)info.ssi_signo;
}

int berth_statfs_type(const char *path, long *type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    *type = (long)info.f_type;
    return 0;
}

// Enters a running container for a command run in it (a health check). The middle child joins
// the container's cgroups and namespaces, then forks the command, which is then in the
// container's PID namespace too; the middle reports the command's host PID on pid_fd, waits for
// it and exits with its status (128+N for a signal). Only async-signal-safe calls: this runs in
// a fork of a multi-threaded process.
pid_t berth_enter(const struct berth_spawn_config *config, const int *cgroup_join_fds, size_t cgroup_count,
                  const int *ns_fds, size_t ns_count, int root_fd, int *error_fd, int *pid_fd) {
    int errors[2], pids[2];
    if (pipe2(errors, O_CLOEXEC) != 0) return -1;
    if (pipe2(pids, O_CLOEXEC) != 0) {
        int saved = errno;
        close(errors[0]);
        close(errors[1]);
        errno = saved;
        return -1;
    }
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(errors[0]);
        close(pids[0]);
        reset_signals();
        // Dies with the agent's thread that started it, and takes the command with it (below).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Cgroup first ("0" is the writer itself), so the command is counted and limited with
        // the task; the cgroup namespace after it, so that cgroup is its root.
        for (size_t i = 0; i < cgroup_count; i++) {
            ssize_t n;
            do n = write(cgroup_join_fds[i], "0", 1); while (n < 0 && errno == EINTR);
            if (n != 1) fail(errors[1], "join the container's cgroup", NULL, errno, 0);
        }
        // The mount namespace last: entering it changes the root, and the others are opened already.
        for (size_t i = 0; i < ns_count; i++) {
            if (setns(ns_fds[i], 0) != 0) fail(errors[1], "enter the container's namespaces", NULL, errno, 0);
        }
        // Entering a mount namespace puts us at the top of its tree, which is the container's
        // root only when the launcher's own root was the top (not under a chroot): take the
        // container process's root itself, as nsenter --root does.
        if (fchdir(root_fd) != 0 || chroot(".") != 0) fail(errors[1], "change to the container's root", NULL, errno, 0);
        long child = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
        if (child < 0) fail(errors[1], "fork the command in the container", NULL, errno, 0);
        if (child == 0) {
            close(pids[1]);
            if (config->new_session && setsid() < 0) fail(errors[1], "setsid", NULL, errno, 0);
            for (size_t i = 0; i < config->op_count; i++) {
                int err = run_op(&config->ops[i]);
                if (err) fail(errors[1], config->ops[i].label, NULL, err, 0);
            }
            finish_and_exec(config, errors[1]);
        }
        int32_t reported = (int32_t)child;
        ssize_t ignored = write(pids[1], &reported, sizeof(reported));
        (void)ignored;
        // Nothing of the agent's stays open in this process while the command runs.
        syscall(SYS_close_range, 0U, ~0U, 0U);
        int status = 0;
        while (waitpid((pid_t)child, &status, 0) < 0) {
            if (errno != EINTR) _exit(125);
        }
        if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
        _exit(WEXITSTATUS(status));
    }
    int saved = errno;
    close(errors[1]);
    close(pids[1]);
    if (pid < 0) {
        close(errors[0]);
        close(pids[0]);
        errno = saved;
        return -1;
    }
    *error_fd = errors[0];
    *pid_fd = pids[0];
    return (pid_t)pid;
}

// ---- Spawn plans (berth-supervise). Runs before any clone, in a single-threaded process:
// malloc is fine here.

struct plan_reader {
    const unsigned char *data;  // the plan's private copy: strings point into it
    size_t length, offset;
    int ok;
};

static const void *plan_take(struct plan_reader *r, size_t n) {
    if (!r->ok || n > r->length - r->offset) {
        r->ok = 0;
        return NULL;
    }
    const void *at = r->data + r->offset;
    r->offset += n;
    return at;
}

static uint32_t plan_u32(struct plan_reader *r) {
    uint32_t value = 0;
    const void *at = plan_take(r, sizeof value);
    if (at) memcpy(&value, at, sizeof value);
    return value;
}

static uint64_t plan_u64(struct plan_reader *r) {
    uint64_t value = 0;
    const void *at = plan_take(r, sizeof value);
    if (at) memcpy(&value, at, sizeof value);
    return value;
}

// A length (UINT32_MAX: none), the bytes and a NUL, which lets the string be used in place.
static const char *plan_string(struct plan_reader *r) {
    uint32_t length = plan_u32(r);
    if (!r->ok || length == UINT32_MAX) return NULL;
    const char *text = plan_take(r, (size_t)length + 1);
    if (!text || text[length] != 0) {
        r->ok = 0;
        return NULL;
    }
    return text;
}

// A count that the remaining bytes could hold at `minimum` bytes per element, so a corrupt count
// cannot make the decoder allocate without bound.
static size_t plan_count(struct plan_reader *r, size_t minimum) {
    uint32_t count = plan_u32(r);
    if (r->ok && (size_t)count * minimum > r->length - r->offset) r->ok = 0;
    return r->ok ? count : 0;
}

static void *plan_alloc(struct berth_spawn_plan *plan, size_t *used, size_t size) {
    if (*used >= sizeof plan->allocations / sizeof plan->allocations[0]) return NULL;
    void *memory = calloc(1, size ? size : 1);
    if (memory) plan->allocations[(*used)++] = memory;
    return memory;
}

static const char *const *plan_strings(struct plan_reader *r, struct berth_spawn_plan *plan, size_t *used, size_t *count_out, int terminated) {
    size_t count = plan_count(r, 4);
    const char **list = plan_alloc(plan, used, (count + 1) * sizeof(char *));
    if (!list) {
        r->ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < count && r->ok; i++) {
        list[i] = plan_string(r);
        if (terminated && !list[i]) r->ok = 0;
    }
    if (count_out) *count_out = count;
    return list;
}

void berth_spawn_plan_free(struct berth_spawn_plan *plan) {
    if (plan->config.capabilities) cap_free(plan->config.capabilities);
    for (size_t i = 0; i < sizeof plan->allocations / sizeof plan->allocations[0]; i++) free(plan->allocations[i]);
    memset(plan, 0, sizeof *plan);
}

int berth_spawn_plan_decode(const unsigned char *data, size_t length, struct berth_spawn_plan *plan) {
    memset(plan, 0, sizeof *plan);
    size_t used = 0;
    unsigned char *copy = plan_alloc(plan, &used, length);
    if (!copy) return ENOMEM;
    memcpy(copy, data, length);
    struct plan_reader r = {.data = copy, .length = length, .offset = 0, .ok = 1};
    struct berth_spawn_config *c = &plan->config;

    const char *magic = plan_take(&r, 4);
    if (!magic || memcmp(magic, "BSP2", 4) != 0) return EINVAL;
    c->clone_flags = (int)plan_u32(&r);
    c->unshare_cgroup = (int)plan_u32(&r);
    c->new_session = (int)plan_u32(&r);
    c->parent_death_signal = (int)plan_u32(&r);
    c->uid = plan_u32(&r);
    c->gid = plan_u32(&r);
    c->no_new_privs = (int)plan_u32(&r);
    c->cgroup_fd = -1;
    c->stdio[0] = c->stdio[1] = c->stdio[2] = -1;

    plan->has_capabilities = (int)plan_u32(&r);
    plan->capability_mask = plan_u64(&r);
    c->cap_last = (int)plan_u32(&r);
    if (c->cap_last >= 0) {
        if (c->cap_last > 63) r.ok = 0;
        c->bounding_keep = plan_take(&r, (size_t)c->cap_last + 1);
    }

    size_t op_count = plan_count(&r, 40);
    struct berth_op *ops = plan_alloc(plan, &used, op_count * sizeof *ops);
    if (!ops) r.ok = 0;
    for (size_t i = 0; i < op_count && r.ok; i++) {
        ops[i].kind = (int)plan_u32(&r);
        ops[i].flags = (int)plan_u32(&r);
        ops[i].mount_flags = (unsigned long)plan_u64(&r);
        ops[i].mode = plan_u32(&r);
        ops[i].label = plan_string(&r);
        ops[i].source = plan_string(&r);
        ops[i].target = plan_string(&r);
        ops[i].fstype = plan_string(&r);
        ops[i].data = plan_string(&r);
        if (!ops[i].label) r.ok = 0;
    }
    c->ops = ops;
    c->op_count = op_count;

    size_t argc = 0;
    c->argv = plan_strings(&r, plan, &used, &argc, 1);
    if (argc == 0) r.ok = 0;
    c->envp = plan_strings(&r, plan, &used, NULL, 1);
    c->path = plan_string(&r);

    size_t group_count = plan_count(&r, 4);
    gid_t *groups = plan_alloc(plan, &used, group_count * sizeof *groups);
    if (!groups) r.ok = 0;
    for (size_t i = 0; i < group_count && r.ok; i++) groups[i] = plan_u32(&r);
    c->groups = groups;
    c->group_count = group_count;

    size_t instructions = plan_count(&r, 8);
    if (instructions > 0) {
        // Its own allocation: the kernel reads struct sock_filter, which wants 4-byte alignment.
        void *filter = plan_alloc(plan, &used, instructions * 8);
        const void *bytes = plan_take(&r, instructions * 8);
        if (!filter || !bytes) r.ok = 0;
        else memcpy(filter, bytes, instructions * 8);
        c->seccomp_filter = filter;
        c->seccomp_filter_len = instructions;
    }

    plan->clone_cgroup = plan_string(&r);
    plan->cgroup_join_files = plan_strings(&r, plan, &used, &plan->cgroup_join_count, 1);

    if (!r.ok || r.offset != r.length) {
        berth_spawn_plan_free(plan);
        return EINVAL;
    }
    if (plan->has_capabilities) {
        cap_t caps = cap_init();
        if (!caps) {
            berth_spawn_plan_free(plan);
            return ENOMEM;
        }
        for (cap_value_t cap = 0; cap < 64; cap++) {
            if (!(plan->capability_mask & (1ULL << cap))) continue;
            for (int flag = 0; flag < 3; flag++) {
                cap_flag_t which = flag == 0 ? CAP_EFFECTIVE : flag == 1 ? CAP_PERMITTED : CAP_INHERITABLE;
                if (cap_set_flag(caps, which, 1, &cap, CAP_SET) != 0) {
                    cap_free(caps);
                    berth_spawn_plan_free(plan);
                    return EINVAL;
                }
            }
        }
        c->capabilities = caps;
    }
    return 0;
}
