import Evaluation
import Foundation
import Imaging
import Testing

/// The gain table's "shift to input" column: a model that warps is caught, one that only sharpens is not.
@Suite struct InputShiftTests {
    @Test func aShiftedOutputIsMeasuredAndASharpenedOneIsNot() throws {
        let input = TinyData.scene(width: 160, height: 120, blurPasses: 2)
        // The scene sampled 1.5 px right and 1 px up: |(1.5, -1)| = 1.80 px everywhere.
        let warped = TinyData.scene(width: 160, height: 120, dx: 1.5, dy: -1, blurPasses: 2)
        let sharpened = TinyData.scene(width: 160, height: 120)
        let moved = try InputShift.meanDisplacement(from: warped, to: input)
        let still = try InputShift.meanDisplacement(from: sharpened, to: input)
        #expect(abs(moved - 1.803) < 0.1, "measured \(moved) px for a 1.80 px shift")
        #expect(still < 0.05, "a sharper image in place measured \(still) px")
        #expect(try InputShift.meanDisplacement(from: input, to: input) < 1e-3)
    }
}
