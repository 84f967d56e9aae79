#!/usr/bin/env python3
"""Generates the LPIPS parity fixture for MetricsTests (run once with Debian's /usr/bin/python3,
which has torch; outputs are committed).

The network is the `lpips` package's AlexNet variant (lpips 0.1.4: LPIPS(net='alex', version='0.1')),
rebuilt here in plain torch because torchvision and lpips are not installed: same layers, same
state_dict key names (net.slice1.0.weight ... net.slice5.10.bias, lin0.model.1.weight ...), same
ScalingLayer, normalize_tensor (eps 1e-10), spatial average and sum over the five taps.

Why reduced widths: the real AlexNet trunk (64/192/384/256/256 channels, ~10 MB of f32 weights) is
too big to commit, and seeded generators do not agree between torch and Swift. So the fixture uses
the same architecture with channel counts 8/16/24/16/16 and RANDOM (seeded) weights; the Swift
LPIPS reads every width from the safetensors shapes, so the same code runs the real weights.

Writes: lpips_small.safetensors (F32, safetensors layout), lpips_pair{k}_{a,b}.raw (HWC uint8; the
network sees u8/255, mapped to [-1,1]) and lpips_expected.json (distance and per-tap values).

  /usr/bin/python3 make_lpips_fixture.py
"""
import json, os, struct
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = [8, 16, 24, 16, 16]
SIZES = [(64, 64), (50, 70), (72, 40)]  # (height, width)


class AlexTrunk(nn.Module):
    """torchvision alexnet().features split into lpips' five slices (module indices kept)."""
    def __init__(self, widths):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        layers = [nn.Conv2d(3, c1, 11, 4, 2), nn.ReLU(),
                  nn.MaxPool2d(3, 2), nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(),
                  nn.MaxPool2d(3, 2), nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
                  nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
                  nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU()]
        bounds = [(0, 2), (2, 5), (5, 8), (8, 10), (10, 12)]
        for k, (lo, hi) in enumerate(bounds, 1):
            s = nn.Sequential()
            for i in range(lo, hi):
                s.add_module(str(i), layers[i])
            setattr(self, f'slice{k}', s)

    def forward(self, x):
        taps = []
        for k in range(1, 6):
            x = getattr(self, f'slice{k}')(x)
            taps.append(x)
        return taps


class LPIPSAlex(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.register_buffer('shift', torch.tensor([-.030, -.088, -.188])[None, :, None, None])
        self.register_buffer('scale', torch.tensor([.458, .448, .450])[None, :, None, None])
        self.net = AlexTrunk(widths)
        for k, c in enumerate(widths):  # NetLinLayer with use_dropout=True: Dropout at index 0
            setattr(self, f'lin{k}', nn.Module())
            getattr(self, f'lin{k}').model = nn.Sequential(nn.Dropout(), nn.Conv2d(c, 1, 1, bias=False))

    def forward(self, in0, in1):
        t0 = self.net((in0 - self.shift) / self.scale)
        t1 = self.net((in1 - self.shift) / self.scale)
        per_tap = []
        for k in range(5):
            n0 = t0[k] / (torch.sqrt(torch.sum(t0[k] ** 2, dim=1, keepdim=True)) + 1e-10)
            n1 = t1[k] / (torch.sqrt(torch.sum(t1[k] ** 2, dim=1, keepdim=True)) + 1e-10)
            per_tap.append(getattr(self, f'lin{k}').model((n0 - n1) ** 2).mean([2, 3]).item())
        return sum(per_tap), per_tap


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        blobs.append(data); off += len(data)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs:
            f.write(b)


def smooth_image(h, w):
    """A textured image: bilinearly upsampled noise plus finer noise, as HWC uint8."""
    coarse = torch.rand(1, 3, h // 6 + 2, w // 6 + 2)
    up = nn.functional.interpolate(coarse, size=(h, w), mode='bilinear', align_corners=False)
    img = (0.8 * up + 0.2 * torch.rand(1, 3, h, w)).clamp(0, 1)
    return (img[0].permute(1, 2, 0) * 255).round().to(torch.uint8)


def main():
    torch.manual_seed(6)
    model = LPIPSAlex(WIDTHS).eval()
    with torch.no_grad():
        for k in range(5):  # trained lpips linear weights are non-negative
            getattr(model, f'lin{k}').model[1].weight.uniform_(0.0, 1.0)
    state = {k: v for k, v in model.state_dict().items() if k not in ('shift', 'scale')}
    save_safetensors(os.path.join(HERE, 'lpips_small.safetensors'), state)
    cases = []
    for idx, (h, w) in enumerate(SIZES):
        a = smooth_image(h, w)
        b = (a.float() + 18 * torch.randn(h, w, 3)).clamp(0, 255).round().to(torch.uint8)
        for role, img in (('a', a), ('b', b)):
            img.numpy().tofile(os.path.join(HERE, f'lpips_pair{idx}_{role}.raw'))
        to_input = lambda u8: (u8.float() / 255).permute(2, 0, 1)[None] * 2 - 1
        with torch.no_grad():
            dist, per_tap = model(to_input(a), to_input(b))
        cases.append({'a': f'lpips_pair{idx}_a.raw', 'b': f'lpips_pair{idx}_b.raw', 'height': h, 'width': w,
                      'distance': dist, 'perTap': per_tap})
    with open(os.path.join(HERE, 'lpips_expected.json'), 'w') as f:
        json.dump({'generator': 'make_lpips_fixture.py', 'widths': WIDTHS, 'weights': 'lpips_small.safetensors',
                   'torch': torch.__version__, 'keys': list(state.keys()), 'cases': cases}, f, indent=1)


if __name__ == '__main__':
    main()
