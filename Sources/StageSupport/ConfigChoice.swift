/// A closed set of spellings a config file (or option) may use for one setting. Decoding refuses any
/// other spelling and names the choices, so a typo stops the run instead of falling back to a default;
/// encoding writes the same spelling back (resolved configs and their hashes keep it).
public protocol ConfigChoice: CaseIterable, Codable, Sendable {
    /// The spelling in config files.
    var configName: String { get }
}

extension ConfigChoice {
    /// "a, b, c": what an error message lists.
    public static var choices: String { allCases.map(\.configName).joined(separator: ", ") }

    /// The case spelled `name`, nil for any other spelling.
    public init?(configName name: String) {
        guard let match = Self.allCases.first(where: { $0.configName == name }) else { return nil }
        self = match
    }
}

// The coding lives in the extension for String-backed enums (all of the project's choices): being more
// specific than the standard library's RawRepresentable coding, it is the one the compiler picks.
extension ConfigChoice where Self: RawRepresentable, RawValue == String {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(configName: text) else {
            let key = decoder.codingPath.last?.stringValue ?? "value"
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown \(key) '\(text)'; choices: \(Self.choices)")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(configName)
    }

    public var configName: String { rawValue }
}
