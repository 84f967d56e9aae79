import FlowStage
import Foundation
import Testing

/// Flow files are named by patch id, and ids repeat across manifests: each manifest needs its own folder.
@Test func twoManifestsGetTwoFlowFolders() {
    let embedded = ManifestFlows.defaultOutputDirectory(forManifest: "data-manifests/embedded.sqlite")
    let sdd = ManifestFlows.defaultOutputDirectory(forManifest: "/data/manifests/sdd.sqlite")
    #expect(embedded.path.hasSuffix("work-data/flows/embedded"))
    #expect(sdd.path.hasSuffix("work-data/flows/sdd"))
    #expect(embedded != sdd)
}
