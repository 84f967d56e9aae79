#!/usr/bin/env python3
"""Peers of the unet-infer and deblur-4k benchmarks: the UNet of torch_jdrl.py (in the peers' folder,
paper widths) run on `--measure` tiles of `--size` pixels, the median seconds per tile and that figure
times `--tiles` (the tile count jdrl-deblur needs for the image), as one JSON line.

PyTorch runs under no_grad the ways a user would: f32 in the default memory format and in
channels-last (the faster is the headline), and bf16 autocast where the CPU has bf16. With `--onnx`,
the same network (same weights) is exported to ONNX and run by ONNX Runtime on the same threads,
as a user deploys CPU inference."""
import argparse, json, os, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument('--peers', default=os.environ.get('JDRL_PEERS'),
                    help="the peers folder (default: $JDRL_PEERS, which jdrl-bench sets)")
parser.add_argument('--size', type=int, default=512)
parser.add_argument('--tiles', type=int, required=True)
parser.add_argument('--measure', type=int, default=3)
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--modes', default='default,channels_last,bf16_autocast')
parser.add_argument('--onnx', action='store_true', help='also time ONNX Runtime on the exported network')
args = parser.parse_args()
if not args.peers:
    sys.exit("torch_tiled_unet.py: give --peers DIR or set JDRL_PEERS (the folder holding torch_jdrl.py)")
sys.path.insert(0, args.peers)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from torch_jdrl import UNet
from twin_io import mode_fields, time_user_modes

torch.set_num_threads(args.threads)
torch.manual_seed(0)
net = UNet([64, 128, 256, 512, 1024]).eval()
tile = torch.rand(1, 3, args.size, args.size)


def make_run(memory_format):
    net.to(memory_format=memory_format)
    x = tile.contiguous(memory_format=memory_format)

    def run():
        with torch.no_grad():
            net(x)
    return run


best, results = time_user_modes(make_run, args.measure, args.modes.split(','))
fields = mode_fields(best, results, 'tile_s')
per_tile = fields['tile_s_median']
fields.update({'tile_s': per_tile, 'tiles': args.tiles, 'total_s': per_tile * args.tiles, 'threads': args.threads})

if args.onnx:
    try:
        import numpy
        import onnxruntime
        net.to(memory_format=torch.contiguous_format)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'unet.onnx')
            try:
                torch.onnx.export(net, (tile,), path, input_names=['blurry'], output_names=['deblurred'], dynamo=False)
            except TypeError:  # a PyTorch without the `dynamo` switch has only the TorchScript exporter
                torch.onnx.export(net, (tile,), path, input_names=['blurry'], output_names=['deblurred'])
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = args.threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle workers wait as the OpenMP ones of both other sides do under OMP_WAIT_POLICY=passive
            # (what the Makefile sets), instead of spinning against them.
            if os.environ.get('OMP_WAIT_POLICY', '').lower() == 'passive':
                options.add_session_config_entry('session.intra_op.allow_spinning', '0')
            session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        feed = {'blurry': tile.numpy()}
        with torch.no_grad():
            expected = net(tile).numpy()
        got = session.run(None, feed)[0]
        times = []
        for _ in range(args.measure):
            started = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - started)
        times.sort()
        ort_tile = times[len(times) // 2]
        fields.update({'onnxruntime': f'onnxruntime {onnxruntime.__version__}', 'onnxruntime_tile_s': ort_tile,
                       'onnxruntime_tile_s_all': times, 'onnxruntime_total_s': ort_tile * args.tiles,
                       'onnxruntime_vs_pytorch_max_abs_diff': float(numpy.abs(got - expected).max())})
    except Exception as error:  # the PyTorch figures stand without it; say why ONNX Runtime is missing
        fields['onnxruntime_error'] = f'{type(error).__name__}: {error}'
print(json.dumps(fields))
