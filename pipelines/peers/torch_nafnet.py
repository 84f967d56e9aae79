#!/usr/bin/env python3
"""PyTorch twin of Models/NAFNet.swift (NAFNet, Chen et al., ECCV 2022), written from the paper and
Sources/Models/NAFBlock.swift / NAFNet.swift, with the same parameter names.

  torch_nafnet.py time [--size 256 --steps 3 --threads 2]   NAFNet's GoPro model (width 32, 36 blocks): median
                               seconds of a training step (forward, Charbonnier to a fixed target, backward,
                               Adam), printed as JSON; the peer of `make perf ONLY=train-step-nafnet`.
  torch_nafnet.py export DIR   writes the parity fixtures of Tests/ModelsTests/NAFNetParityTests.swift:
                               nafnet.safetensors (weights), nafnet_io.safetensors (input, probe, output)
                               and nafnet_grads.safetensors (d sum(probe * output) / d every parameter).

Run with the peers' interpreter (jdrl-bench: JDRL_PEER_PYTHON, today's PyTorch); Debian's python3 (PyTorch 1.13) also runs it. The one difference from NAFNet's code: ups.N.0 has a bias,
as ours does.
"""
import argparse
import json
import sys

import torch
import torch.nn as nn

from twin_io import print_mode_timing, save_safetensors


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of each pixel (biased variance, eps inside the root)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        y = (x - mean) / (var + self.eps).sqrt()
        return self.weight.view(1, -1, 1, 1) * y + self.bias.view(1, -1, 1, 1)


class SimpleGate(nn.Module):
    def forward(self, x):
        first, second = x.chunk(2, dim=1)
        return first * second


class NAFBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.conv3 = nn.Conv2d(c, c, 1)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.gate = SimpleGate()
        self.conv4 = nn.Conv2d(c, 2 * c, 1)
        self.conv5 = nn.Conv2d(c, c, 1)
        self.norm1 = ChannelLayerNorm(c)
        self.norm2 = ChannelLayerNorm(c)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x):
        t = self.gate(self.conv2(self.conv1(self.norm1(x))))
        t = self.conv3(t * self.sca(t))
        y = x + self.beta * t
        return y + self.gamma * self.conv5(self.gate(self.conv4(self.norm2(y))))


class NAFNet(nn.Module):
    def __init__(self, width, enc_blocks, middle_blocks, dec_blocks):
        super().__init__()
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        c = width
        for count in enc_blocks:
            self.encoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(count)]))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle_blks = nn.Sequential(*[NAFBlock(c) for _ in range(middle_blocks)])
        for count in dec_blocks:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(count)]))

    def forward(self, image):
        x = self.intro(image)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = decoder(up(x) + skip)
        return image + self.ending(x)


def export(directory):
    torch.manual_seed(2022)
    net = NAFNet(width=8, enc_blocks=[1, 2], middle_blocks=1, dec_blocks=[0, 1])
    with torch.no_grad():
        for name, p in net.named_parameters():
            # Branch scales and norm weights near 1, the rest as initialised (beta = gamma = 0 would hide
            # every first-half gradient behind a zero).
            if name.endswith(('beta', 'gamma', 'norm1.weight', 'norm2.weight')):
                p.copy_(1 + 0.3 * torch.randn_like(p))
    image = torch.rand(2, 3, 16, 16)
    probe = torch.randn(2, 3, 16, 16)
    output = net(image)
    (output * probe).sum().backward()
    save_safetensors(f'{directory}/nafnet.safetensors', dict(net.named_parameters()))
    save_safetensors(f'{directory}/nafnet_io.safetensors', {'input': image, 'probe': probe, 'output': output})
    save_safetensors(f'{directory}/nafnet_grads.safetensors', {n: p.grad for n, p in net.named_parameters()})
    print(json.dumps({'exported': directory, 'parameters': sum(p.numel() for p in net.parameters())}))


def time_steps(size, steps, threads, modes):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = NAFNet(width=32, enc_blocks=[1, 1, 1, 28], middle_blocks=1, dec_blocks=[1, 1, 1, 1])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    blurry, target = torch.rand(1, 3, size, size), torch.rand(1, 3, size, size)

    def make_step(memory_format, blurry=blurry, target=target):
        net.to(memory_format=memory_format)
        blurry, target = (blurry.contiguous(memory_format=memory_format), target.contiguous(memory_format=memory_format))

        def step():
            optimizer.zero_grad()
            loss = torch.sqrt((net(blurry) - target) ** 2 + 1e-6).mean()
            loss.backward()
            optimizer.step()
        return step

    print_mode_timing(make_step, steps, modes, threads=threads, size=size,
                      parameters=sum(p.numel() for p in net.parameters()))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['export', 'time'])
    parser.add_argument('dir', nargs='?')
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--modes', default='default,channels_last,bf16_autocast',
                        help='f32 memory formats to time (the faster is the headline) and bf16 autocast where the CPU has bf16')
    args = parser.parse_args(sys.argv[1:])
    if args.command == 'export':
        if not args.dir:
            parser.error('export needs DIR')
        export(args.dir)
    else:
        time_steps(args.size, args.steps, args.threads, args.modes.split(','))
