#!/usr/bin/env python3
"""PyTorch twin of the blur-map prior network (Models/BlurMapPrior.swift, PriorGuidedNetwork.swift), written
from the journal extension as docs/method.md describes it, with the same parameter names as our checkpoints:

  estimator.0            conv3x3 3 -> 32                      (no activation)
  estimator.{1,2,3}.c1/c2 residual blocks x + c2(relu(c1(x)))
  estimator.4            conv3x3 32 -> 35 kernel seeds
  gate.squeeze / excite  squeeze-excitation on concat(blurry, ramp * seeds): 38 -> 2 -> 38, no biases
  enc.* ups.* dec.* head the residual UNet of network_g (nearest x2 + 2x2 'same' conv up, concat [up, skip])
                         reading the 38 gated channels; out = blurry + head(...)

  torch_prior.py export DIR   writes the fixtures of Tests/ModelsTests/PriorTests.swift:
                              prior_unet.safetensors (weights), prior_io.safetensors (input, probe, seed
                              target, output, scaled seeds) and prior_grads.safetensors: the gradient of
                              sum(probe * out) + 0.5 * Charb(ramp * seeds, target) w.r.t. every parameter,
                              at ramp 0.6 (so that both the deblurring path and the pseudo-supervision's
                              reach the estimator).
  torch_prior.py time [--size 64 --batch 4 --steps 10 --threads 2]   a training step of
                              jdrl-prior-unet-cpu.yaml's network (widths 32..256): forward,
                              Charb(out, target) + 0.5 Charb(seeds, seed target), backward, Adam; median,
                              printed as JSON; the peer of `make perf ONLY=train-step-prior`.

Run with the peers' interpreter (jdrl-bench: JDRL_PEER_PYTHON, today's PyTorch); Debian's python3 (PyTorch 1.13) also runs it.
"""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_io import print_mode_timing, save_safetensors

SEEDS = 35
FEATURES = 3 + SEEDS


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.c1 = nn.Conv2d(width, width, 3, padding=1)
        self.c2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.relu(self.c1(x)))


class Gate(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.squeeze = nn.Linear(channels, hidden, bias=False)
        self.excite = nn.Linear(hidden, channels, bias=False)

    def forward(self, x):
        g = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean(dim=(2, 3))))))
        return x * g[:, :, None, None]


class SamePadUp(nn.Module):
    """Nearest x2, then a 2x2 convolution whose extra padding row and column sit at the bottom and right."""
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 2)

    def forward(self, x):
        return self.conv(F.pad(F.interpolate(x, scale_factor=2, mode='nearest'), (0, 1, 0, 1)))


class PriorUNet(nn.Module):
    def __init__(self, widths, estimator_width=32):
        super().__init__()
        self.estimator = nn.ModuleDict({'0': nn.Conv2d(3, estimator_width, 3, padding=1)})
        for b in ('1', '2', '3'):
            self.estimator[b] = ResidualBlock(estimator_width)
        self.estimator['4'] = nn.Conv2d(estimator_width, SEEDS, 3, padding=1)
        self.gate = Gate(FEATURES, FEATURES // 16)
        cin, self.enc = FEATURES, nn.ModuleList()
        for w in widths:
            self.enc.append(nn.Sequential(nn.Conv2d(cin, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1), nn.ReLU()))
            cin = w
        decoder = list(reversed(widths[:-1]))
        self.ups, self.dec = nn.ModuleList(), nn.ModuleList()
        for w in decoder:
            self.ups.append(SamePadUp(cin, w))
            self.dec.append(nn.Sequential(nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1), nn.ReLU()))
            cin = w
        self.head = nn.Conv2d(cin, 3, 3, padding=1)

    def seeds(self, blurry):
        x = self.estimator['0'](blurry)
        for b in ('1', '2', '3'):
            x = self.estimator[b](x)
        return self.estimator['4'](x)

    def forward(self, blurry, ramp=1.0):
        scaled = ramp * self.seeds(blurry)
        x = self.gate(torch.cat([blurry, scaled], dim=1))
        skips = []
        for i, level in enumerate(self.enc):
            x = level(x)
            if i < len(self.enc) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec, skip in zip(self.ups, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return blurry + self.head(x), scaled


def charbonnier(a, b, eps=1e-3):
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


def export(directory):
    torch.manual_seed(2024)
    net = PriorUNet(widths=[8, 16])
    with torch.no_grad():
        # Gate weights large enough that the gate is not flat; everything else as PyTorch initialised it.
        net.gate.squeeze.weight.mul_(4)
        net.gate.excite.weight.mul_(2)
    ramp = 0.6
    image = torch.rand(2, 3, 16, 16)
    probe = torch.randn(2, 3, 16, 16)
    target = 0.3 * torch.randn(2, SEEDS, 16, 16)
    output, scaled = net(image, ramp)
    loss = (output * probe).sum() + 0.5 * charbonnier(scaled, target)
    loss.backward()
    save_safetensors(f'{directory}/prior_unet.safetensors', dict(net.named_parameters()))
    save_safetensors(f'{directory}/prior_io.safetensors', {'input': image, 'probe': probe, 'seed_target': target,
                                                          'output': output, 'scaled_seeds': scaled,
                                                          'ramp': torch.tensor([ramp])})
    save_safetensors(f'{directory}/prior_grads.safetensors', {n: p.grad for n, p in net.named_parameters()})
    print(json.dumps({'exported': directory, 'parameters': sum(p.numel() for p in net.parameters()),
                      'estimator': sum(p.numel() for n, p in net.named_parameters() if n.startswith('estimator.'))}))


def time_steps(size, batch, steps, threads, modes):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = PriorUNet(widths=[32, 64, 128, 256])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    blurry, target = torch.rand(batch, 3, size, size), torch.rand(batch, 3, size, size)
    seed_target = torch.rand(batch, SEEDS, size, size)

    def make_step(memory_format, blurry=blurry, target=target, seed_target=seed_target):
        net.to(memory_format=memory_format)
        blurry, target, seed_target = (blurry.contiguous(memory_format=memory_format), target.contiguous(memory_format=memory_format), seed_target.contiguous(memory_format=memory_format))

        def step():
            optimizer.zero_grad()
            output, scaled = net(blurry)
            loss = charbonnier(output, target) + 0.5 * charbonnier(scaled, seed_target)
            loss.backward()
            optimizer.step()
        return step

    print_mode_timing(make_step, steps, modes, threads=threads, size=size, batch=batch,
                      parameters=sum(p.numel() for p in net.parameters()))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['export', 'time'])
    parser.add_argument('dir', nargs='?')
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--modes', default='default,channels_last,bf16_autocast',
                        help='f32 memory formats to time (the faster is the headline) and bf16 autocast where the CPU has bf16')
    args = parser.parse_args()
    if args.command == 'export':
        if not args.dir:
            parser.error('export needs DIR')
        export(args.dir)
    else:
        time_steps(args.size, args.batch, args.steps, args.threads, args.modes.split(','))
