import StageSupport

// Which row of the shared exit-status table (StageSupport.ExitStatus) each of this module's errors ends jdrl-train with.
extension TrainingConfigError: CallError {}
extension DataError: InputError {}

extension TrainingError: StageError {
    public var exitStatus: ExitStatus {
        switch self {
        // The step is named and the last good checkpoint kept: the item that failed is that step.
        case .nonFiniteLoss: return .someItemsFailed
        // The run folder holds another config's or seed's checkpoints: the call must name another run.
        case .configChanged, .seedChanged: return .badCall
        }
    }
}
extension InitialWeightsError: InputError {}
