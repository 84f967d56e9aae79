import ArgumentParser
import Foundation

/// An error that is the user's input, not a bug, wherever a stage meets it (a damaged manifest file,
/// say): every stage's `mainReportingInputErrors` prints it in one line and exits 2, without each
/// executable having to list (and import) the module that throws it.
public protocol InputError: Error, CustomStringConvertible {}

extension ParsableCommand {
    /// The `main()` of a stage whose failures can be the user's input (an unreadable photo, a bad config):
    /// an error of one of `inputErrors` (or any `InputError`) prints one readable line, `COMMAND: error`, and exits 2 instead
    /// of a Swift error dump. Everything else goes to ArgumentParser (usage errors exit 64, a thrown
    /// `ExitCode` exits with its code).
    public static func mainReportingInputErrors(_ inputErrors: [any Error.Type]) {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error where error is any InputError || inputErrors.contains(where: { $0 == type(of: error) }) {
            let name = configuration.commandName ?? String(describing: Self.self)
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            Foundation.exit(2)
        } catch {
            exit(withError: error)
        }
    }
}
