import Foundation
import StageSupport

/// The run's log: every message goes to `train.log` in the run folder and to stderr. The per-step
/// progress line is redrawn in place when stderr is a terminal (StageSupport.Progress style) and
/// printed as a plain line every `logger.print_every_steps` otherwise; the file always gets plain lines.
public final class RunLog: @unchecked Sendable {
    private let file: FileHandle?
    private let isTerminal: Bool
    private let echoes: Bool
    private var lineIsOpen = false

    /// `echoes: false` writes nothing to stderr (the ranks of a data-parallel run other than the leader).
    public init(fileURL: URL?, isTerminal: Bool = isatty(fileno(stderr)) != 0, echoes: Bool = true) {
        if let fileURL {
            if !FileManager.default.fileExists(atPath: fileURL.path) {
                FileManager.default.createFile(atPath: fileURL.path, contents: nil)
            }
            file = try? FileHandle(forWritingTo: fileURL)
            _ = try? file?.seekToEnd()
        } else {
            file = nil
        }
        self.isTerminal = isTerminal && echoes
        self.echoes = echoes
    }

    deinit { try? file?.close() }

    /// A plain message (environment, config, checkpoints, errors).
    public func info(_ message: String) {
        let stamped = "\(Self.timestamp()) \(message)\n"
        file?.write(Data(stamped.utf8))
        closeLine()
        if echoes { FileHandle.standardError.write(Data(stamped.utf8)) }
    }

    /// Whether every step's line is shown (a terminal); otherwise only logged steps need formatting.
    public var showsEveryStep: Bool { isTerminal }

    /// The progress line of a step. `logged` says whether this step is on the print interval.
    public func progress(_ text: String, logged: Bool) {
        if logged { file?.write(Data("\(Self.timestamp()) \(text)\n".utf8)) }
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineIsOpen = true
        } else if logged && echoes {
            FileHandle.standardError.write(Data("\(Self.timestamp()) \(text)\n".utf8))
        }
    }

    public func closeLine() {
        if lineIsOpen {
            FileHandle.standardError.write(Data("\n".utf8))
            lineIsOpen = false
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

/// The numbers one progress line shows, formatted BasicSR-MessageLogger style.
public struct ProgressLine: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var totalSteps: Int
    public var stage: TrainingStage
    public var record: StepRecord
    public var stepsPerSecond: Double

    public init(epoch: Int, epochs: Int, step: Int, totalSteps: Int, stage: TrainingStage, record: StepRecord, stepsPerSecond: Double) {
        self.epoch = epoch; self.epochs = epochs; self.step = step; self.totalSteps = totalSteps
        self.stage = stage; self.record = record; self.stepsPerSecond = stepsPerSecond
    }

    public var text: String {
        let eta = stepsPerSecond > 0 ? Double(totalSteps - step) / stepsPerSecond : 0
        var terms = String(format: "loss %.5f", record.total)
        for term in LossTerm.allCases where record.computed.contains(term) {
            terms += String(format: " %@ %.5f", term.label, record[term])
        }
        return String(format: "[epoch %d/%d step %d/%d %@] %@ | lr %.2e | %.2f steps/s | ETA %@",
                      epoch + 1, epochs, step, totalSteps, stage.rawValue, terms, record.lr, stepsPerSecond,
                      Progress.clock(eta))
    }
}
