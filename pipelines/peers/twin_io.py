"""What the PyTorch twins (torch_nafnet.py, torch_prior.py) share: writing safetensors fixtures our
tests read, and timing training steps the way jdrl-bench times ours (a warm-up, then the median)."""
import json
import struct
import time


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().float().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b' ' * ((8 - len(encoded) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def print_step_timing(step, steps, **fields):
    """Runs `step` once to warm up, then `steps` times; prints one JSON line with the median and `fields`."""
    import torch
    step()
    seconds = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    print(json.dumps({'peer': f'pytorch {torch.__version__}', 'train_step_s_median': seconds[len(seconds) // 2],
                      'train_step_s_all': seconds, **fields}))
