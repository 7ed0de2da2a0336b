import BerthCgroups
import BerthCore
import BerthLinux
import BerthRuntime
import Dispatch
import Foundation
import Logging

/// How the agent starts and watches a task's container (docs/agent.md): as a child of the agent
/// (`InProcessDriver`), or under a small supervisor process each (`SupervisedDriver`), so that
/// containers outlive the agent and `adopt` finds them again after a restart.
protocol ContainerDriver: Sendable {
    /// Creates the cgroup and starts the command; returns once it has been exec'd. Blocking.
    /// `sandbox` holds the `stdout` and `stderr` the configuration's stdio are open on.
    func start(id: String, configuration: ContainerConfiguration, sandbox: String) throws -> any TaskContainer
    /// A container of a previous run of the agent, still running or with its exit recorded;
    /// nil when it is lost.
    func adopt(id: String, memoryLimit: Int64?) -> (any TaskContainer)?
    /// Whether containers keep running when the agent stops.
    var containersOutliveAgent: Bool { get }
}

/// A started container, as the agent drives it. Calls may come from any thread.
protocol TaskContainer: AnyObject, Sendable {
    var id: String { get }
    /// Waits until the main process has exited, without holding a thread.
    func exit() async -> ContainerExit
    /// The signal to every process of the container (graceful stop of the whole tree).
    func signalAll(_ signal: Int32)
    /// SIGKILL to every process, through the cgroup.
    func killAll()
    /// Kills what is left and removes the cgroup and the runtime's state. Blocking.
    func remove()
    /// Runs a command inside the running container (a command health check), killed at the
    /// timeout. Blocking.
    func exec(_ argv: [String], env: [String], timeout: Duration) throws -> ExecResult
}

/// Containers as children of the agent process, started with BerthRuntime's `Container`. Their
/// stdio are the sandbox files themselves: no rotation (copying every task's output through the
/// agent would put the agent in the path of each write and lose output when it stops).
struct InProcessDriver: ContainerDriver {
    let cgroups: any CgroupManager
    let logger: Logger

    func start(id: String, configuration: ContainerConfiguration, sandbox: String) throws -> any TaskContainer {
        let container = Container(id: id, configuration: configuration, cgroups: cgroups, logger: logger)
        try container.start()
        return InProcessContainer(container, cgroups: cgroups)
    }

    /// A child of a previous agent process cannot be waited for: its exit status is lost.
    func adopt(id: String, memoryLimit: Int64?) -> (any TaskContainer)? { nil }

    var containersOutliveAgent: Bool { false }
}

/// `Container` is not thread-safe: every call to it holds the lock.
final class InProcessContainer: TaskContainer, @unchecked Sendable {
    private let container: Container
    private let cgroups: any CgroupManager
    private let lock = NSLock()
    private static let queue = DispatchQueue(label: "berth.agent.exits")

    init(_ container: Container, cgroups: any CgroupManager) {
        self.container = container
        self.cgroups = cgroups
    }

    var id: String { container.id }

    func exit() async -> ContainerExit {
        let (descriptor, done) = lock.withLock { (container.exitDescriptor, try? container.poll()) }
        if let done { return done }
        guard let descriptor else { return lostExit() }
        // A pidfd polls readable when the process exits: one epoll watch instead of a thread per container.
        return await withCheckedContinuation { continuation in
            let watch = ExitWatch(source: DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: Self.queue))
            watch.source.setEventHandler { [self] in
                guard !watch.resumed else { return }
                let exit: ContainerExit?
                do {
                    exit = try lock.withLock { try container.poll() }
                } catch {
                    exit = lostExit()
                }
                guard let exit else { return }
                watch.resumed = true
                watch.source.cancel()
                continuation.resume(returning: exit)
            }
            watch.source.resume()
        }
    }

    /// Touched only on `queue`, the source's serial queue.
    private final class ExitWatch: @unchecked Sendable {
        let source: any DispatchSourceRead
        var resumed = false
        init(source: any DispatchSourceRead) { self.source = source }
    }

    /// When the process cannot be waited for (already reaped elsewhere), say so rather than hang.
    private func lostExit() -> ContainerExit {
        ContainerExit(status: .exited(125), oomKilled: false, memoryLimit: nil)
    }

    func signalAll(_ signal: Int32) { lock.withLock { container.signalAll(signal) } }
    func killAll() { lock.withLock { container.killAll() } }
    func remove() { lock.withLock { container.remove() } }

    func exec(_ argv: [String], env: [String], timeout: Duration) throws -> ExecResult {
        guard let pid = lock.withLock({ container.pid }) else {
            throw BerthError(.invalidState, "container \(id.prefix(12)) is not running")
        }
        return try ContainerExec.run(argv, env: env, container: id, configuration: container.configuration, pid: pid, cgroups: cgroups, timeout: timeout)
    }
}

/// Runs blocking work (container start, removal, rootfs assembly) on threads of its own, so the
/// few threads of Swift's cooperative pool are never held by it. Not Dispatch's global queue,
/// which on Linux keeps about one thread per core: much of this work waits (a supervisor's
/// answer, an fsync, the kernel's RCU grace periods when a mount namespace ends) and the cores
/// idled meanwhile. 1,000 launches on 2 cores took 6.6-7.6 s with 16 threads against 8.3-10.5 s
/// (docs/benchmarks.md, "Launch").
enum BlockingWork {
    private static let pool = BlockingPool(maximumThreads: 8 * max(1, ProcessInfo.processInfo.activeProcessorCount))

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// For cleanup whose failure the body logs itself.
    static func quietly(_ body: @escaping @Sendable () -> Void) async {
        _ = try? await run(body)
    }
}

/// Threads that take jobs first in, first out; started as jobs find none idle, up to a bound,
/// so an idle agent has none.
final class BlockingPool: @unchecked Sendable {
    private let maximumThreads: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0

    init(maximumThreads: Int) {
        self.maximumThreads = max(1, maximumThreads)
    }

    /// Threads started so far, and how many of them wait for a job.
    var threadCounts: (started: Int, idle: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (threads, idle)
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if idle > 0 { condition.signal() }
        // Idle threads already woken may not have taken their job yet: count what is queued.
        if jobs.count - head > idle && threads < maximumThreads {
            // A plain pthread: nothing of Foundation's Thread machinery is needed.
            var thread = pthread_t()
            let pool = Unmanaged.passRetained(self).toOpaque()
            let started = pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                Unmanaged<BlockingPool>.fromOpaque(argument).takeRetainedValue().work()
            }, pool)
            if started == 0 {
                threads += 1
                pthread_detach(thread)
            } else {
                Unmanaged<BlockingPool>.fromOpaque(pool).release()
                // The job waits for a thread that is running; with none at all, it runs here.
                if threads == 0 {
                    let job = jobs.removeLast()
                    condition.unlock()
                    job()
                    return
                }
            }
        }
        condition.unlock()
    }

    private func work() -> Never {
        while true {
            condition.lock()
            while head == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            // Drop what was taken now and then, so the array does not grow without end.
            if head >= 256 && head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
