#!/usr/bin/env python3
"""PyTorch peer of the deblur-4k benchmark: the UNet of the peers' torch_jdrl.py (paper widths)
run on `--measure` tiles of `--size` pixels under no_grad; prints the median seconds per tile and
that figure times `--tiles` (the tile count jdrl-deblur needs for the image) as one JSON line."""
import argparse, json, os, sys, time

parser = argparse.ArgumentParser()
parser.add_argument('--peers', default=os.environ.get('JDRL_PEERS'),
                    help="the peers folder (default: $JDRL_PEERS, which jdrl-bench sets)")
parser.add_argument('--size', type=int, default=512)
parser.add_argument('--tiles', type=int, required=True)
parser.add_argument('--measure', type=int, default=3)
parser.add_argument('--threads', type=int, default=2)
args = parser.parse_args()
if not args.peers:
    sys.exit("torch_tiled_unet.py: give --peers DIR or set JDRL_PEERS (the folder holding torch_jdrl.py)")
sys.path.insert(0, args.peers)
import torch
from torch_jdrl import UNet

torch.set_num_threads(args.threads)
torch.manual_seed(0)
net = UNet([64, 128, 256, 512, 1024]).eval()
tile = torch.rand(1, 3, args.size, args.size)
with torch.no_grad():
    net(tile)
    times = []
    for _ in range(args.measure):
        start = time.perf_counter(); net(tile); times.append(time.perf_counter() - start)
times.sort()
per_tile = times[len(times) // 2]
print(json.dumps({'peer': f'pytorch {torch.__version__}', 'tile_s': per_tile, 'tiles': args.tiles,
                  'total_s': per_tile * args.tiles}))
