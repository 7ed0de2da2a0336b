/*
 * probe — a small static multi-call tool that Berth's tests run inside
 * containers to observe what the runtime did (limits, capabilities, seccomp,
 * file descriptors, signals, ...).
 *
 * Every result is printed to stdout as `key=value`, one per line, so tests
 * can parse the output without caring about order. Diagnostics go to stderr.
 * Usage errors exit with status 2.
 *
 * See rootfs/README.md for the list of subcommands and their output.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static const char *prog = "probe";

/* ---------------------------------------------------------------- helpers */

struct name_entry {
    int value;
    const char *name;
};

#define E(x) { x, #x }
static const struct name_entry errno_names[] = {
    E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
    E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
    E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
    E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
    E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE),
    E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS),
    E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(ENODATA), E(ETIME), E(EOVERFLOW),
    E(EBADFD), E(EUSERS), E(ENOTSOCK), E(EOPNOTSUPP), E(EADDRINUSE),
    E(ENETDOWN), E(ENETUNREACH), E(ECONNREFUSED), E(ETIMEDOUT), E(EALREADY),
    E(EINPROGRESS), E(ESTALE), E(EDQUOT), E(ECANCELED), E(ENOKEY),
    E(EKEYEXPIRED), E(EKEYREVOKED), E(EKEYREJECTED), E(EOWNERDEAD),
    E(ENOTRECOVERABLE), E(ERFKILL), E(EHWPOISON),
};

static const struct name_entry signal_names[] = {
    E(SIGHUP), E(SIGINT), E(SIGQUIT), E(SIGILL), E(SIGTRAP), E(SIGABRT),
    E(SIGBUS), E(SIGFPE), E(SIGKILL), E(SIGUSR1), E(SIGSEGV), E(SIGUSR2),
    E(SIGPIPE), E(SIGALRM), E(SIGTERM), E(SIGSTKFLT), E(SIGCHLD), E(SIGCONT),
    E(SIGSTOP), E(SIGTSTP), E(SIGTTIN), E(SIGTTOU), E(SIGURG), E(SIGXCPU),
    E(SIGXFSZ), E(SIGVTALRM), E(SIGPROF), E(SIGWINCH), E(SIGIO), E(SIGPWR),
    E(SIGSYS),
};
#undef E

/* Symbolic errno name ("EPERM"); unknown values become "errno_N". */
static const char *errno_name(int err)
{
    static char buf[32];
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == err)
            return errno_names[i].name;
    snprintf(buf, sizeof buf, "errno_%d", err);
    return buf;
}

/* Symbolic signal name ("SIGSYS"); unknown values become "signal_N". */
static const char *signal_name(int sig)
{
    static char buf[32];
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (signal_names[i].value == sig)
            return signal_names[i].name;
    snprintf(buf, sizeof buf, "signal_%d", sig);
    return buf;
}

static void out(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print one `key=value` line and flush it immediately. */
static void out(const char *key, const char *fmt, ...)
{
    va_list ap;
    printf("%s=", key);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s SUBCOMMAND [ARGS]\n"
            "  alloc MIB            allocate and touch MIB mebibytes\n"
            "  spin SECONDS         busy-loop for SECONDS of wall-clock time\n"
            "  syscalls NAME...     try syscalls, report OK or errno name\n"
            "  fork N               fork N sleeping children, report failures\n"
            "  caps                 capabilities, seccomp, ids, hostname, cwd\n"
            "  fds                  list open file descriptors\n"
            "  exit N               exit with status N\n"
            "  signal N             raise signal N with the default action\n"
            "  sleep SECONDS        sleep\n"
            "  trap-term CODE       print ready=1, exit with CODE on SIGTERM\n"
            "  write PATH           try to write \"1\" to PATH\n",
            prog);
}

static _Noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nrun '%s --help' for the list of subcommands\n", prog);
    exit(2);
}

/* Parse a non-negative integer no larger than max, or fail with usage. */
static unsigned long parse_count(const char *what, const char *s,
                                 unsigned long max)
{
    char *end;
    errno = 0;
    if (s[0] == '-' || s[0] == '+' || s[0] == '\0')
        usage_error("invalid %s: '%s'", what, s);
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        usage_error("invalid %s: '%s'", what, s);
    return v;
}

/* Parse a non-negative, finite, possibly fractional number of seconds. */
static double parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    if (s[0] == '-' || s[0] == '\0')
        usage_error("invalid SECONDS: '%s'", s);
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0) || v > 1e9)
        usage_error("invalid SECONDS: '%s'", s);
    return v;
}

static double ts_seconds(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double clock_seconds(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return ts_seconds(&ts);
}

/* Sleep for `seconds`, resuming after signal interruptions. */
static void sleep_seconds(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ alloc */

static int cmd_alloc(int argc, char **argv)
{
    if (argc != 1)
        usage_error("alloc takes exactly one argument (MIB)");
    unsigned long mib = parse_count("MIB", argv[0], 1UL << 30);

    /* Chain the chunks together so every allocation stays reachable. */
    void *head = NULL;
    for (unsigned long i = 0; i < mib; i++) {
        char *chunk = malloc(MIB);
        if (chunk == NULL) {
            out("error", "ENOMEM");
            return 1;
        }
        /* Touch every page with a non-zero pattern. */
        memset(chunk, (int)(0x5a ^ (i & 0xff)) | 1, MIB);
        memcpy(chunk, &head, sizeof head);
        head = chunk;
        /* Keep the compiler from eliding the stores. */
        __asm__ volatile("" : : "r"(chunk) : "memory");
        out("allocated_mib", "%lu", i + 1);
    }
    __asm__ volatile("" : : "r"(head) : "memory");
    out("done", "1");
    return 0;
}

/* ------------------------------------------------------------------- spin */

static int cmd_spin(int argc, char **argv)
{
    if (argc != 1)
        usage_error("spin takes exactly one argument (SECONDS)");
    double seconds = parse_seconds(argv[0]);

    double wall0 = clock_seconds(CLOCK_MONOTONIC);
    double cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    double wall = 0.0;
    volatile unsigned long sink = 0;
    do {
        for (int i = 0; i < 10000; i++)
            sink += (unsigned long)i;
        wall = clock_seconds(CLOCK_MONOTONIC) - wall0;
    } while (wall < seconds);
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

    out("wall_seconds", "%.3f", wall);
    out("cpu_seconds", "%.3f", cpu);
    return 0;
}

/* --------------------------------------------------------------- syscalls */

static const char probe_missing_path[] = "/berth-probe-nonexistent";

/* Each test returns 0 on success or an errno value. `isolated` is true when
 * running in a throwaway child process, where side effects on the calling
 * process (ptrace, personality, chroot, namespaces) do not matter. */
typedef int (*syscall_test)(int isolated);

static int result(long rc)
{
    return rc < 0 ? (errno != 0 ? errno : EINVAL) : 0;
}

static int t_keyctl(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
                          KEY_SPEC_SESSION_KEYRING, 0));
}

static int t_add_key(int isolated)
{
    (void)isolated;
    /* The process keyring dies with the process. */
    return result(syscall(SYS_add_key, "user", "berth-probe", "x", (size_t)1,
                          KEY_SPEC_PROCESS_KEYRING));
}

static int t_request_key(int isolated)
{
    (void)isolated;
    /* No callout info: never upcalls; ENOKEY when allowed. */
    return result(syscall(SYS_request_key, "user", "berth-probe-none", NULL,
                          0));
}

static int t_unshare(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_unshare, CLONE_NEWUTS));
}

static int t_mount(int isolated)
{
    (void)isolated;
    long rc = syscall(SYS_mount, "none", "/tmp", "tmpfs", 0UL, NULL);
    int err = result(rc);
    if (rc == 0)
        umount2("/tmp", MNT_DETACH);
    return err;
}

static int t_umount2(int isolated)
{
    (void)isolated;
    /* ENOENT (or EPERM without CAP_SYS_ADMIN) when allowed. */
    return result(syscall(SYS_umount2, probe_missing_path, 0));
}

static int t_setns(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_setns, -1, 0)); /* EBADF when allowed */
}

static int t_ptrace(int isolated)
{
    if (isolated) /* the throwaway child becomes traceable by its parent */
        return result(syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
    /* In-process fallback: never attach; ESRCH when allowed. */
    return result(syscall(SYS_ptrace, PTRACE_PEEKDATA, getpid(), NULL, NULL));
}

static int t_bpf(int isolated)
{
    (void)isolated;
    /* NULL attr with a non-zero size: EFAULT when allowed. */
    return result(syscall(SYS_bpf, BPF_PROG_LOAD, NULL,
                          (unsigned int)sizeof(union bpf_attr)));
}

static int t_reboot(int isolated)
{
    (void)isolated;
    /* Wrong magic: EINVAL when allowed (after the CAP_SYS_BOOT check). */
    return result(syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, NULL));
}

static int t_kexec_load(int isolated)
{
    (void)isolated;
    /* A bogus architecture in the flags makes the kernel reject the call
     * with EINVAL after the capability check; with nr_segments == 0 and a
     * valid arch it would unload the loaded kexec image instead. */
    unsigned long bogus_arch = 0x7fffUL << 16;
    return result(syscall(SYS_kexec_load, 0UL, 0UL, NULL, bogus_arch));
}

static int t_init_module(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_init_module, NULL, 0UL, ""));
}

static int t_delete_module(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_delete_module, "berth_none", O_NONBLOCK));
}

static int t_clone_newns(int isolated)
{
    (void)isolated;
    long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), NULL,
                       NULL, NULL, 0UL);
    if (pid < 0)
        return errno;
    if (pid == 0)
        syscall(SYS_exit_group, 0); /* child: leave immediately */
    int status;
    while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

static int t_chroot(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_chroot, "/"));
}

static int t_sethostname(int isolated)
{
    (void)isolated;
    /* Write the current hostname back: no visible change when allowed. */
    char name[HOST_NAME_MAX + 1];
    if (gethostname(name, sizeof name) != 0)
        return errno;
    name[HOST_NAME_MAX] = '\0';
    return result(syscall(SYS_sethostname, name, strlen(name)));
}

static int t_swapon(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_swapon, probe_missing_path, 0));
}

static int t_acct(int isolated)
{
    (void)isolated;
    /* Never acct(NULL): that would switch accounting off. ENOENT when
     * allowed (after the CAP_SYS_PACCT check). */
    return result(syscall(SYS_acct, probe_missing_path));
}

static int t_syslog(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL,
                          0));
}

static int t_personality_bad(int isolated)
{
    /* Docker's default profile only allows the personalities 0, 8,
     * 0x20000, 0x20008 and the query 0xffffffff; ADDR_NO_RANDOMIZE is not
     * among them. */
    long prev = syscall(SYS_personality, 0xffffffffUL);
    long rc = syscall(SYS_personality, (unsigned long)(PER_LINUX |
                                                       ADDR_NO_RANDOMIZE));
    int err = result(rc);
    if (rc >= 0 && !isolated && prev >= 0)
        syscall(SYS_personality, (unsigned long)prev);
    return err;
}

static int t_getpid(int isolated)
{
    (void)isolated;
    return result(syscall(SYS_getpid));
}

static int t_read(int isolated)
{
    (void)isolated;
    char buf[1];
    return result(syscall(SYS_read, 0, buf, (size_t)0));
}

static const struct {
    const char *name;
    syscall_test fn;
} syscall_tests[] = {
    { "keyctl", t_keyctl },
    { "add_key", t_add_key },
    { "request_key", t_request_key },
    { "unshare", t_unshare },
    { "mount", t_mount },
    { "umount2", t_umount2 },
    { "setns", t_setns },
    { "ptrace", t_ptrace },
    { "bpf", t_bpf },
    { "reboot", t_reboot },
    { "kexec_load", t_kexec_load },
    { "init_module", t_init_module },
    { "delete_module", t_delete_module },
    { "clone_newns", t_clone_newns },
    { "chroot", t_chroot },
    { "sethostname", t_sethostname },
    { "swapon", t_swapon },
    { "acct", t_acct },
    { "syslog", t_syslog },
    { "personality_bad", t_personality_bad },
    { "getpid", t_getpid },
    { "read", t_read },
};

/* Run one test in a forked child so that side effects stay contained and a
 * seccomp KILL action does not take the probe down. The child reports the
 * errno as its exit status. Falls back to running in-process if fork fails. */
static void run_syscall_test(const char *name, syscall_test fn)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        int err = fn(0);
        out(name, "%s", err == 0 ? "OK" : errno_name(err));
        return;
    }
    if (pid == 0) {
        errno = 0;
        int err = fn(1);
        _exit(err > 255 ? 255 : err);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            out(name, "%s", "wait_failed");
            return;
        }
    }
    if (WIFEXITED(status)) {
        int err = WEXITSTATUS(status);
        out(name, "%s", err == 0 ? "OK" : errno_name(err));
    } else if (WIFSIGNALED(status)) {
        out(name, "%s", signal_name(WTERMSIG(status)));
    } else {
        out(name, "status_%d", status);
    }
}

static int cmd_syscalls(int argc, char **argv)
{
    if (argc < 1)
        usage_error("syscalls needs at least one NAME");
    int unknown = 0;
    for (int i = 0; i < argc; i++) {
        syscall_test fn = NULL;
        for (size_t j = 0; j < sizeof syscall_tests / sizeof syscall_tests[0];
             j++) {
            if (strcmp(argv[i], syscall_tests[j].name) == 0) {
                fn = syscall_tests[j].fn;
                break;
            }
        }
        if (fn == NULL) {
            out(argv[i], "unknown");
            unknown = 1;
            continue;
        }
        run_syscall_test(argv[i], fn);
    }
    return unknown ? 2 : 0;
}

/* ------------------------------------------------------------------- fork */

static int cmd_fork(int argc, char **argv)
{
    if (argc != 1)
        usage_error("fork takes exactly one argument (N)");
    unsigned long n = parse_count("N", argv[0], 1UL << 20);

    pid_t *pids = calloc(n ? n : 1, sizeof *pids);
    if (pids == NULL) {
        out("error", "ENOMEM");
        return 1;
    }
    pid_t parent = getpid();
    unsigned long forked = 0, failed = 0;
    int first_error = 0;
    fflush(stdout);
    for (unsigned long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            if (first_error == 0)
                first_error = errno;
            failed++;
            continue;
        }
        if (pid == 0) {
            /* Child: wait to be killed; never outlive the parent for long. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            alarm(120);
            for (;;)
                pause();
        }
        pids[forked++] = pid;
    }
    out("forked", "%lu", forked);
    out("failed", "%lu", failed);
    out("first_error", "%s", first_error ? errno_name(first_error) : "none");

    for (unsigned long i = 0; i < forked; i++)
        kill(pids[i], SIGKILL);
    for (unsigned long i = 0; i < forked; i++)
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    free(pids);
    return 0;
}

/* ------------------------------------------------------------------- caps */

/* Copy the value of `Field:` from /proc/self/status into buf (trimmed). */
static int status_field(const char *field, char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL)
        return -1;
    char line[512];
    size_t flen = strlen(field);
    int found = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            char *v = line + flen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            snprintf(buf, len, "%s", v);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

static void print_status_field(const char *key, const char *field)
{
    char buf[256];
    if (status_field(field, buf, sizeof buf) == 0)
        out(key, "%s", buf);
    else
        out(key, "%s", "unknown");
}

static int cmd_caps(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        usage_error("caps takes no arguments");

    print_status_field("cap_inh", "CapInh");
    print_status_field("cap_prm", "CapPrm");
    print_status_field("cap_eff", "CapEff");
    print_status_field("cap_bnd", "CapBnd");
    print_status_field("cap_amb", "CapAmb");

    int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (nnp < 0)
        out("no_new_privs", "%s", errno_name(errno));
    else
        out("no_new_privs", "%d", nnp);
    print_status_field("seccomp", "Seccomp");

    out("uid", "%u", (unsigned)getuid());
    out("euid", "%u", (unsigned)geteuid());
    out("gid", "%u", (unsigned)getgid());
    out("egid", "%u", (unsigned)getegid());

    int ngroups = getgroups(0, NULL);
    gid_t *groups = calloc(ngroups > 0 ? (size_t)ngroups : 1, sizeof *groups);
    if (groups != NULL && ngroups > 0)
        ngroups = getgroups(ngroups, groups);
    printf("groups=");
    for (int i = 0; groups != NULL && i < ngroups; i++)
        printf(i ? ",%u" : "%u", (unsigned)groups[i]);
    putchar('\n');
    fflush(stdout);
    free(groups);

    out("pid", "%d", (int)getpid());
    out("ppid", "%d", (int)getppid());

    char host[HOST_NAME_MAX + 1];
    if (gethostname(host, sizeof host) == 0) {
        host[HOST_NAME_MAX] = '\0';
        out("hostname", "%s", host);
    } else {
        out("hostname", "%s", errno_name(errno));
    }

    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) != NULL)
        out("cwd", "%s", cwd);
    else
        out("cwd", "%s", errno_name(errno));
    return 0;
}

/* -------------------------------------------------------------------- fds */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmd_fds(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        usage_error("fds takes no arguments");
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        out("error", "%s", errno_name(errno));
        return 1;
    }
    int self = dirfd(dir);
    size_t n = 0, cap = 64;
    int *fds = malloc(cap * sizeof *fds);
    if (fds == NULL) {
        out("error", "ENOMEM");
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        int fd = atoi(de->d_name);
        if (fd == self)
            continue;
        if (n == cap) {
            cap *= 2;
            int *grown = realloc(fds, cap * sizeof *fds);
            if (grown == NULL) {
                out("error", "ENOMEM");
                return 1;
            }
            fds = grown;
        }
        fds[n++] = fd;
    }
    closedir(dir);
    qsort(fds, n, sizeof *fds, cmp_int);
    printf("open_fds=");
    for (size_t i = 0; i < n; i++)
        printf(i ? ",%d" : "%d", fds[i]);
    putchar('\n');
    fflush(stdout);
    free(fds);
    return 0;
}

/* ------------------------------------------------------ exit/signal/sleep */

static int cmd_exit(int argc, char **argv)
{
    if (argc != 1)
        usage_error("exit takes exactly one argument (N)");
    unsigned long code = parse_count("N", argv[0], 255);
    fflush(stdout);
    exit((int)code);
}

static int cmd_signal(int argc, char **argv)
{
    if (argc != 1)
        usage_error("signal takes exactly one argument (N)");
    unsigned long sig = parse_count("N", argv[0], 64);
    if (sig < 1 || sig > (unsigned long)SIGRTMAX)
        usage_error("invalid signal number: %lu", sig);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction((int)sig, &sa, NULL); /* fails harmlessly for KILL/STOP */

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, (int)sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    fflush(stdout);
    raise((int)sig);
    /* Still here: the default action is to ignore (or stop, then continue). */
    out("survived", "1");
    return 0;
}

static int cmd_sleep(int argc, char **argv)
{
    if (argc != 1)
        usage_error("sleep takes exactly one argument (SECONDS)");
    double seconds = parse_seconds(argv[0]);
    sleep_seconds(seconds);
    out("slept_seconds", "%.3f", seconds);
    return 0;
}

static volatile sig_atomic_t term_exit_code;

static void on_term(int sig)
{
    (void)sig;
    _exit(term_exit_code);
}

static int cmd_trap_term(int argc, char **argv)
{
    if (argc != 1)
        usage_error("trap-term takes exactly one argument (CODE)");
    term_exit_code = (sig_atomic_t)parse_count("CODE", argv[0], 255);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0) {
        perror("sigaction");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    out("ready", "1");
    for (;;)
        pause();
}

/* ------------------------------------------------------------------ write */

static int cmd_write(int argc, char **argv)
{
    if (argc != 1)
        usage_error("write takes exactly one argument (PATH)");
    int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        out("write", "%s", errno_name(errno));
        return 0;
    }
    ssize_t n;
    do
        n = write(fd, "1", 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;
        close(fd);
        out("write", "%s", errno_name(err));
        return 0;
    }
    if (n != 1) {
        close(fd);
        out("write", "%s", "short");
        return 0;
    }
    if (close(fd) != 0) {
        out("write", "%s", errno_name(errno));
        return 0;
    }
    out("write", "OK");
    return 0;
}

/* ------------------------------------------------------------------- main */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    { "alloc", cmd_alloc },
    { "spin", cmd_spin },
    { "syscalls", cmd_syscalls },
    { "fork", cmd_fork },
    { "caps", cmd_caps },
    { "fds", cmd_fds },
    { "exit", cmd_exit },
    { "signal", cmd_signal },
    { "sleep", cmd_sleep },
    { "trap-term", cmd_trap_term },
    { "write", cmd_write },
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage();
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 2, argv + 2);
    usage_error("unknown subcommand '%s'", argv[1]);
}
