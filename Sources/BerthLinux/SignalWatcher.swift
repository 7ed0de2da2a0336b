import BerthCore
import CBerthShim
import Glibc

/// Receives the given signals through a signalfd instead of handlers, so a foreground supervisor
/// can wait for "child exited", "signal arrived" or "deadline passed" in one poll. The signals are
/// blocked on the calling thread; create it before any other thread starts so they inherit the mask.
public final class SignalWatcher {
    public enum Event: Equatable, Sendable {
        case childExited
        case signal(Int32)
        case timeout
    }

    private let fd: Int32
    private var previousMask = sigset_t()

    public init(signals: [Int32]) throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        guard pthread_sigmask(SIG_BLOCK, &mask, &previousMask) == 0 else {
            throw SystemError("block signals", errno: errno)
        }
        let fd = berth_signalfd(&mask)
        guard fd >= 0 else { throw SystemError("signalfd", errno: errno) }
        self.fd = fd
    }

    deinit {
        close(fd)
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }

    /// Waits for the pidfd to become readable (the child exited), a signal, or the timeout
    /// (in milliseconds; nil waits without limit).
    public func next(pidfd: Int32, timeoutMilliseconds: Int?) throws -> Event {
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = Glibc.poll(&fds, 2, Int32(clamping: timeoutMilliseconds ?? -1))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("poll", errno: errno)
            }
            if ready == 0 { return .timeout }
            if fds[1].revents & Int16(POLLIN) != 0 {
                let signal = berth_signalfd_read(fd)
                if signal > 0 { return .signal(signal) }
            }
            if fds[0].revents != 0 { return .childExited }
        }
    }
}
