import ArgumentParser

/// The exit statuses every jdrl executable shares, in the spirit of sysexits.h (docs/commands.md holds
/// the table users read). One situation gives one status in every stage: a script that drives the stages
/// can tell "fix the call" from "fix the data" from "try again later" without knowing which stage spoke.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything asked for is done, or there was nothing new to do.
    case done = 0
    /// An error that is neither the call nor the data: a full disk while training, a failed MPI rank.
    case failed = 1
    /// Some items failed and each was named with its reason; the others were done.
    case someItemsFailed = 3
    /// The call or the config is wrong: an unknown or missing option, a config with a wrong type, an
    /// unknown or missing key or broken YAML, an option this CPU cannot honour.
    case badCall = 64
    /// A data file the call names is missing, unreadable or not what it should be: a damaged manifest or
    /// one from a newer build, an input image, a checkpoint, patch rows and files that disagree.
    case badData = 65
    /// Another process holds the lock this one needs (it is named); run again when it is done.
    case busy = 75

    /// The status a stage ends with when `error` stops it.
    public static func of(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as any StageError: return error.exitStatus
        case is ValidationError: return .badCall
        default: return .failed
        }
    }
}

/// An error that is the user's to fix, not a bug, and says which row of the shared table it ends a stage with.
public protocol StageError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}

/// A config or a call that cannot be used (exit 64).
public protocol CallError: StageError {}
extension CallError { public var exitStatus: ExitStatus { .badCall } }

/// Data that cannot be used: an unreadable file, a damaged manifest (exit 65).
public protocol InputError: StageError {}
extension InputError { public var exitStatus: ExitStatus { .badData } }
