import Foundation

/// Progress of a long stage: items done, rate and time left. On a terminal one line is redrawn in place;
/// otherwise (CI, cron, pipes) a plain log line is printed at most every `logInterval` seconds.
public final class Progress: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let start = Date()
    private let isTerminal: Bool
    private let logInterval: TimeInterval
    private let lock = NSLock()
    private var done = 0
    private var lastPrint = Date.distantPast

    public init(label: String, total: Int, logInterval: TimeInterval = 10) {
        self.label = label
        self.total = total
        self.logInterval = logInterval
        self.isTerminal = isatty(fileno(stderr)) != 0
    }

    public func advance(by count: Int = 1) {
        lock.lock(); defer { lock.unlock() }
        done += count
        let now = Date()
        let interval = isTerminal ? 0.2 : logInterval
        if done == total || now.timeIntervalSince(lastPrint) >= interval {
            lastPrint = now
            emit(now: now)
        }
    }

    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func emit(now: Date) {
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let text = String(format: "%@: %d/%d items, %.2f/s, %@ left", label, done, total, rate, Self.clock(left))
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
