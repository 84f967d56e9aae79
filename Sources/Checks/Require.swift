/// A shape or layout check at a public entry point that stays in every build. Modules whose inner
/// loops are compiled with -Ounchecked (Tensors, Flow: see Package.swift) lose `precondition`, which
/// that mode turns into an assumption: a wrong shape would then corrupt memory instead of stopping.
/// `fatalError` is never removed, so a violated `require` stops with its message in any mode.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = "",
                    file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
