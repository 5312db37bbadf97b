#!/usr/bin/env python3
"""PyTorch's side of chainrule's checkpoint compatibility (test/pytorch-checkpoints.test.ts).

  write <dir>   Writes fixtures with PyTorch: state dicts of small models as safetensors files (F32, and the
                MLP again as F16 and BF16), inputs and PyTorch's outputs, and one file with a tensor of every
                dtype chainrule reads. Commit them under test/fixtures/pytorch-checkpoints/.
  check <dir>   Reads the files chainrule wrote into <dir> (io.saveModule of the same architectures, plus
                inputs and chainrule's outputs), loads each into the PyTorch module with
                load_state_dict(strict=True), and checks PyTorch's outputs equal chainrule's to 1e-6.
                Exit status 0 when every check passes, 1 otherwise.

Runs with Debian's python3-torch (`apt-get install python3-torch`; then `/usr/bin/python3 tools/pytorch-checkpoints.py`).
The safetensors format is read and written here by hand (a u64 header length, a JSON header, raw little-endian
data), so no other Python package is needed.
"""
import copy
import json
import math
import struct
import sys

import torch
from torch import nn

CODES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64", torch.int8: "I8",
    torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64", torch.bool: "BOOL",
}
DTYPES = {v: k for k, v in CODES.items()}


def save(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        flat = t.reshape(-1)  # a 0-d tensor cannot be viewed as bytes
        raw = flat.view(torch.uint8).numpy().tobytes() if t.dtype != torch.bool else flat.to(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load(path):
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        chunk = bytearray(body[begin:end])
        if dtype == torch.bool:
            t = torch.frombuffer(chunk, dtype=torch.uint8).to(torch.bool) if chunk else torch.zeros(0, dtype=torch.bool)
        else:
            t = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, metadata


def mlp():
    # The 16×16 layer is the case the issue found silently wrong: square layers load under either layout.
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 5, bias=False))


MODELS = {"mlp": (mlp, [6, 4]), "cnn": (cnn, [2, 2, 8, 8])}


def write(out):
    torch.manual_seed(12)
    for name, (make, shape) in MODELS.items():
        model = make()  # float32 weights, as saved; the outputs are computed in float64 from those exact values
        x = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            y = copy.deepcopy(model).double()(x)
        save(f"{out}/torch-{name}.safetensors", model.state_dict(), {"format": "pt"})
        save(f"{out}/torch-{name}-io.safetensors", {"x": x, "y": y})
    # The MLP again in half precisions; the outputs are PyTorch's for those (widened) weights.
    model = mlp()
    model.load_state_dict({k: v for k, v in load(f"{out}/torch-mlp.safetensors")[0].items()})
    x = load(f"{out}/torch-mlp-io.safetensors")[0]["x"]
    for code, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        sd = {k: v.to(dtype) for k, v in model.state_dict().items()}
        widened = mlp().double()
        widened.load_state_dict({k: v.double() for k, v in sd.items()})
        with torch.no_grad():
            y = widened(x)
        save(f"{out}/torch-mlp-{code}.safetensors", sd, {"format": "pt"})
        save(f"{out}/torch-mlp-{code}-io.safetensors", {"x": x, "y": y})
    # A tensor of every dtype, with values at each type's edges.
    save(f"{out}/torch-dtypes.safetensors", {
        "f16": torch.tensor([1.0, -2.5, 65504.0, 2.0 ** -24, 6.1035e-05, float("inf"), 0.1], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -2.5, 3.0e38, 9.2e-41, float("-inf"), 0.1], dtype=torch.bfloat16),
        "f32": torch.tensor([[0.1, -3.4e38], [1e-45, 7.0]], dtype=torch.float32),
        "f64": torch.tensor([0.1, -1e308, 5e-324], dtype=torch.float64),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        "i16": torch.tensor([-32768, -2, 32767], dtype=torch.int16),
        "i32": torch.tensor([-2147483648, 2147483647], dtype=torch.int32),
        "i64": torch.tensor([-2147483648, 0, 2147483647], dtype=torch.int64),
        "i64_wide": torch.tensor([-(2 ** 53 - 1), 2 ** 40, 2 ** 53 - 1], dtype=torch.int64),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "scalar": torch.tensor(2.5, dtype=torch.float64),
    })
    # What each dtype's tensor holds, as float64 (read back through PyTorch's own conversion).
    tensors, _ = load(f"{out}/torch-dtypes.safetensors")
    # JSON has no infinities: non-finite values are written as the strings JavaScript's Number() reads.
    as_json = lambda v: v if math.isfinite(v) else ("NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity"))
    expected = {k: {"dtype": CODES[t.dtype], "values": [as_json(float(v)) for v in t.double().flatten().tolist()]} for k, t in tensors.items()}
    with open(f"{out}/torch-dtypes.json", "w") as fh:
        json.dump(expected, fh)


def check(directory):
    ok, seen = True, 0
    for name, (make, _shape) in MODELS.items():
        for variant in ("", "-f16", "-bf16"):
            path = f"{directory}/chainrule-{name}{variant}.safetensors"
            try:
                sd, meta = load(path)
            except FileNotFoundError:
                continue
            seen += 1
            model = make()
            model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)  # strict: names and shapes
            io_, _ = load(f"{directory}/chainrule-{name}{variant}-io.safetensors")
            with torch.no_grad():
                y = model.double()(io_["x"].double())
            err = (y - io_["y"].double()).abs().max().item()
            tol = 1e-6 * max(1.0, io_["y"].abs().max().item())
            status = "ok" if err <= tol else "MISMATCH"
            ok = ok and err <= tol
            print(f"{path}: layout={meta.get('layout')} max |torch - chainrule| = {err:.3g} ({status})")
    if seen == 0:
        print(f"no chainrule-*.safetensors files in {directory}")
    return ok and seen > 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
