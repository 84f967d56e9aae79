import Foundation
import StageSupport

/// One logged step: the terms by name (BasicSR style), 0 for a term the stage does not use.
public struct StepRecord: Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var lr: Double
    public var total: Double
    /// One value per `LossTerm.allCases` entry, 0 where the step did not compute the term.
    public var losses: [Double]
    /// The terms the step computed (those the progress line shows and the manifest stores); for rows read
    /// back from a CSV, the non-zero ones.
    public var computed: Set<LossTerm>
    /// Wall seconds of this step (data wait + forward + backward + update).
    public var seconds: Double

    public init(step: Int, epoch: Int, lr: Double, terms: LossTerms, seconds: Double) {
        self.step = step; self.epoch = epoch; self.lr = lr; self.total = terms.total
        losses = terms.values.map { $0 ?? 0 }
        computed = Set(terms.present.map(\.term))
        self.seconds = seconds
    }

    public init(step: Int, epoch: Int, lr: Double, total: Double, deblur: Double, cycle: Double, reblur: Double, prior: Double = 0,
                seconds: Double) {
        var terms = LossTerms(total: total)
        for (term, value) in zip(LossTerm.allCases, [deblur, cycle, reblur, prior]) where value != 0 { terms[term] = value }
        self.init(step: step, epoch: epoch, lr: lr, terms: terms, seconds: seconds)
    }

    public subscript(term: LossTerm) -> Double { losses[term.index] }

    public var deblur: Double { self[.deblur] }
    public var cycle: Double { self[.cycle] }
    public var reblur: Double { self[.reblur] }
    /// The blur-map prior's pseudo-supervision (network_g.prior, joint stage).
    public var prior: Double { self[.prior] }
}

/// The training curves of a run: `curves.csv` (one row per logged step) and `curves.svg`
/// (one polyline per term against the step, drawn here without a plotting library).
public struct TrainingCurves {
    public static let header = (["step", "epoch", "lr", "loss_total"] + LossTerm.allCases.map(\.label) + ["seconds"])
        .joined(separator: ",")
    public private(set) var records: [StepRecord] = []

    public init(records: [StepRecord] = []) { self.records = records }

    public mutating func append(_ record: StepRecord) { records.append(record) }

    public mutating func reserveCapacity(_ count: Int) { records.reserveCapacity(count) }

    /// Keeps rows up to `step` (inclusive): after a resume, rows past the checkpoint are redone.
    public mutating func truncate(after step: Int) { records.removeAll { $0.step > step } }

    public func csv() -> String {
        var text = Self.header + "\n"
        for r in records {
            let losses = r.losses.map { "\($0)" }.joined(separator: ",")
            text += "\(r.step),\(r.epoch),\(r.lr),\(r.total),\(losses),\(String(format: "%.4f", r.seconds))\n"
        }
        return text
    }

    /// Reads the rows by the header's column names, so the files of runs written with fewer terms (before
    /// `l_prior` existed) still read, with 0 for a term they lack. Rows that do not parse are skipped.
    public static func parse(csv: String) -> TrainingCurves {
        var curves = TrainingCurves()
        let lines = csv.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return curves }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        guard let stepAt = column("step"), let epochAt = column("epoch"), let lrAt = column("lr"), let totalAt = column("loss_total"),
              let secondsAt = column("seconds") else { return curves }
        let termColumns = LossTerm.allCases.map { column($0.label) }
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, let step = Int(f[stepAt]), let epoch = Int(f[epochAt]), let lr = Double(f[lrAt]),
                  let total = Double(f[totalAt]), let seconds = Double(f[secondsAt]) else { continue }
            let values = termColumns.map { $0.map { Double(f[$0]) } ?? 0 }
            guard values.allSatisfy({ $0 != nil }) else { continue }
            var terms = LossTerms(total: total)
            for (term, value) in zip(LossTerm.allCases, values) where value != 0 { terms[term] = value }
            curves.append(StepRecord(step: step, epoch: epoch, lr: lr, terms: terms, seconds: seconds))
        }
        return curves
    }

    public static func load(_ url: URL) -> TrainingCurves {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return TrainingCurves() }
        return parse(csv: text)
    }

    public func write(csvTo csvURL: URL, svgTo svgURL: URL, title: String, jointFromStep: Int?) throws {
        try AtomicFile.write(Data(csv().utf8), to: csvURL)
        try AtomicFile.write(Data(svg(title: title, jointFromStep: jointFromStep).utf8), to: svgURL)
    }

    // MARK: SVG

    /// A line chart: x = step, y = loss (linear from 0), one coloured polyline per non-zero term,
    /// axes with ticks, a legend, and a dashed line where the joint stage starts.
    public func svg(title: String, jointFromStep: Int?) -> String {
        let width = 900.0, height = 520.0
        let left = 80.0, right = 170.0, top = 40.0, bottom = 60.0
        let plotW = width - left - right, plotH = height - top - bottom
        let palette = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
        let series: [(name: String, colour: String, value: (StepRecord) -> Double)] = [("loss_total", "#222222", { $0.total })]
            + LossTerm.allCases.map { term in (term.label, palette[term.index % palette.count], { $0[term] }) }
        let minStep = Double(records.first?.step ?? 0), maxStep = Double(max(records.last?.step ?? 1, (records.first?.step ?? 0) + 1))
        let maxValue = records.flatMap { r in series.map { $0.value(r) } }.filter { $0.isFinite }.max() ?? 1
        let yTop = Self.niceCeiling(max(maxValue, 1e-6))
        func px(_ step: Double) -> Double { left + (step - minStep) / (maxStep - minStep) * plotW }
        func py(_ value: Double) -> Double { top + plotH - min(max(value / yTop, 0), 1) * plotH }

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="24" font-size="15">\(Self.escape(title))</text>

        """
        // Axes and ticks.
        s += "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(left + plotW)\" y2=\"\(top + plotH)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotH)\" stroke=\"black\"/>\n"
        for i in 0...5 {
            let value = yTop * Double(i) / 5, y = py(value)
            s += "<line x1=\"\(left - 5)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"#e0e0e0\"/>\n"
            s += "<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Self.label(value))</text>\n"
            let step = minStep + (maxStep - minStep) * Double(i) / 5, x = px(step)
            s += "<line x1=\"\(x)\" y1=\"\(top + plotH)\" x2=\"\(x)\" y2=\"\(top + plotH + 5)\" stroke=\"black\"/>\n"
            s += "<text x=\"\(x)\" y=\"\(top + plotH + 20)\" text-anchor=\"middle\">\(Int(step.rounded()))</text>\n"
        }
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 15)\" text-anchor=\"middle\">step</text>\n"
        s += "<text x=\"20\" y=\"\(top + plotH / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(top + plotH / 2))\">Charbonnier loss</text>\n"
        if let joint = jointFromStep, Double(joint) > minStep, Double(joint) < maxStep {
            let x = px(Double(joint))
            s += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + plotH)\" stroke=\"#888888\" stroke-dasharray=\"6,4\"/>\n"
            s += "<text x=\"\(x + 4)\" y=\"\(top + 12)\" fill=\"#555555\">joint stage</text>\n"
        }
        // One polyline per term that is ever non-zero.
        var legendY = top + 10
        for entry in series where records.contains(where: { entry.value($0) != 0 }) {
            let points = records.filter { entry.value($0).isFinite }
                .map { String(format: "%.1f,%.1f", px(Double($0.step)), py(entry.value($0))) }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(entry.colour)\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
            s += "<line x1=\"\(left + plotW + 15)\" y1=\"\(legendY)\" x2=\"\(left + plotW + 40)\" y2=\"\(legendY)\" stroke=\"\(entry.colour)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(left + plotW + 46)\" y=\"\(legendY + 4)\">\(entry.name)</text>\n"
            legendY += 20
        }
        s += "</svg>\n"
        return s
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for m in [1.0, 2.0, 5.0, 10.0] where m * power >= value { return m * power }
        return 10 * power
    }

    static func label(_ value: Double) -> String {
        value == 0 ? "0" : (value >= 0.01 ? String(format: "%.3g", value) : String(format: "%.1e", value))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
