// jdrl-bench [NAME]: runs every registered benchmark, or the named one; one JSON line each.
// The registry lives in Benchmarks.swift.
import Foundation

PeerLocations.export()
exit(Benchmarks.main(CommandLine.arguments))
