// berth-supervise [--logs SANDBOX MAXBYTES KEEP] DIR [HELPER [ARG...]]: the parent of one
// container, so it outlives the agent.
//
// Makes itself a child subreaper and starts the container. Without HELPER (how the agent runs
// it), it reads a launch plan from stdin, a socket (BerthLinux's SupervisorPlan: every mount,
// the user, the capabilities, the compiled seccomp filter and the cgroup, all decided by the
// agent), clones the container with the C launcher (it joins its cgroup itself), writes its PID to
// DIR/pid and answers on the same socket: "pid N", "step HINT ERRNO STEP" (a setup step in the
// container failed; HINT is 125, 126 or 127 as docker run exits) or "error TEXT". With HELPER,
// it runs HELPER instead, which starts the container, writes DIR/pid and exits; the orphaned
// container is reparented here.
//
// Descriptor 3, when open, is the detached mount of the container's root filesystem, attached in
// the container and closed here once it has; descriptor 4, when open, holds the lock of the
// rootfs directory (a flock, which lasts while any copy of the descriptor is open), kept open
// until the supervisor exits so that image garbage collection leaves the directory alone while
// the container runs, whether or not the agent does. The container closes both before it execs.
//
// When the container's main process exits, its wait status goes to DIR/exit (written to a
// temporary file, synced and renamed, so a reader sees all of it or nothing) and the supervisor
// exits. A restarted agent finds the supervisor (or the exit file) again. Plain C with no
// allocation once the container runs: its memory is a few pages, not a runtime.
//
// With --logs, the container writes into pipes; the supervisor copies them into SANDBOX/stdout
// and SANDBOX/stderr and, when one reaches MAXBYTES, renames it to .1 (the older ones to .2 ...
// .KEEP, the oldest dropped) and starts a new one, as Mesos' LogrotateContainerLogger does. A
// task writing without end thus fills at most (KEEP + 1) * MAXBYTES per stream. The pipes are
// drained before the exit is recorded, so a reader that sees the task ended sees all of its
// output.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth_shim.h"

enum { REMEMBERED = 64 };

// A no-op handler rather than SIG_IGN: ignored dispositions would be inherited across exec by
// the helper and the container; handlers are reset by exec.
static void ignore(int sig) { (void)sig; }

static int read_pid(const char *dir) {
    char path[PATH_MAX], text[32] = {0};
    snprintf(path, sizeof path, "%s/pid", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    return n > 0 ? atoi(text) : -1;
}

// DIR/NAME holding text, all or nothing: a temporary file renamed into place. Synced when it must
// survive a crash of the machine, not only of the agent.
static int write_file(const char *dir, const char *name, const char *text, int sync) {
    char path[PATH_MAX], temporary[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(temporary, sizeof temporary, "%s/%s.tmp", dir, name);
    size_t length = strlen(text);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int ok = write(fd, text, length) == (ssize_t)length && (!sync || fsync(fd) == 0);
    close(fd);
    if (!ok || rename(temporary, path) != 0) return -1;
    if (sync) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd >= 0) { fsync(dirfd); close(dirfd); }
    }
    return 0;
}

static int write_exit(const char *dir, int status) {
    char text[32];
    snprintf(text, sizeof text, "%d\n", status);
    return write_file(dir, "exit", text, 1);
}

// One rotated log: the sandbox directory (opened once, so renames and opens happen in it
// whatever the task does to paths), the file's name, its size and the open descriptor.
struct log {
    int dirfd, fd, pipe;
    const char *name;
    long long size, max;
    int keep;
};

// Opens NAME afresh in the sandbox. O_NOFOLLOW: the task can write into its sandbox and must not
// make the supervisor (root) write through a link it planted; such a link is removed.
static int log_open(struct log *l, int truncate) {
    for (int attempt = 0; attempt < 2; attempt++) {
        l->fd = openat(l->dirfd, l->name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
        if (l->fd >= 0) break;
        if (errno != ELOOP) return -1;
        unlinkat(l->dirfd, l->name, 0);
    }
    if (l->fd < 0) return -1;
    struct stat st;
    l->size = fstat(l->fd, &st) == 0 ? (long long)st.st_size : 0;
    return 0;
}

static void log_rotate(struct log *l) {
    char from[NAME_MAX + 16], to[NAME_MAX + 16];
    close(l->fd);
    for (int i = l->keep - 1; i >= 1; i--) {
        snprintf(from, sizeof from, "%s.%d", l->name, i);
        snprintf(to, sizeof to, "%s.%d", l->name, i + 1);
        renameat(l->dirfd, from, l->dirfd, to);
    }
    if (l->keep > 0) {
        snprintf(to, sizeof to, "%s.1", l->name);
        renameat(l->dirfd, l->name, l->dirfd, to);
    }
    // With nothing to keep, the file starts over (truncated).
    if (log_open(l, l->keep == 0) != 0) l->fd = -1;
}

static void log_write(struct log *l, const char *data, size_t n) {
    while (n > 0 && l->fd >= 0) {
        if (l->max > 0 && l->size >= l->max) {
            log_rotate(l);
            continue;
        }
        size_t room = l->max > 0 ? (size_t)(l->max - l->size) : n;
        ssize_t written = write(l->fd, data, n < room ? n : room);
        if (written < 0) {
            if (errno == EINTR) continue;
            return;  // A full disk loses output rather than blocking the task on a full pipe.
        }
        l->size += written;
        data += written;
        n -= (size_t)written;
    }
}

static char buffer[8192];

// Copies what the pipe holds now; returns 0 at end of file (every writer gone).
static int log_pump(struct log *l) {
    for (;;) {
        ssize_t n = read(l->pipe, buffer, sizeof buffer);
        if (n > 0) { log_write(l, buffer, (size_t)n); continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        close(l->pipe);
        l->pipe = -1;
        return 0;
    }
}

static int finish(struct log *logs, int nlogs, const char *dir, int status) {
    for (int i = 0; i < nlogs; i++) {
        if (logs[i].pipe >= 0) log_pump(&logs[i]);
        if (logs[i].fd >= 0) fsync(logs[i].fd);
    }
    return write_exit(dir, status) == 0 ? 0 : 1;
}

// The answer to the agent on the plan's socket; it may be gone (MSG_NOSIGNAL), which changes
// nothing. Why a start failed also goes to stderr, the task's own, where its user looks.
static void reply(int sock, const char *format, ...) {
    char text[1024];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (length < 0) return;
    if ((size_t)length >= sizeof text) length = (int)sizeof text - 1;
    if (strncmp(text, "error ", 6) == 0) fprintf(stderr, "berth-supervise: cannot start the container: %s", text + 6);
    for (int sent = 0; sent < length;) {
        ssize_t n = send(sock, text + sent, (size_t)(length - sent), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += (int)n;
    }
}

// Everything on fd until end of file, in a buffer the caller frees; NULL with errno set.
static unsigned char *read_all(int fd, size_t *length) {
    size_t capacity = 65536, used = 0;
    unsigned char *data = malloc(capacity);
    if (!data) return NULL;
    for (;;) {
        if (used == capacity) {
            unsigned char *bigger = capacity < (64u << 20) ? realloc(data, capacity * 2) : NULL;
            if (!bigger) { free(data); errno = EFBIG; return NULL; }
            data = bigger;
            capacity *= 2;
        }
        ssize_t n = read(fd, data + used, capacity - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { int saved = errno; free(data); errno = saved; return NULL; }
        if (n == 0) break;
        used += (size_t)n;
    }
    *length = used;
    return data;
}

// Starts the container from the plan on stdin (see the top of this file); its PID, or -1 once
// the agent has been told why not.
static pid_t spawn_from_plan(const char *dir, const int writers[2], int nlogs) {
    // The socket stays for the answer; the container gets /dev/null as stdin, as before.
    int sock = fcntl(0, F_DUPFD_CLOEXEC, 3);
    size_t length = 0;
    unsigned char *data = sock >= 0 ? read_all(sock, &length) : NULL;
    int read_err = errno;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) { dup2(null, 0); close(null); }
    if (!data) {
        reply(sock, "error read the launch plan: %s\n", strerror(read_err));
        return -1;
    }
    struct berth_spawn_plan plan;
    int err = berth_spawn_plan_decode(data, length, &plan);
    free(data);
    if (err) {
        reply(sock, "error the launch plan (%zu bytes) cannot be read (%s): the agent and berth-supervise must come from the same build\n",
              length, strerror(err));
        return -1;
    }
    for (int i = 0; i < nlogs; i++) plan.config.stdio[i + 1] = writers[i];
    if (plan.clone_cgroup) plan.config.cgroup_fd = open(plan.clone_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    // The child writes "0" into these unless the clone put it into its cgroup (see berth_spawn).
    int join_fds[16];
    if (plan.cgroup_join_count > sizeof join_fds / sizeof join_fds[0]) {
        reply(sock, "error the launch plan names %zu cgroup files, more than %zu\n", plan.cgroup_join_count,
              sizeof join_fds / sizeof join_fds[0]);
        if (plan.config.cgroup_fd >= 0) close(plan.config.cgroup_fd);
        berth_spawn_plan_free(&plan);
        return -1;
    }
    for (size_t i = 0; i < plan.cgroup_join_count; i++) {
        join_fds[i] = open(plan.cgroup_join_files[i], O_WRONLY | O_CLOEXEC);
        if (join_fds[i] < 0) {
            reply(sock, "error open %s to join the container's cgroup: %s\n", plan.cgroup_join_files[i], strerror(errno));
            while (i > 0) close(join_fds[--i]);
            if (plan.config.cgroup_fd >= 0) close(plan.config.cgroup_fd);
            berth_spawn_plan_free(&plan);
            return -1;
        }
    }
    plan.config.cgroup_join_fds = join_fds;
    plan.config.cgroup_join_paths = plan.cgroup_join_files;
    plan.config.cgroup_join_count = plan.cgroup_join_count;

    int release = -1, errors = -1, in_cgroup = 0;
    pid_t pid = berth_spawn(&plan.config, &release, &errors, &in_cgroup);
    int spawn_err = errno;
    if (plan.config.cgroup_fd >= 0) close(plan.config.cgroup_fd);
    for (size_t i = 0; i < plan.cgroup_join_count; i++) close(join_fds[i]);
    if (pid < 0) {
        reply(sock, "error clone the container process: %s\n", strerror(spawn_err));
        berth_spawn_plan_free(&plan);
        return -1;
    }
    // A failed release (EPIPE) means the child already failed a step: its report says which.
    berth_release(release);
    close(release);

    struct berth_child_error report;
    size_t got = 0;
    while (got < sizeof report) {
        ssize_t n = read(errors, (char *)&report + got, sizeof report - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(errors);
    // The container attached its root filesystem (or failed): its mount namespace alone holds it
    // from now on, and it goes away with the container.
    for (size_t i = 0; i < plan.config.op_count; i++) {
        if (plan.config.ops[i].kind == BERTH_OP_MOVE_MOUNT) close((int)plan.config.ops[i].mode);
    }
    if (got == sizeof report) {
        report.step[sizeof report.step - 1] = 0;
        fprintf(stderr, "berth-supervise: cannot start the container: %s: %s\n", report.step, strerror(report.err));
        reply(sock, "step %d %d %s\n", report.exit_hint == 0 ? 125 : report.exit_hint, report.err, report.step);
    } else if (got != 0) {
        reply(sock, "error container setup (truncated error report)\n");
    }
    if (got != 0) {
        waitpid(pid, NULL, 0);
        berth_spawn_plan_free(&plan);
        return -1;
    }
    berth_spawn_plan_free(&plan);
    char text[32];
    snprintf(text, sizeof text, "%d\n", pid);
    // Not synced: a reboot ends the container too; the agent only has to survive its own crash.
    if (write_file(dir, "pid", text, 0) != 0) {
        reply(sock, "error write %s/pid: %s\n", dir, strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    reply(sock, "pid %d\n", pid);
    close(sock);
    return pid;
}

int main(int argc, char **argv) {
    struct log logs[2];
    int nlogs = 0;
    if (argc >= 6 && strcmp(argv[1], "--logs") == 0) {
        int dirfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
            fprintf(stderr, "berth-supervise: open the sandbox %s: %s\n", argv[2], strerror(errno));
            return 125;
        }
        const char *names[2] = {"stdout", "stderr"};
        for (int i = 0; i < 2; i++) {
            logs[i] = (struct log){.dirfd = dirfd, .fd = -1, .pipe = -1, .name = names[i], .max = atoll(argv[3]), .keep = atoi(argv[4])};
            if (log_open(&logs[i], 0) != 0) {
                fprintf(stderr, "berth-supervise: open %s/%s: %s\n", argv[2], names[i], strerror(errno));
                return 125;
            }
        }
        nlogs = 2;
        argv += 4;
        argc -= 4;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: berth-supervise [--logs SANDBOX MAXBYTES KEEP] DIR [HELPER [ARG...]] (without HELPER: a launch plan on stdin)\n");
        return 2;
    }
    const char *dir = argv[1];
    setsid();
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        fprintf(stderr, "berth-supervise: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
        return 125;
    }
    struct sigaction action = {0};
    action.sa_handler = ignore;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);

    // SIGCHLD through a signalfd, so one poll() waits for both exits and output.
    sigset_t childSignals, previous;
    sigemptyset(&childSignals);
    sigaddset(&childSignals, SIGCHLD);
    sigprocmask(SIG_BLOCK, &childSignals, &previous);
    int sigfd = signalfd(-1, &childSignals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        fprintf(stderr, "berth-supervise: signalfd: %s\n", strerror(errno));
        return 125;
    }
    int writers[2] = {-1, -1};
    for (int i = 0; i < nlogs; i++) {
        int ends[2];
        if (pipe2(ends, O_CLOEXEC) != 0) {
            fprintf(stderr, "berth-supervise: pipe: %s\n", strerror(errno));
            return 125;
        }
        logs[i].pipe = ends[0];
        writers[i] = ends[1];
        fcntl(ends[0], F_SETFL, O_NONBLOCK);
    }

    pid_t helper = -1, container = -1;
    if (argc == 2) {
        container = spawn_from_plan(dir, writers, nlogs);
        if (container < 0) return 125;
    } else {
        helper = fork();
        if (helper < 0) {
            fprintf(stderr, "berth-supervise: fork: %s\n", strerror(errno));
            return 125;
        }
        if (helper == 0) {
            // dup2 clears close-on-exec on the copies: the helper (and the container) write there.
            for (int i = 0; i < nlogs; i++) dup2(writers[i], i + 1);
            sigprocmask(SIG_SETMASK, &previous, NULL);
            execv(argv[2], argv + 2);
            fprintf(stderr, "berth-supervise: exec %s: %s\n", argv[2], strerror(errno));
            _exit(127);
        }
    }

    for (int i = 0; i < nlogs; i++) close(writers[i]);

    // The container may be reaped before the helper (both end up here in any order): remember
    // what was reaped until the container's PID is known.
    pid_t reaped[REMEMBERED];
    int statuses[REMEMBERED];
    int count = 0;
    for (;;) {
        struct pollfd fds[3] = {{.fd = sigfd, .events = POLLIN}};
        for (int i = 0; i < nlogs; i++) fds[i + 1] = (struct pollfd){.fd = logs[i].pipe, .events = POLLIN};
        if (poll(fds, (nfds_t)(nlogs + 1), -1) < 0 && errno != EINTR) {
            fprintf(stderr, "berth-supervise: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < nlogs; i++) {
            if (logs[i].pipe >= 0 && fds[i + 1].revents) log_pump(&logs[i]);
        }
        struct signalfd_siginfo info;
        while (read(sigfd, &info, sizeof info) > 0) {}
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid == 0) break;
            if (pid < 0) {
                if (errno == EINTR) continue;
                // No child left without the container's exit: it was never started or never seen.
                return container < 0 ? 125 : 1;
            }
            if (pid == helper) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    for (int i = 0; i < nlogs; i++) if (logs[i].pipe >= 0) log_pump(&logs[i]);
                    return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
                }
                container = read_pid(dir);
                if (container <= 0) return 125;
                for (int i = 0; i < count; i++) {
                    if (reaped[i] == container) return finish(logs, nlogs, dir, statuses[i]);
                }
                continue;
            }
            if (pid == container) return finish(logs, nlogs, dir, status);
            if (container < 0 && count < REMEMBERED) {
                reaped[count] = pid;
                statuses[count] = status;
                count++;
            }
        }
    }
}
