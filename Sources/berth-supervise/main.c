// berth-supervise DIR HELPER [ARG...]: the parent of one container, so it outlives the agent.
//
// Makes itself a child subreaper, runs HELPER (`berth container-start DIR`), which starts the
// container, writes its PID to DIR/pid and exits: the orphaned container is reparented here.
// When the container's main process exits, its wait status goes to DIR/exit (written to a
// temporary file, synced and renamed, so a reader sees all of it or nothing) and the supervisor
// exits. A restarted agent finds the supervisor (or the exit file) again. Plain C with no
// allocation after start: its memory is a few pages, not a runtime.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: berth-supervise DIR HELPER [ARG...]\n");
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

    pid_t helper = fork();
    if (helper < 0) {
        fprintf(stderr, "berth-supervise: fork: %s\n", strerror(errno));
        return 125;
    }
    if (helper == 0) {
        execv(argv[2], argv + 2);
        fprintf(stderr, "berth-supervise: exec %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }

    // The container may be reaped before the helper (both end up here in any order): remember
    // what was reaped until the container's PID is known.
    pid_t reaped[REMEMBERED];
    int statuses[REMEMBERED];
    int count = 0;
    pid_t container = -1;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            // No child left without the container's exit: it was never started or never seen.
            return container < 0 ? 125 : 1;
        }
        if (pid == helper) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
            container = read_pid(dir);
            if (container <= 0) return 125;
            for (int i = 0; i < count; i++) {
                if (reaped[i] == container) return write_exit(dir, statuses[i]) == 0 ? 0 : 1;
            }
            continue;
        }
        if (pid == container) return write_exit(dir, status) == 0 ? 0 : 1;
        if (container < 0 && count < REMEMBERED) {
            reaped[count] = pid;
            statuses[count] = status;
            count++;
        }
    }
}
