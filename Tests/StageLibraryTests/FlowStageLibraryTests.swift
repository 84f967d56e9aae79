import Flow
import FlowStage
import Imaging
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

/// An inverted image has a negative gain: the stage names the item instead of failing the manifest's CHECK.
@Test func anImpossibleColourMapIsRefusedNamingTheFlow() throws {
    let (w, h) = (64, 48)
    var sharp = PlanarImage(width: w, height: h, channels: 3)
    for i in sharp.pixels.indices { sharp.pixels[i] = 0.2 + 0.6 * Float((i * 7919) % 97) / 97 }
    var inverted = sharp
    inverted.pixels = sharp.pixels.map { 1 - $0 }
    let fit = try ColourAlignment.fit(reference: inverted, aligned: sharp)
    #expect(fit.transform.gain.allSatisfy { $0 < 0 })
    #expect(throws: (any Error).self) { try ManifestFlows.checkPlausible(fit, named: "/flows/patch-7.flo") }
    do { try ManifestFlows.checkPlausible(fit, named: "/flows/patch-7.flo") } catch {
        #expect("\(error)".contains("/flows/patch-7.flo") && "\(error)".contains("gain must be positive"))
    }
    try ManifestFlows.checkPlausible(try ColourAlignment.fit(reference: sharp, aligned: sharp), named: "ok")
}
