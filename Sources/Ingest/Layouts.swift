import Foundation
import Manifest

/// One blurry / sharp pair as found on disk, before any validation. A missing partner leaves its
/// URL at the place it was expected, with `present` false.
public struct PairCandidate: Sendable, Equatable {
    public var name: String
    public var split: Split
    public var blurry: URL
    public var sharp: URL
    public var blurryPresent: Bool
    public var sharpPresent: Bool
}

/// How the published datasets are laid out, and how to find their pairs.
public enum LayoutScanner {
    /// SDD: train_patches/{blur,gt} (pre-cut patches) and test/{blur,gt}; same file name in both.
    public static let sddSplits: [(folder: String, split: Split)] = [("train_patches", .train), ("test", .test)]
    /// DPDD canon set: {train,val,test}_c/{source,target}.
    public static let dpddSplits: [(folder: String, split: Split)] = [("train_c", .train), ("val_c", .val), ("test_c", .test)]

    public static func detect(_ root: URL) -> Layout {
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &flag) && flag.boolValue
        }
        if sddSplits.contains(where: { isDirectory("\($0.folder)/blur") || isDirectory("\($0.folder)/gt") }) { return .sdd }
        if dpddSplits.contains(where: { isDirectory("\($0.folder)/source") }) { return .dpdd }
        if isDirectory("source") && isDirectory("target") { return .realdof }
        return .generic
    }

    /// All pairs under `root` for a layout. `genericSplit` is the split given to generic-folder pairs.
    public static func scan(_ root: URL, layout: Layout, genericSplit: Split) throws -> (pairs: [PairCandidate], ignored: [String]) {
        switch layout {
        case .sdd:
            return (try sddSplits.flatMap { try pairedFolders(root.appendingPathComponent($0.folder), blurry: "blur", sharp: "gt", split: $0.split) }, [])
        case .dpdd:
            return (try dpddSplits.flatMap { try pairedFolders(root.appendingPathComponent($0.folder), blurry: "source", sharp: "target", split: $0.split) }, [])
        case .realdof:
            return (try pairedFolders(root, blurry: "source", sharp: "target", split: .test), [])
        case .generic:
            return try genericFolder(root, split: genericSplit)
        }
    }

    /// Visible entries of a folder that are, or are meant to be, image files (a missing folder is
    /// empty): regular files, every symbolic link (a loop or a dangling link must be reported, not
    /// vanish and leave its partner "missing"), and folders named with an extension, like `a_blur.png/`.
    /// The validator says what is wrong with the entries that are not readable files.
    static func files(in folder: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { name in
            !name.hasPrefix(".") && FileProblems.isListable(folder.appendingPathComponent(name),
                                                            looksLikeImage: !(name as NSString).pathExtension.isEmpty)
        }.sorted()
    }

    /// Two sibling folders holding the same file names.
    static func pairedFolders(_ base: URL, blurry: String, sharp: String, split: Split) throws -> [PairCandidate] {
        let blurryFolder = base.appendingPathComponent(blurry), sharpFolder = base.appendingPathComponent(sharp)
        let blurryNames = Set(try files(in: blurryFolder)), sharpNames = Set(try files(in: sharpFolder))
        return blurryNames.union(sharpNames).sorted().map { name in
            PairCandidate(name: name, split: split, blurry: blurryFolder.appendingPathComponent(name), sharp: sharpFolder.appendingPathComponent(name),
                          blurryPresent: blurryNames.contains(name), sharpPresent: sharpNames.contains(name))
        }
    }

    /// A flat folder of NAME_blur.EXT / NAME_sharp.EXT files (the extensions may differ).
    static func genericFolder(_ folder: URL, split: Split) throws -> (pairs: [PairCandidate], ignored: [String]) {
        var blurry: [String: String] = [:], sharp: [String: String] = [:], ignored: [String] = []
        for file in try files(in: folder) {
            let stem = (file as NSString).deletingPathExtension
            if stem.hasSuffix("_blur") { blurry[String(stem.dropLast(5))] = file }
            else if stem.hasSuffix("_sharp") { sharp[String(stem.dropLast(6))] = file }
            else { ignored.append(file) }
        }
        let pairs = Set(blurry.keys).union(sharp.keys).sorted().map { name -> PairCandidate in
            // A missing partner is expected with its partner's extension.
            let blurryFile = blurry[name] ?? "\(name)_blur.\((sharp[name]! as NSString).pathExtension)"
            let sharpFile = sharp[name] ?? "\(name)_sharp.\((blurry[name]! as NSString).pathExtension)"
            return PairCandidate(name: name, split: split, blurry: folder.appendingPathComponent(blurryFile),
                                 sharp: folder.appendingPathComponent(sharpFile), blurryPresent: blurry[name] != nil,
                                 sharpPresent: sharp[name] != nil)
        }
        return (pairs, ignored)
    }
}
