// Checkpoints and PyTorch exports are safetensors files, read and written by the WeightFiles module
// (shared with Metrics' LPIPS weights); re-exported so that every user of Tensors sees `SafeTensors`.
@_exported import WeightFiles
