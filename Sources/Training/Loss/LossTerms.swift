/// The named terms of the JDRL loss, in the order they are computed, summed, logged and stored.
/// The log line, `curves.csv`, the ranks' averaging and the manifest's `training_steps` rows iterate
/// over this list, so a new term is one case here plus its weight, forward and backward in `JDRLLoss`
/// (and a `loss_<name>` column in the manifest).
public enum LossTerm: String, CaseIterable, Sendable {
    case deblur, cycle, reblur
    /// The blur-map prior's pseudo-supervision, Charb(predicted seeds, KPN seeds).
    case prior

    /// The term's name in the log line and the curves (BasicSR style): `l_deblur`.
    public var label: String { "l_\(rawValue)" }

    /// The position of the term in `allCases`.
    public var index: Int { LossTerm.allCases.firstIndex(of: self)! }
}

/// The loss of one step, each term by name (BasicSR style). A term a stage does not use is nil.
/// Term values are unweighted Charbonnier values; `total` is their sum weighted by
/// `LossSettings.weight(of:)` (`l_deblur + l_cycle + alpha * l_reblur + prior.weight * l_prior`).
public struct LossTerms: Sendable, Equatable {
    /// One value per `LossTerm.allCases` entry, nil where the step did not compute the term.
    public private(set) var values: [Double?]
    public var total: Double

    /// No term computed yet.
    public init(total: Double = 0) {
        values = [Double?](repeating: nil, count: LossTerm.allCases.count)
        self.total = total
    }

    public init(deblur: Double, cycle: Double? = nil, reblur: Double? = nil, prior: Double? = nil, total: Double) {
        self.init(total: total)
        self[.deblur] = deblur
        self[.cycle] = cycle
        self[.reblur] = reblur
        self[.prior] = prior
    }

    public subscript(term: LossTerm) -> Double? {
        get { values[term.index] }
        set { values[term.index] = newValue }
    }

    /// The terms computed, in `LossTerm` order.
    public var present: [(term: LossTerm, value: Double)] {
        LossTerm.allCases.compactMap { term in self[term].map { (term, $0) } }
    }

    public var deblur: Double { self[.deblur] ?? 0 }
    public var cycle: Double? { self[.cycle] }
    public var reblur: Double? { self[.reblur] }
    public var prior: Double? { self[.prior] }

    public var isFinite: Bool { total.isFinite && values.allSatisfy { ($0 ?? 0).isFinite } }

    public var description: String {
        (["loss_total \(total)"] + present.map { "\($0.term.label) \($0.value)" }).joined(separator: ", ")
    }

    /// These terms with the total and every computed term replaced by what `average` makes of them (the
    /// ranks' allreduce: one call over all of them); the terms not computed stay absent.
    public func averaged(by average: (inout [Double]) throws -> Void) rethrows -> LossTerms {
        var flat = [total] + values.map { $0 ?? 0 }
        try average(&flat)
        var result = LossTerms(total: flat[0])
        for (term, _) in present { result[term] = flat[1 + term.index] }
        return result
    }
}
