import StageSupport

// Which row of the shared exit-status table (StageSupport.ExitStatus) each of this module's errors ends a stage with.
extension CheckpointError: InputError {}
extension DirectEvaluation.Failure: InputError {}
