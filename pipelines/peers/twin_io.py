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


def load_safetensors(path):
    """name -> float32 torch tensor, for the F32 files jdrl-bench writes (the step's batch)."""
    import numpy
    import torch
    with open(path, 'rb') as f:
        length = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(length))
        payload = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise ValueError(f'{path}: {name} is {entry["dtype"]}; only F32 is read here')
        start, end = entry['data_offsets']
        values = numpy.frombuffer(payload[start:end], dtype=numpy.float32).reshape(entry['shape'])
        tensors[name] = torch.from_numpy(values.copy())
    return tensors


def cpu_has_bf16():
    """Whether the CPU has bf16 arithmetic (AVX512-BF16 or AMX): where a user would try bf16 autocast."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), [])
    except OSError:
        return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def _timed_runs(run, runs):
    run()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return sorted(seconds)


def time_user_modes(make_run, runs, modes=('default', 'channels_last', 'bf16_autocast')):
    """Times a step (or an inference) the ways a PyTorch user would run it on a CPU: f32 in the default
    memory format and in channels-last, and bf16 autocast (in the faster of the two) where the CPU has
    bf16. `make_run(memory_format)` converts the model and inputs and returns the callable to time.
    Returns (the faster f32 mode, {mode: sorted seconds})."""
    import torch
    formats = {'default': torch.contiguous_format, 'channels_last': torch.channels_last}
    results = {}
    for mode in ('default', 'channels_last'):
        if mode in modes:
            results[mode] = _timed_runs(make_run(formats[mode]), runs)
    best = min(results, key=lambda m: results[m][len(results[m]) // 2])
    if 'bf16_autocast' in modes and cpu_has_bf16():
        run = make_run(formats[best])

        def autocast_run():
            with torch.autocast('cpu', dtype=torch.bfloat16):
                run()
        results['bf16_autocast'] = _timed_runs(autocast_run, runs)
    return best, results


def mode_fields(best, results, key):
    """The JSON fields of `time_user_modes`: `key`_median is the faster f32 mode's median (the headline),
    each mode's median under modes_s, and the peer's name with the mode it ran in."""
    import torch
    medians = {mode: seconds[len(seconds) // 2] for mode, seconds in results.items()}
    return {'peer': f'pytorch {torch.__version__} ({best}, f32)', 'mode': best, f'{key}_median': medians[best],
            f'{key}_all': results[best], 'modes_s': medians}


def print_mode_timing(make_run, runs, modes=('default', 'channels_last', 'bf16_autocast'), **fields):
    """`time_user_modes` for a training step, printed as one JSON line with `fields`."""
    best, results = time_user_modes(make_run, runs, modes)
    print(json.dumps({**mode_fields(best, results, 'train_step_s'), **fields}))
