import BerthLinux

extension SeccompProfile {
    /// Docker's default profile (moby/profiles `seccomp/default.json`, 2026, with the AF_ALG block),
    /// as Swift data so it cannot fail to parse. Everything not listed fails with EPERM.
    ///
    /// Where Berth differs from moby: `keyctl`, `add_key` and `request_key` stay denied (moby
    /// allowed them again in 2025 on kernels with namespaced keyrings; Berth's baseline keeps the
    /// host keyring out of reach on any kernel). Like moby, `io_uring_*` are denied (since Docker 25)
    /// and `name_to_handle_at` is allowed for everyone (since Docker 24.0.3).
    public static let dockerDefault = SeccompProfile(
        defaultAction: .errno,
        defaultErrnoRet: 1,
        archMap: [
            .init(architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            .init(architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]),
            .init(architecture: "SCMP_ARCH_MIPS64", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"]),
            .init(architecture: "SCMP_ARCH_MIPS64N32", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"]),
            .init(architecture: "SCMP_ARCH_MIPSEL64", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"]),
            .init(architecture: "SCMP_ARCH_MIPSEL64N32", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"]),
            .init(architecture: "SCMP_ARCH_S390X", subArchitectures: ["SCMP_ARCH_S390"]),
            .init(architecture: "SCMP_ARCH_RISCV64"),
        ],
        syscalls: [
            .init(names: dockerDefaultAllowed, action: .allow),
            // ptrace was only made safe against seccomp bypass in 4.8.
            .init(
                names: ["process_vm_readv", "process_vm_writev", "ptrace"], action: .allow,
                includes: .init(minKernel: KernelVersion(major: 4, minor: 8))),
            // Every address family except AF_ALG (38, CVE-2026-31431) and AF_VSOCK (40). Rules
            // are ORed, so three ranges; socketcall(2) cannot be filtered by argument and stays open.
            .init(names: ["socket"], action: .allow, args: [.init(index: 0, value: 38, op: .lessThan)]),
            .init(names: ["socket"], action: .allow, args: [.init(index: 0, value: 39, op: .equalTo)]),
            .init(names: ["socket"], action: .allow, args: [.init(index: 0, value: 40, op: .greaterThan)]),
            // PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and 0xffffffff to query.
            .init(names: ["personality"], action: .allow, args: [.init(index: 0, value: 0x0, op: .equalTo)]),
            .init(names: ["personality"], action: .allow, args: [.init(index: 0, value: 0x0008, op: .equalTo)]),
            .init(names: ["personality"], action: .allow, args: [.init(index: 0, value: 0x20000, op: .equalTo)]),
            .init(names: ["personality"], action: .allow, args: [.init(index: 0, value: 0x20008, op: .equalTo)]),
            .init(names: ["personality"], action: .allow, args: [.init(index: 0, value: 0xffff_ffff, op: .equalTo)]),
            .init(names: ["sync_file_range2", "swapcontext"], action: .allow, includes: .init(arches: ["ppc64le"])),
            .init(
                names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
                action: .allow, includes: .init(arches: ["arm", "arm64"])),
            .init(names: ["arch_prctl"], action: .allow, includes: .init(arches: ["amd64", "x32"])),
            .init(names: ["modify_ldt"], action: .allow, includes: .init(arches: ["amd64", "x32", "x86"])),
            .init(
                names: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], action: .allow,
                includes: .init(arches: ["s390", "s390x"])),
            .init(names: ["riscv_flush_icache"], action: .allow, includes: .init(arches: ["riscv64"])),
            .init(names: ["open_by_handle_at"], action: .allow, includes: .init(caps: ["CAP_DAC_READ_SEARCH"])),
            .init(
                names: [
                    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                    "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
                    "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
                    "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
                ],
                action: .allow, includes: .init(caps: ["CAP_SYS_ADMIN"])),
            // Without CAP_SYS_ADMIN, clone may not create namespaces: (flags & 0x7E020000) == 0,
            // the CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET} bits.
            .init(
                names: ["clone"], action: .allow, args: [.init(index: 0, value: namespaceFlags, valueTwo: 0, op: .maskedEqual)],
                excludes: .init(caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"])),
            .init(
                names: ["clone"], action: .allow, args: [.init(index: 1, value: namespaceFlags, valueTwo: 0, op: .maskedEqual)],
                includes: .init(arches: ["s390", "s390x"]), excludes: .init(caps: ["CAP_SYS_ADMIN"]),
                comment: "s390 parameter ordering for clone is different"),
            // clone3 passes its flags in memory seccomp cannot read; ENOSYS makes glibc fall back to clone.
            .init(names: ["clone3"], action: .errno, errnoRet: 38, excludes: .init(caps: ["CAP_SYS_ADMIN"])),
            .init(names: ["reboot"], action: .allow, includes: .init(caps: ["CAP_SYS_BOOT"])),
            .init(names: ["chroot"], action: .allow, includes: .init(caps: ["CAP_SYS_CHROOT"])),
            .init(names: ["delete_module", "init_module", "finit_module"], action: .allow, includes: .init(caps: ["CAP_SYS_MODULE"])),
            .init(names: ["acct"], action: .allow, includes: .init(caps: ["CAP_SYS_PACCT"])),
            .init(
                names: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
                action: .allow, includes: .init(caps: ["CAP_SYS_PTRACE"])),
            .init(names: ["iopl", "ioperm"], action: .allow, includes: .init(caps: ["CAP_SYS_RAWIO"])),
            .init(
                names: ["settimeofday", "stime", "clock_settime", "clock_settime64"], action: .allow,
                includes: .init(caps: ["CAP_SYS_TIME"])),
            .init(names: ["vhangup"], action: .allow, includes: .init(caps: ["CAP_SYS_TTY_CONFIG"])),
            .init(
                names: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], action: .allow,
                includes: .init(caps: ["CAP_SYS_NICE"])),
            .init(names: ["syslog"], action: .allow, includes: .init(caps: ["CAP_SYSLOG"])),
            .init(names: ["bpf"], action: .allow, includes: .init(caps: ["CAP_BPF"])),
            .init(names: ["perf_event_open"], action: .allow, includes: .init(caps: ["CAP_PERFMON"])),
        ])

    /// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
    static let namespaceFlags: UInt64 = 0x7E02_0000

    /// Ordinary system calls every container may make, whatever its capabilities. Names of other
    /// architectures (chown32, socketcall, ...) are here on purpose: libseccomp applies them to
    /// the 32-bit sub-architectures and skips them where they do not exist.
    static let dockerDefaultAllowed = [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
        "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
        "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
        "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
        "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
        "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
        "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
        "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
        "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
        "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
        "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
        "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
        "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
        "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
        "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch",
        "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
        "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
        "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
        "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
        "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
        "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
        "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
        "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
        "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
        "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
        "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
        "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
        "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe",
        "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
        "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
        "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
        "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
        "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
        "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
        "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
        "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
        "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
        "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
        "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
    ]
}
