// berth-supervise [--logs SANDBOX MAXBYTES KEEP] DIR HELPER [ARG...]: the parent of one
// container, so it outlives the agent.
//
// Makes itself a child subreaper, runs HELPER (`berth container-start DIR`), which starts the
// container, writes its PID to DIR/pid and exits: the orphaned container is reparented here.
// When the container's main process exits, its wait status goes to DIR/exit (written to a
// temporary file, synced and renamed, so a reader sees all of it or nothing) and the supervisor
// exits. A restarted agent finds the supervisor (or the exit file) again. Plain C with no
// allocation after start: its memory is a few pages, not a runtime.
//
// With --logs, the helper and the container write into pipes; the supervisor copies them into
// SANDBOX/stdout and SANDBOX/stderr and, when one reaches MAXBYTES, renames it to .1 (the older
// ones to .2 ... .KEEP, the oldest dropped) and starts a new one, as Mesos'
// LogrotateContainerLogger does. A task writing without end thus fills at most
// (KEEP + 1) * MAXBYTES per stream. The pipes are drained before the exit is recorded, so a
// reader that sees the task ended sees all of its output.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static int write_exit(const char *dir, int status) {
    char path[PATH_MAX], temporary[PATH_MAX], text[32];
    snprintf(path, sizeof path, "%s/exit", dir);
    snprintf(temporary, sizeof temporary, "%s/exit.tmp", dir);
    int length = snprintf(text, sizeof text, "%d\n", status);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int ok = write(fd, text, (size_t)length) == length && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(temporary, path) != 0) return -1;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0) { fsync(dirfd); close(dirfd); }
    return 0;
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
    if (argc < 3) {
        fprintf(stderr, "usage: berth-supervise [--logs SANDBOX MAXBYTES KEEP] DIR HELPER [ARG...]\n");
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

    pid_t helper = fork();
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

    for (int i = 0; i < nlogs; i++) close(writers[i]);

    // The container may be reaped before the helper (both end up here in any order): remember
    // what was reaped until the container's PID is known.
    pid_t reaped[REMEMBERED];
    int statuses[REMEMBERED];
    int count = 0;
    pid_t container = -1;
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
