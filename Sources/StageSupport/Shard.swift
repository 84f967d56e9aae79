import ArgumentParser

/// `--shard K/N`: this process handles the items whose stable id falls in shard K of N (K counts from 0),
/// so make -j, GNU parallel or a Slurm array can split a stage without code changes.
public struct Shard: Sendable, Equatable, ExpressibleByArgument, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let all = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        precondition(count > 0 && index >= 0 && index < count, "shard \(index)/\(count) is out of range")
        self.index = index
        self.count = count
    }

    public init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n > 0, k >= 0, k < n else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Stable over runs and machines: FNV-1a of the item's key, not Swift's seeded `hashValue`.
    public func contains(key: String) -> Bool {
        count == 1 || Int(Self.fnv1a(key) % UInt64(count)) == index
    }

    public static func fnv1a(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
