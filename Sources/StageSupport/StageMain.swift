import ArgumentParser
import Foundation

extension ParsableCommand {
    /// The `main()` of a stage whose failures can be the user's input (an unreadable photo, a bad config):
    /// an error of one of `inputErrors` prints one readable line, `COMMAND: error`, and exits 2 instead
    /// of a Swift error dump. Everything else goes to ArgumentParser (usage errors exit 64, a thrown
    /// `ExitCode` exits with its code).
    public static func mainReportingInputErrors(_ inputErrors: [any Error.Type]) {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error where inputErrors.contains(where: { $0 == type(of: error) }) {
            let name = configuration.commandName ?? String(describing: Self.self)
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            Foundation.exit(2)
        } catch {
            exit(withError: error)
        }
    }
}
