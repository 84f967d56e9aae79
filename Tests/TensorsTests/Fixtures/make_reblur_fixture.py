#!/usr/bin/python3
"""Writes reblur_fixture.bin: inputs, output and gradients of the JDRL isotropic blur, computed with
PyTorch the way Reblur.forward in peers/torch_jdrl.py computes it (interpolation matrices, einsum,
softmax over all K*K taps, F.unfold with zero padding K//2), gradients by autograd.

Run once with Debian's python3-torch:  /usr/bin/python3 make_reblur_fixture.py
(OPENBLAS_CORETYPE=SkylakeX only on a CPU with AVX-512: forced elsewhere it kills OpenBLAS with SIGILL.)
File layout: little-endian float32 arrays, back to back, NCHW, in this order
  image (n,3,h,w), seeds (n,35,h,w, raw), weights (n,8,h,w, softmaxed), grad_output (n,3,h,w),
  output (n,3,h,w), grad_image (n,3,h,w), grad_seeds (n,35,h,w), grad_weights (n,8,h,w)
with n=2, h=9, w=10 (smaller than the 15x15 kernel, so zero padding is exercised).
"""
import math, os
import torch
import torch.nn.functional as F

N, H, W = 2, 9, 10
RADIAL = [2, 3, 4, 5, 6, 7, 8]          # seeds per kernel, K = 2 * radial - 1


def tap_matrix(size):
    """(size*size, radial) float32: logit of each tap as a combination of the radial seeds."""
    mid = (size - 1) // 2
    m = torch.zeros(size * size, mid + 1)
    for i in range(size):
        for j in range(size):
            dist = math.hypot(i - mid, j - mid)
            if dist > mid:
                continue                      # outside the disc: logit stays 0
            lo, hi = math.floor(dist), math.ceil(dist)
            if lo == hi:
                m[i * size + j, lo] = 1.0
            else:
                m[i * size + j, lo] = hi - dist
                m[i * size + j, hi] = dist - lo
    return m


def blur(image, raw_seeds, weights):
    seeds = raw_seeds.abs()
    out = weights[:, :1] * image
    first = 0
    for branch, radial in enumerate(RADIAL):
        size = 2 * radial - 1
        logits = torch.einsum('tr,brhw->bthw', tap_matrix(size), seeds[:, first:first + radial])
        first += radial
        kernel = torch.softmax(logits, 1)
        cols = F.unfold(image, size, padding=size // 2).view(N, 3, size * size, H, W)
        out = out + weights[:, branch + 1:branch + 2] * (cols * kernel.unsqueeze(1)).sum(2)
    return out


torch.manual_seed(7)
image = torch.rand(N, 3, H, W, requires_grad=True)
sign = torch.where(torch.rand(N, 35, H, W) < 0.3, -1.0, 1.0)
seeds = (sign * (0.2 + 2.8 * torch.rand(N, 35, H, W))).requires_grad_()
weights = torch.softmax(2 * torch.randn(N, 8, H, W), 1).requires_grad_()
grad_output = torch.randn(N, 3, H, W)
output = blur(image, seeds, weights)
output.backward(grad_output)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reblur_fixture.bin')
with open(path, 'wb') as f:
    for t in (image, seeds, weights, grad_output, output, image.grad, seeds.grad, weights.grad):
        f.write(t.detach().contiguous().float().numpy().astype('<f4').tobytes())
print(path, os.path.getsize(path), 'bytes')
