import Foundation
import GRDB
import Manifest
import Testing
import Training

/// The loss's term list drives the ranks' averaging, the progress line, the curves and the manifest rows:
/// every term a step computed reaches each of them, and no term it did not compute appears.
@Suite struct LossTermsTests {
    static let everyTerm = LossTerms(deblur: 0.4, cycle: 0.3, reblur: 0.2, prior: 0.1, total: 0.4 + 0.3 + 0.5 * 0.2 + 0.5 * 0.1)

    /// Two ranks' terms through the averaging with a second rank's values standing in for the allreduce.
    @Test func averagingKeepsEveryComputedTerm() throws {
        let other = LossTerms(deblur: 0.6, cycle: 0.5, reblur: 0.4, prior: 0.3, total: 1.25)
        let averaged = Self.everyTerm.averaged { values in
            let theirs = [other.total] + other.values.map { $0 ?? 0 }
            values = zip(values, theirs).map { ($0 + $1) / 2 }
        }
        #expect(averaged.present.map(\.term) == LossTerm.allCases)
        #expect(abs(averaged.total - 1.05) < 1e-12)
        #expect(abs(averaged.deblur - 0.5) < 1e-12 && abs(averaged.cycle! - 0.4) < 1e-12)
        #expect(abs(averaged.reblur! - 0.3) < 1e-12 && abs(averaged.prior! - 0.2) < 1e-12)

        // A term not computed stays absent (the initialisation stage has no cycle, reblur or prior).
        let initial = LossTerms(deblur: 0.4, total: 0.4).averaged { values in values = values.map { $0 * 2 } }
        #expect(initial.present.map(\.term) == [.deblur] && initial.total == 0.8 && initial.deblur == 0.8)
    }

    @Test func theProgressLineAndTheCurvesNameEveryComputedTerm() {
        let record = StepRecord(step: 7, epoch: 1, lr: 1e-4, terms: Self.everyTerm, seconds: 0.25)
        let line = ProgressLine(epoch: 1, epochs: 4, step: 7, totalSteps: 8, stage: .joint, record: record, stepsPerSecond: 1).text
        for term in LossTerm.allCases {
            #expect(line.contains(String(format: "%@ %.5f", term.label, Self.everyTerm[term]!)), "\(term.label) in \(line)")
        }
        let initial = StepRecord(step: 1, epoch: 0, lr: 1e-4, terms: LossTerms(deblur: 0.4, total: 0.4), seconds: 0.25)
        let initialLine = ProgressLine(epoch: 0, epochs: 4, step: 1, totalSteps: 8, stage: .initialisation, record: initial,
                                       stepsPerSecond: 1).text
        #expect(initialLine.contains("l_deblur 0.40000") && !initialLine.contains("l_cycle") && !initialLine.contains("l_prior"))

        let csv = TrainingCurves(records: [initial, record]).csv()
        #expect(csv.hasPrefix("step,epoch,lr,loss_total,l_deblur,l_cycle,l_reblur,l_prior,seconds\n"))
        #expect(TrainingCurves.parse(csv: csv).records == [initial, record])
    }

    /// curves.csv of runs from before the prior term existed: eight columns, read with l_prior 0.
    @Test func curvesWithoutThePriorColumnStillRead() {
        let old = "step,epoch,lr,loss_total,l_deblur,l_cycle,l_reblur,seconds\n1,0,0.0001,0.5,0.5,0.0,0.0,0.1000\n2,1,0.0001,0.9,0.4,0.3,0.4,0.2000\n"
        let records = TrainingCurves.parse(csv: old).records
        #expect(records.count == 2)
        #expect(records[1].deblur == 0.4 && records[1].cycle == 0.3 && records[1].reblur == 0.4 && records[1].prior == 0)
        #expect(records[0].computed == [.deblur] && records[1].seconds == 0.2)
    }

    /// The manifest row holds each computed term in its `loss_<name>` column and NULL for the others;
    /// a step rewritten with fewer terms loses the old values.
    @Test func manifestRowsStoreEveryComputedTerm() throws {
        let manifest = try Manifest.inMemory()
        let recorder = try RunRecorder(manifest: manifest, name: "terms", configPath: "c.yaml", configHash: "h", resumingFromStep: 0)
        try recorder.record(steps: [StepRecord(step: 1, epoch: 0, lr: 1e-4, terms: Self.everyTerm, seconds: 0.5)])
        let row = try #require(try manifest.trainingSteps(runID: recorder.runID).first)
        #expect(row.losses == ["deblur": 0.4, "cycle": 0.3, "reblur": 0.2, "prior": 0.1] && row.lossTotal == Self.everyTerm.total)
        let prior = try manifest.reader.read { db in try Double?.fetchOne(db, sql: "SELECT loss_prior FROM training_steps") }
        #expect(prior == 0.1)

        try recorder.record(steps: [StepRecord(step: 1, epoch: 0, lr: 1e-4, terms: LossTerms(deblur: 0.4, total: 0.4), seconds: 0.5)])
        let columns = try manifest.reader.read { db in
            try Row.fetchOne(db, sql: "SELECT loss_deblur, loss_cycle, loss_reblur, loss_prior FROM training_steps")
        }
        #expect(columns?[0] as Double? == 0.4 && columns?[1] as Double? == nil && columns?[3] as Double? == nil)
    }
}
