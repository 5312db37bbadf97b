#!/usr/bin/env python3
"""Writes test/fixtures/pytorch-layers.json: for each layer (Embedding, LayerNorm, BatchNorm1d, BatchNorm2d) in
float64, its constructor arguments, state dict (names, shapes, values: PyTorch's names and layouts), an input,
the output, a fixed weight W shaped like the output, and the gradients of L = sum(output * W) with respect to
the input (float inputs only) and to every parameter. BatchNorm cases also record the running statistics after
the training-mode forward pass and the output of a second, evaluation-mode pass with them.

Run with a Python that has torch (Debian: `apt-get install python3-torch`, then
`/usr/bin/python3 tools/pytorch-layers.py`); test/nn-layers-pytorch.test.ts reads the file.
"""
import json
import math
import os
import subprocess

import torch

torch.set_default_dtype(torch.float64)


def values(shape, k, lo=-2.0, hi=2.0):
    """Deterministic, irregular values in [lo, hi]: no RNG, so the file is the same everywhere."""
    n = 1
    for d in shape:
        n *= d
    raw = [0.5 + 0.5 * math.sin(1.3 * i + 0.7 * k + 0.29 * i * i) for i in range(n)]
    return torch.tensor([lo + (hi - lo) * r for r in raw]).reshape(shape)


def flat(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def run(name, module, args, x, train=True):
    # Parameters get irregular values (not PyTorch's 1/0 or random init) so that every entry matters.
    with torch.no_grad():
        for k, (pname, p) in enumerate(module.named_parameters()):
            p.copy_(values(list(p.shape), 10 + k, 0.5 if pname == "weight" and not isinstance(module, torch.nn.Embedding) else -1.0, 1.5))
    state_before = {k: flat(v) for k, v in module.state_dict().items()}
    module.train(train)
    xin = x.clone().requires_grad_(x.is_floating_point())
    y = module(xin)
    w = values(list(y.shape), 99, -1.0, 1.0)
    loss = (y * w).sum()
    loss.backward()
    case = {
        "name": name,
        "layer": type(module).__name__,
        "args": args,
        "training": train,
        "state": state_before,
        "input": {**flat(x), "dtype": "int32" if not x.is_floating_point() else "float64"},
        "output": flat(y),
        "weight": flat(w),
        "input_grad": flat(xin.grad) if x.is_floating_point() else None,
        "param_grads": {k: flat(p.grad) for k, p in module.named_parameters()},
    }
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        case["state_after"] = {k: flat(v) for k, v in module.state_dict().items()}
        module.eval()
        with torch.no_grad():
            case["eval_output"] = flat(module(x))
    return case


def main():
    nn = torch.nn
    cases = []
    ids = torch.tensor([[1, 4, 1], [0, 4, 4]])  # repeated ids: their gradients must add up
    cases.append(run("embedding", nn.Embedding(5, 3), {"numEmbeddings": 5, "embeddingDim": 3}, ids))
    cases.append(run("layer_norm_last", nn.LayerNorm(4), {"normalizedShape": [4]}, values([2, 3, 4], 1)))
    cases.append(run("layer_norm_two_dims", nn.LayerNorm([3, 4], eps=1e-3), {"normalizedShape": [3, 4], "eps": 1e-3}, values([2, 3, 4], 2)))
    cases.append(run("layer_norm_no_affine", nn.LayerNorm(5, elementwise_affine=False), {"normalizedShape": [5], "elementwiseAffine": False}, values([3, 5], 3)))
    cases.append(run("batch_norm_1d_nc", nn.BatchNorm1d(3), {"numFeatures": 3}, values([4, 3], 4)))
    cases.append(run("batch_norm_1d_ncl", nn.BatchNorm1d(2, momentum=0.3, eps=1e-3), {"numFeatures": 2, "momentum": 0.3, "eps": 1e-3}, values([3, 2, 5], 5)))
    cases.append(run("batch_norm_2d", nn.BatchNorm2d(3), {"numFeatures": 3}, values([2, 3, 2, 3], 6)))
    cases.append(run("batch_norm_2d_no_affine", nn.BatchNorm2d(2, affine=False), {"numFeatures": 2, "affine": False}, values([3, 2, 2, 2], 7)))
    bn = nn.BatchNorm2d(2)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.3, -0.2]))
        bn.running_var.copy_(torch.tensor([1.5, 0.7]))
    cases.append(run("batch_norm_2d_eval", bn, {"numFeatures": 2}, values([2, 2, 2, 2], 8), train=False))
    try:
        package = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}", "python3-torch"], capture_output=True, text=True).stdout or None
    except OSError:
        package = None
    doc = {"torch": torch.__version__, "torch_package": package, "cases": cases}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pytorch-layers.json")
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=None, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {out}: {len(cases)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
