import Foundation

/// A weights file LPIPS cannot use, naming the file and why (missing, unreadable by
/// `WeightFiles.SafeTensors`, or not the lpips AlexNet layout).
public struct SafetensorsError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
