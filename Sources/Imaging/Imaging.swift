// Imaging: see design.md. (Placeholder until the module lands.)
import CVips
