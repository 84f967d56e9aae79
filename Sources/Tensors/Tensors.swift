// Tensors: see design.md. (Placeholder until the module lands.)
import CDNNL
import COpenBLAS
