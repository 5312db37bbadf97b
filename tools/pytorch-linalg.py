#!/usr/bin/env python3
"""Writes test/fixtures/pytorch-linalg.json: values and gradients of torch.linalg's inv, solve, det, slogdet
and cholesky, in float64, for test/linalg.test.ts to compare against chainrule at 1e-6.

Run with Debian's python3-torch: `/usr/bin/python3 tools/pytorch-linalg.py`. Inputs are deterministic (no RNG):
for each case, the inputs, the output, a fixed weight W shaped like the output, and the gradients of
L = sum(output * W) with respect to every input.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)


def values(shape, k):
    n = math.prod(shape)
    return torch.tensor([math.sin(1.3 * i + 0.7 * k + 0.29 * i * i) for i in range(n)]).reshape(shape)


def well_conditioned(shape, k):
    n = shape[-1]
    return values(shape, k) + (n + 1) * torch.eye(n)


def spd(shape, k):
    x = values(shape, k)
    return x @ x.transpose(-1, -2) + shape[-1] * torch.eye(shape[-1])


CASES = [
    ("inv", [well_conditioned([3, 3], 1)], lambda a: torch.linalg.inv(a)),
    ("inv_batched", [well_conditioned([2, 2, 4, 4], 2)], lambda a: torch.linalg.inv(a)),
    ("solve_matrix", [well_conditioned([3, 3], 3), values([3, 2], 4)], lambda a, b: torch.linalg.solve(a, b)),
    ("solve_vector", [well_conditioned([4, 4], 5), values([4], 6)], lambda a, b: torch.linalg.solve(a, b)),
    ("solve_broadcast", [well_conditioned([2, 1, 3, 3], 7), values([3, 3, 2], 8)], lambda a, b: torch.linalg.solve(a, b)),
    ("det", [values([3, 3], 9)], lambda a: torch.linalg.det(a)),
    ("det_batched", [values([2, 3, 3], 10)], lambda a: torch.linalg.det(a)),
    ("slogdet_logabsdet", [values([2, 4, 4], 11)], lambda a: torch.linalg.slogdet(a)[1]),
    ("slogdet_sign", [values([3, 3, 3], 12)], lambda a: torch.linalg.slogdet(a)[0]),
    ("cholesky", [spd([4, 4], 13)], lambda a: torch.linalg.cholesky(a)),
    ("cholesky_batched_upper", [spd([2, 3, 3], 14)], lambda a: torch.linalg.cholesky(a, upper=True)),
]


def main():
    cases = []
    for name, inputs, f in CASES:
        xs = [x.clone().requires_grad_(True) for x in inputs]
        y = f(*xs)
        w = values(list(y.shape), 99)
        grads = [None] * len(xs)
        if y.requires_grad:
            grads = torch.autograd.grad((y * w).sum(), xs, allow_unused=True)
        cases.append({
            "name": name,
            "inputs": [{"shape": list(x.shape), "data": x.detach().flatten().tolist()} for x in xs],
            "output": {"shape": list(y.shape), "data": y.detach().flatten().tolist()},
            "weight": w.flatten().tolist(),
            "grads": [g.flatten().tolist() if g is not None else None for g in grads],
        })
    out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "pytorch-linalg.json")
    with open(out, "w") as fh:
        json.dump({"torch": torch.__version__, "cases": cases}, fh, separators=(",", ":"))


if __name__ == "__main__":
    main()
