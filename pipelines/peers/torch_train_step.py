#!/usr/bin/env python3
"""PyTorch peers of the training-step benchmarks, over the networks of torch_jdrl.py in the peers'
folder (`--peers`, default $JDRL_PEERS, which jdrl-bench sets). Each is timed the ways a PyTorch user
would run it on a CPU: f32 in the default memory format and in channels-last (the faster is the
headline) and bf16 autocast where the CPU has bf16 (`twin_io.time_user_modes`). One JSON line.

  torch_train_step.py simple [--size 256 --widths ... --reblur-width 64]
      train-step-paper / train-step-cpu: UNet + reblurring module, batch 1, Charbonnier to a fixed
      target plus the reblur term, Adam (what torch_jdrl.py `time` runs).
  torch_train_step.py jdrl BATCH.safetensors [--widths 32,64,128,256 --reblur-width 32 --residual]
      train-step-jdrl: the joint-stage step of the training loop on the batch jdrl-bench wrote
      (blurry, sharp, both flows, both masks): F, warp(GT, flow out->GT) with grid_sample (bilinear,
      border, align_corners, as Flow/Warp.swift), the masked deblur term, the masked cycle term over
      warp(out, flow GT->out), alpha x the reblur term through R, backward, Adam on F and on R.
"""
import argparse, json, os, sys

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('command', choices=['simple', 'jdrl'])
parser.add_argument('batch', nargs='?', help='jdrl: the safetensors batch jdrl-bench wrote')
parser.add_argument('--peers', default=os.environ.get('JDRL_PEERS'))
parser.add_argument('--size', type=int, default=256)
parser.add_argument('--widths', default='64,128,256,512,1024')
parser.add_argument('--reblur-width', type=int, default=64)
parser.add_argument('--residual', action='store_true', help='output = input + head (no sigmoid), as network_g.residual')
parser.add_argument('--dropout', type=float, default=0.4)
parser.add_argument('--alpha', type=float, default=0.5)
parser.add_argument('--eps', type=float, default=1e-3)
parser.add_argument('--lr', type=float, default=2e-5)
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--steps', type=int, default=5)
parser.add_argument('--modes', default='default,channels_last,bf16_autocast')
args = parser.parse_args()
sys.path.insert(0, args.peers)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import torch.nn.functional as F
from torch_jdrl import UNet, Reblur
from twin_io import load_safetensors, print_mode_timing


def charbonnier(a, b, eps):
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


class ResidualUNet(UNet):
    """network_g.residual: the same levels, output = input + head(...) without the sigmoid."""

    def forward(self, x):
        image, skips, n = x, [], len(self.enc)
        for i, block in enumerate(self.enc):
            x = block(x)
            if i >= n - 2:
                x = self.drop(x)
            if i < n - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, block in zip(self.ups, self.dec):
            x = up(F.interpolate(x, scale_factor=2, mode='nearest'))
            x = block(torch.cat([x, skips.pop()], 1))
        return image + self.head(x)


def warp(image, u, v):
    """image sampled at p + (u, v)(p), bilinear on pixel centres, positions clamped to the image."""
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing='ij')
    gx = 2 * (xs + u) / (w - 1) - 1
    gy = 2 * (ys + v) / (h - 1) - 1
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(image, grid, mode='bilinear', padding_mode='border', align_corners=True)


torch.set_num_threads(args.threads)
torch.manual_seed(0)
widths = [int(w) for w in args.widths.split(',')]
net = (ResidualUNet if args.residual else UNet)(widths, dropout=args.dropout)
reblur = Reblur(args.reblur_width)
# Two optimizers, as the training loop keeps one Adam for F and one for R.
net_optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
reblur_optimizer = torch.optim.Adam(reblur.parameters(), lr=args.lr)
fields = {'threads': args.threads, 'widths': widths, 'reblur_width': args.reblur_width,
          'unet_params': sum(p.numel() for p in net.parameters()),
          'reblur_params': sum(p.numel() for p in reblur.parameters())}

if args.command == 'simple':
    blurry, target = torch.rand(1, 3, args.size, args.size), torch.rand(1, 3, args.size, args.size)

    def make_step(memory_format, blurry=blurry, target=target):
        net.to(memory_format=memory_format); reblur.to(memory_format=memory_format)
        blurry, target = blurry.contiguous(memory_format=memory_format), target.contiguous(memory_format=memory_format)

        def step():
            out = net(blurry)
            reblurred, _ = reblur(out, blurry)
            loss = charbonnier(out, target, args.eps) + args.alpha * charbonnier(reblurred, blurry, args.eps)
            net_optimizer.zero_grad(); reblur_optimizer.zero_grad()
            loss.backward()
            net_optimizer.step(); reblur_optimizer.step()
        return step

    print_mode_timing(make_step, args.steps, args.modes.split(','), size=args.size, batch=1, **fields)
else:
    if not args.batch:
        parser.error('jdrl needs the batch file')
    b = load_safetensors(args.batch)
    mask = b['blurry_to_sharp_mask'].unsqueeze(1)
    cycle_mask = b['sharp_to_blurry_mask'].unsqueeze(1)

    def make_step(memory_format, blurry=b['blurry'], sharp=b['sharp']):
        net.to(memory_format=memory_format); reblur.to(memory_format=memory_format)
        blurry, sharp = blurry.contiguous(memory_format=memory_format), sharp.contiguous(memory_format=memory_format)

        def step():
            out = net(blurry)
            warped_gt = warp(sharp, b['blurry_to_sharp_u'], b['blurry_to_sharp_v'])
            deblur_term = charbonnier(mask * out, mask * warped_gt, args.eps)
            warped_out = warp(out, b['sharp_to_blurry_u'], b['sharp_to_blurry_v'])
            cycle_term = charbonnier(cycle_mask * warped_out, cycle_mask * sharp, args.eps)
            reblurred, _ = reblur(out, blurry)
            reblur_term = charbonnier(reblurred, blurry, args.eps)
            loss = deblur_term + cycle_term + args.alpha * reblur_term
            net_optimizer.zero_grad(); reblur_optimizer.zero_grad()
            loss.backward()
            net_optimizer.step(); reblur_optimizer.step()
        return step

    n, _, h, w = b['blurry'].shape
    print_mode_timing(make_step, args.steps, args.modes.split(','), batch=n, size=h, alpha=args.alpha, **fields)
