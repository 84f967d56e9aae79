/// The loss of one step, each term by name (BasicSR style). A term a stage does not use is nil.
/// `l_reblur` and `l_prior` are unweighted Charbonnier values;
/// `total = l_deblur + l_cycle + alpha * l_reblur + prior.weight * l_prior`.
public struct LossTerms: Sendable, Equatable {
    public var deblur: Double
    public var cycle: Double?
    public var reblur: Double?
    /// The blur-map prior's pseudo-supervision, Charb(predicted seeds, KPN seeds).
    public var prior: Double?
    public var total: Double

    public init(deblur: Double, cycle: Double? = nil, reblur: Double? = nil, prior: Double? = nil, total: Double) {
        self.deblur = deblur
        self.cycle = cycle
        self.reblur = reblur
        self.prior = prior
        self.total = total
    }

    public var isFinite: Bool {
        deblur.isFinite && (cycle ?? 0).isFinite && (reblur ?? 0).isFinite && (prior ?? 0).isFinite && total.isFinite
    }

    public var description: String {
        var parts = ["loss_total \(total)", "l_deblur \(deblur)"]
        if let cycle { parts.append("l_cycle \(cycle)") }
        if let reblur { parts.append("l_reblur \(reblur)") }
        if let prior { parts.append("l_prior \(prior)") }
        return parts.joined(separator: ", ")
    }
}
