#!/usr/bin/env python3
"""Generates the PSNR/SSIM/MAE parity fixtures for MetricsTests (run once; outputs are committed).

Each pair is written as PNGs to a temporary folder and scored by the metric peer
(metrics_skimage.py in the peers folder $JDRL_PEERS, scikit-image) exactly as a user would run it; the Gaussian
SSIM variant is scored with skimage directly (gaussian_weights=True, sigma=1.5,
use_sample_covariance=False). The pixels are stored raw (HWC, little-endian uint8/uint16) with
metric_pairs.json describing them, so the Swift tests need neither libvips nor the peer.

  python3 make_metric_fixtures.py            # from this folder; needs numpy, scipy, Pillow, skimage
"""
import json, os, subprocess, sys, tempfile
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

PEER = os.path.join(os.environ.get('JDRL_PEERS') or sys.exit('set JDRL_PEERS to the peers folder'), 'metrics_skimage.py')
HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)


def scene(h, w, c):
    """A smooth, textured image in [0,1]: blurred noise at two scales plus a gradient."""
    base = gaussian_filter(rng.random((h, w, c)), sigma=(4, 4, 0)) * 4 - 1.5
    fine = gaussian_filter(rng.random((h, w, c)), sigma=(0.8, 0.8, 0)) * 0.6
    ramp = np.linspace(0, 0.4, w)[None, :, None]
    return np.clip(base + fine + ramp, 0, 1)


def degrade(img):
    """A plausible deblurring output: slightly blurred, shifted in tone, with noise."""
    blurred = gaussian_filter(img, sigma=(1.2, 1.2, 0))
    return np.clip(0.97 * blurred + 0.01 + rng.normal(0, 0.02, img.shape), 0, 1)


def quantise(img, bits):
    peak = 255 if bits == 8 else 65535
    return np.round(img * peak).astype(np.uint8 if bits == 8 else '<u2')


def peer(out_png, tgt_png, border):
    text = subprocess.check_output([sys.executable, PEER, out_png, tgt_png, '--border', str(border)])
    return json.loads(text)


def load_like_peer(path):
    im = Image.open(path)
    a = np.asarray(im)
    scale = 65535.0 if a.dtype == np.uint16 or im.mode.startswith('I;16') else 255.0
    a = a.astype(np.float64) / scale
    return a[..., :3] if a.ndim == 3 else np.repeat(a[..., None], 3, 2)


def main():
    specs = [('rgb8', 64, 48, 3, 8), ('rgb16', 57, 40, 3, 16), ('grey8', 29, 33, 1, 8), ('grey16', 35, 26, 1, 16)]
    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, w, h, c, bits in specs:
            target = quantise(scene(h, w, c), bits)
            output = quantise(degrade(target / (255.0 if bits == 8 else 65535.0)), bits)
            paths = {}
            for role, arr in (('output', output), ('target', target)):
                png = os.path.join(tmp, f'{name}_{role}.png')
                if bits == 16 and c == 3:
                    # Pillow can neither write nor read 16-bit RGB PNGs (it reads them as 8-bit RGB,
                    # so the peer would score a truncated image): score these arrays with the
                    # peer's own skimage calls instead (score_as_peer).
                    png = None
                else:
                    Image.fromarray(arr[..., 0] if c == 1 else arr).save(png)
                paths[role] = png
                arr.tofile(os.path.join(HERE, f'{name}_{role}.raw'))
            expected = {}
            for border in (0, 4):
                if paths['output']:
                    expected[f'border{border}'] = peer(paths['output'], paths['target'], border)
                else:
                    expected[f'border{border}'] = score_as_peer(output / 65535.0, target / 65535.0, border)
            x, y = as_rgb(output, bits), as_rgb(target, bits)
            expected['gaussian'] = {'ssim': structural_similarity(
                y, x, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5,
                use_sample_covariance=False)}
            pairs.append({'name': name, 'width': w, 'height': h, 'channels': c, 'bitDepth': bits,
                          'output': f'{name}_output.raw', 'target': f'{name}_target.raw',
                          'layout': 'HWC little-endian unsigned', 'expected': expected,
                          'scoredBy': 'metrics_skimage.py' if paths['output'] else
                          'the peer\'s skimage calls (Pillow reads 16-bit RGB PNGs as 8-bit)'})
    with open(os.path.join(HERE, 'metric_pairs.json'), 'w') as f:
        json.dump({'generator': 'make_metric_fixtures.py', 'peer': os.path.basename(PEER), 'pairs': pairs}, f, indent=1)


def as_rgb(arr, bits):
    a = arr.astype(np.float64) / (255.0 if bits == 8 else 65535.0)
    return a if a.shape[2] == 3 else np.repeat(a, 3, 2)


def score_as_peer(x, y, border):
    """The peer's computation (same skimage calls) for arrays Pillow cannot write as PNG."""
    from skimage.metrics import peak_signal_noise_ratio
    if border:
        x, y = x[border:-border, border:-border], y[border:-border, border:-border]
    return {'psnr': peak_signal_noise_ratio(y, x, data_range=1.0),
            'ssim': structural_similarity(y, x, channel_axis=2, data_range=1.0),
            'mae': float(np.abs(x - y).mean())}


if __name__ == '__main__':
    main()
