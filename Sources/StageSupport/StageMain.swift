import ArgumentParser
import Foundation

extension ParsableCommand {
    /// The `main()` of a stage whose failures can be the user's input (an unreadable photo, a bad config):
    /// a `StageError`, or an error of one of `dataErrors` (types from modules that do not know this one,
    /// counted as bad data), prints one readable line, `COMMAND: error`, and exits with the shared table's
    /// status (`ExitStatus`) instead of a Swift error dump. Everything else goes to ArgumentParser (usage
    /// errors exit 64, a thrown `ExitCode` exits with its code).
    public static func mainReportingInputErrors(_ dataErrors: [any Error.Type]) {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error where error is any StageError || dataErrors.contains(where: { $0 == type(of: error) }) {
            let name = configuration.commandName ?? String(describing: Self.self)
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            Foundation.exit((error is any StageError ? ExitStatus.of(error) : .badData).rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

extension ExitCode {
    /// The `ExitCode` ArgumentParser exits with for one of the shared statuses.
    public init(_ status: ExitStatus) { self.init(status.rawValue) }
}
