#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

// The container launcher's C half. Swift builds the whole plan (every mount, the user, the
// capabilities, the compiled seccomp filter) before the clone; the child runs only this C code,
// using async-signal-safe calls, until it execs. Swift never runs between clone and exec.

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

// One filesystem or host step of the container setup, executed in order inside the child.
enum berth_op_kind {
    BERTH_OP_MOUNT = 1,       // mount(source, target, fstype, mount_flags, data)
    BERTH_OP_MKDIR = 2,       // mkdir -p target (mode)
    BERTH_OP_TOUCH = 3,       // create target as an empty file (mode) unless it exists
    BERTH_OP_SYMLINK = 4,     // symlink target -> source, an existing entry is left alone
    BERTH_OP_MASK = 5,        // hide target: read-only tmpfs over a directory, /dev/null over a file
    BERTH_OP_READONLY = 6,    // bind target onto itself and remount it read-only
    BERTH_OP_PIVOT_ROOT = 7,  // make target the root (pivot_root), detach the old root
    BERTH_OP_SETHOSTNAME = 8, // sethostname(source)
    BERTH_OP_LOOPBACK_UP = 9, // bring "lo" up in the container's network namespace
    BERTH_OP_CHDIR = 10,      // chdir target, creating it (mode) when missing
    BERTH_OP_MOVE_MOUNT = 11, // attach the detached mount (fsmount) open as descriptor `mode` at target
    BERTH_OP_WRITE_FILE = 12, // create target (mode; it must not exist) holding data
    BERTH_OP_UNLINK = 13,     // remove the file target
};

// A missing path (ENOENT) is not an error for this op: the image simply lacks it.
#define BERTH_OP_OPTIONAL 1

struct berth_op {
    int kind;
    int flags;
    const char *label;  // the step as a user reads it: "mount /proc"
    const char *source;
    const char *target;
    const char *fstype;
    const char *data;
    unsigned long mount_flags;
    unsigned int mode;
};

struct berth_spawn_config {
    int clone_flags;            // CLONE_NEW* namespaces created by the clone
    int unshare_cgroup;         // unshare CLONE_NEWCGROUP once the child is in its cgroup
    int cgroup_fd;              // >= 0: start the child in this cgroup (v2, clone3); -1: it joins one below
    // Open files the child writes "0" into, first thing, when it was not cloned into cgroup_fd's
    // cgroup: v1 `tasks` files (a single thread moving itself skips the kernel's threadgroup lock,
    // whose RCU grace period makes a move by PID wait ~10 ms), or v2 `cgroup.procs`.
    const int *cgroup_join_fds;
    const char *const *cgroup_join_paths; // the same files, for an error report
    size_t cgroup_join_count;
    int new_session;            // setsid()
    int parent_death_signal;    // 0: none
    int stdio[3];               // fds to dup2 onto 0, 1, 2; -1 keeps the inherited one

    const struct berth_op *ops;
    size_t op_count;

    const char *const *argv;    // argv[0] is looked up in path when it has no '/'
    const char *const *envp;
    const char *path;           // PATH inside the container, for the lookup

    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t group_count;

    void *capabilities;         // a libcap cap_t, applied with cap_set_proc; NULL: leave as is
    const unsigned char *bounding_keep; // [cap_last + 1] booleans: 1 keeps the cap in the bounding set
    int cap_last;               // -1: leave the bounding set alone

    int no_new_privs;
    const void *seccomp_filter; // struct sock_filter[]; NULL: no filter
    size_t seccomp_filter_len;  // instructions
};

// A launch that another process performs: berth_spawn's configuration and the cgroup to start
// the child in, decoded from the bytes the agent writes (BerthLinux's SupervisorPlan documents the
// layout). berth-supervise reads one, so starting a container runs no Swift code at all.
struct berth_spawn_plan {
    struct berth_spawn_config config;
    const char *clone_cgroup;        // v2: clone the child into this cgroup directory; NULL: it joins
    const char *const *cgroup_join_files; // when not cloned into it: the child writes "0" to each
    size_t cgroup_join_count;
    uint64_t capability_mask;        // what config.capabilities holds (effective, permitted, inheritable)
    int has_capabilities;
    void *allocations[8];            // freed by berth_spawn_plan_free
};

// Fills *plan from data. 0, or EINVAL when the bytes are not a whole plan of this version (the
// agent and the supervisor come from different builds, or the file is truncated), ENOMEM.
int berth_spawn_plan_decode(const unsigned char *data, size_t length, struct berth_spawn_plan *plan);
void berth_spawn_plan_free(struct berth_spawn_plan *plan);

// What a failed child reports before it exits: the step and the errno.
struct berth_child_error {
    int32_t err;
    int32_t exit_hint;  // 0 setup, 126 found but cannot run, 127 not found
    char step[504];
};

// Clones the child, into config->cgroup_fd's cgroup when the kernel can (then *in_cgroup is 1);
// otherwise the child first joins its cgroup through config's join files. It then waits on
// *release_fd (berth_release lets it go, close aborts) before it leaves the parent's cgroup
// namespace and starts the setup, so the parent can still abort the launch. *error_fd
// yields a struct berth_child_error on failure or EOF once the exec succeeded. Returns the pid or
// -1 with errno set.
pid_t berth_spawn(const struct berth_spawn_config *config, int *release_fd, int *error_fd, int *in_cgroup);
// Runs config's command inside a running container: joins the cgroups behind cgroup_join_fds
// (open v1 `tasks` or v2 `cgroup.procs` files) and the namespaces of ns_fds (in order, mount last), makes root_fd (the
// container process's /proc/PID/root) its root, then forks the
// command there (config's ops run before its exec; clone_flags, stdio and the rest as in
// berth_spawn). Returns the PID of the process in between, which exits with the command's status
// (128+N for signal N; 125 when entering failed, with the step on *error_fd). *pid_fd yields the
// command's PID (int32) once it was forked. -1 with errno set when nothing was started.
pid_t berth_enter(const struct berth_spawn_config *config, const int *cgroup_join_fds, size_t cgroup_count,
                  const int *ns_fds, size_t ns_count, int root_fd, int *error_fd, int *pid_fd);
// Sends the release byte; -1 with errno (EPIPE: the child is gone) without raising SIGPIPE.
int berth_release(int fd);

int berth_pidfd_open(pid_t pid);
// pipe2(fds, O_CLOEXEC), which Glibc's module map leaves out: no other thread's fork inherits it.
int berth_pipe_cloexec(int fds[2]);
// statfs(2)'s f_type for path (Glibc's module map leaves out <sys/statfs.h>); -1 with errno on error.
int berth_statfs_type(const char *path, long *type);
// A close-on-exec signalfd for the signals in mask; read with berth_signalfd_read.
int berth_signalfd(const sigset_t *mask);
// The number of the next pending signal, or -1 with errno set.
int berth_signalfd_read(int fd);
int berth_pidfd_send_signal(int pidfd, int sig);

#endif
