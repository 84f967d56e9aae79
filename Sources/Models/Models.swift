// Models: see design.md. (Placeholder until the module lands.)
