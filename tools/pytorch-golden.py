#!/usr/bin/env python3
"""Writes test/fixtures/pytorch-golden.json: float64 values, gradients and Hessian-vector products of
composite functions computed by PyTorch, for test/pytorch-fixture.test.ts to compare against chainrule.

Run with a Python that has torch (Debian: `apt-get install python3-torch`, then `/usr/bin/python3 tools/pytorch-golden.py`).
For each case: inputs x_i (deterministic values, stored in the file), output y = f(x), a fixed weight W shaped
like y, the scalar L = sum(y * W), the gradients dL/dx_i, and the Hessian-vector products
H v = d/de [dL/dx](x + e v) for stored directions v_i (second order, via create_graph).
"""
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def values(shape, k, lo=-2.0, hi=2.0):
    """Deterministic, irregular values in [lo, hi]: no RNG, so the file is reproducible everywhere."""
    n = 1
    for d in shape:
        n *= d
    raw = [0.5 + 0.5 * math.sin(1.7 * i + 0.9 * k + 0.31 * i * i) for i in range(n)]
    return torch.tensor([lo + (hi - lo) * r for r in raw]).reshape(shape)


CASES = []


def case(name, shapes, domains=None):
    """Registers f under `name` with inputs of `shapes`; domains[i] = (lo, hi) or None for (-2, 2)."""

    def register(f):
        CASES.append((name, shapes, domains or [None] * len(shapes), f))
        return f

    return register


# ---- elementwise and activations ----
case("tanh_sigmoid_mix", [[3, 4]])(lambda x: torch.tanh(x) * torch.sigmoid(2 * x) + x)
case("exp_log_sqrt", [[5]], [(0.2, 3.0)])(lambda x: torch.exp(-x) * torch.log(x) + torch.sqrt(x) + torch.rsqrt(x))
case("expm1_log1p", [[2, 3]])(lambda x: torch.expm1(x) * torch.log1p(x * x))
case("trig", [[6]], [(-1.2, 1.2)])(lambda x: torch.sin(x) * torch.cos(2 * x) + torch.tan(x))
case("reciprocal_square_abs", [[2, 3]], [(0.3, 2.0)])(lambda x: torch.reciprocal(x) + torch.square(x) - torch.abs(x - 1.1))
case("gelu_exact", [[4, 3]], [(-3.0, 3.0)])(lambda x: F.gelu(x))
case("gelu_tanh", [[4, 3]], [(-3.0, 3.0)])(lambda x: F.gelu(x, approximate="tanh"))
case("erf_times_x", [[7]], [(-3.0, 3.0)])(lambda x: torch.erf(x) * x)
case("softplus", [[2, 5]], [(-8.0, 8.0)])(lambda x: F.softplus(x))
case("leaky_relu", [[3, 3]])(lambda x: F.leaky_relu(x, 0.1) * x)
case("elu", [[3, 3]])(lambda x: F.elu(x, 1.3) * x)
case("relu_mlp", [[4, 3], [3, 5], [5]])(lambda x, w, b: F.relu(x @ w + b) ** 2)
case("clamp", [[8]])(lambda x: torch.clamp(x, -0.5, 0.7) * x)
case("where_branches", [[2, 4]])(lambda x: torch.where(x > 0, x * x, torch.sin(x)))
case("pow_tensor", [[2, 3], [3]], [(0.3, 2.0), None])(lambda a, b: torch.pow(a, b))
case("atan2", [[5], [5]])(lambda y, x: torch.atan2(y, x + 3.0))
case("maximum_minimum", [[3, 4], [4]])(lambda a, b: torch.maximum(a, b) * torch.minimum(a, 2 * b))
case("div_broadcast", [[2, 1, 3], [4, 1]], [None, (0.5, 2.0)])(lambda a, b: a / b)

# ---- reductions ----
case("sum_mean_axes", [[2, 3, 4]])(lambda x: x.sum(dim=(0, 2)) * x.mean(dim=1).sum())
case("amax_amin", [[3, 5]])(lambda x: torch.amax(x, dim=1) - torch.amin(x, dim=0).sum())
case("prod_rows", [[3, 4]], [(0.5, 1.5)])(lambda x: torch.prod(x, dim=1))
# x - detach(x)·mask is exactly 0 at the masked element yet has derivative 1 there: an exact zero inside prod.
case("prod_with_zero", [[4]])(lambda x: torch.prod(x - x.detach() * torch.tensor([0.0, 1.0, 0.0, 0.0])))
case("prod_with_two_zeros", [[2, 4]])(lambda x: torch.prod(x - x.detach() * torch.tensor([0.0, 1.0, 0.0, 1.0]), dim=1))
case("var_population", [[3, 4]])(lambda x: torch.var(x, dim=1, unbiased=False))
case("var_unbiased", [[3, 4]])(lambda x: torch.var(x, dim=0))
case("std_unbiased", [[2, 5]])(lambda x: torch.std(x, dim=1))
case("norms", [[3, 4]])(
    lambda x: torch.linalg.vector_norm(x, 2, dim=1) + torch.linalg.vector_norm(x, 1, dim=1) * torch.linalg.vector_norm(x, float("inf"), dim=1)
)
case("logsumexp", [[3, 4]])(lambda x: torch.logsumexp(3 * x, dim=1))
case("softmax_weighted", [[3, 4]])(lambda x: torch.softmax(x, dim=0) * torch.arange(12.0).reshape(3, 4))
case("log_softmax_nll", [[4, 5]])(lambda x: -F.log_softmax(x, dim=1)[torch.arange(4), torch.tensor([1, 0, 4, 2])].mean())
case("layer_norm_manual", [[3, 6]])(lambda x: (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + 1e-5))

# ---- linear algebra ----
case("matmul_batched_broadcast", [[2, 1, 3, 4], [5, 4, 2]])(lambda a, b: torch.matmul(a, b))
case("matvec_vecmat", [[3, 4], [4], [3]])(lambda m, v, u: torch.matmul(m, v) * torch.matmul(u, m).sum())
case("attention", [[4, 3], [5, 3], [5, 2]])(lambda q, k, v: torch.softmax(q @ k.T / math.sqrt(3), dim=-1) @ v)
case("cosine_similarity", [[6], [6]])(lambda a, b: torch.dot(a, b) / (torch.linalg.vector_norm(a) * torch.linalg.vector_norm(b)))
case("outer_dot", [[3], [4]])(lambda a, b: torch.outer(a, b) * torch.dot(a, a))

# ---- shape and indexing ----
case("flip_strided_slice", [[4, 5]])(lambda x: torch.flip(x, [0])[:, 1::2] ** 2)
case("pad_constant", [[2, 3]])(lambda x: torch.sin(F.pad(x, (1, 2, 0, 1), value=0.5)))
case("cat_stack_split", [[2, 3], [2, 2]])(
    lambda a, b: torch.stack([torch.cat([a, b], 1), torch.cat([b, a], 1)], 0) * torch.cat(torch.split(a, [1, 2], dim=1)[::-1], 1).sum()
)
case("index_select_repeated", [[3, 4]])(lambda x: torch.index_select(x, 1, torch.tensor([3, 0, 3, 3])) ** 2)
case("index_add", [[4, 2], [3, 2]])(lambda x, u: torch.sin(torch.index_add(x, 0, torch.tensor([1, 3, 1]), u)))
case("repeat_tile", [[2, 3]])(lambda x: torch.cos(x.repeat(2, 3)))
case("permute_reshape", [[2, 3, 4]])(lambda x: x.permute(2, 0, 1).reshape(4, 6) @ torch.linspace(-1, 1, 6))
case("squeeze_unsqueeze", [[3, 1, 2]])(lambda x: torch.unsqueeze(torch.squeeze(x, 1), 0) * x.squeeze().sum())
case("mse", [[4, 3], [4, 3]])(lambda a, b: ((a - b) ** 2).mean())
case("bce_with_logits_manual", [[6], [6]], [None, (0.0, 1.0)])(
    lambda z, y: -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).mean()
)


def run():
    out_cases = []
    for ci, (name, shapes, domains, f) in enumerate(CASES):
        xs = []
        for i, s in enumerate(shapes):
            lo, hi = domains[i] if domains[i] is not None else (-2.0, 2.0)
            xs.append(values(s, 10 * ci + i, lo, hi).requires_grad_(True))
        y = f(*xs)
        w = values(list(y.shape), 1000 + ci, -1.0, 1.0)
        L = (y * w).sum()
        grads = torch.autograd.grad(L, xs, create_graph=True, allow_unused=True)
        grads = [g if g is not None else torch.zeros_like(x) for g, x in zip(grads, xs)]
        vs = [values(list(x.shape), 2000 + 10 * ci + i, -1.0, 1.0) for i, x in enumerate(xs)]
        gv = sum((g * v).sum() for g, v in zip(grads, vs))
        if gv.requires_grad:
            hv = torch.autograd.grad(gv, xs, allow_unused=True)
            hv = [h if h is not None else torch.zeros_like(x) for h, x in zip(hv, xs)]
        else:
            hv = [torch.zeros_like(x) for x in xs]
        out_cases.append(
            {
                "name": name,
                "inputs": [{"shape": list(x.shape), "data": x.detach().flatten().tolist()} for x in xs],
                "output": {"shape": list(y.shape), "data": y.detach().flatten().tolist()},
                "weight": w.flatten().tolist(),
                "grads": [g.detach().flatten().tolist() for g in grads],
                "directions": [v.flatten().tolist() for v in vs],
                "hvp": [h.detach().flatten().tolist() for h in hv],
            }
        )
    try:  # the distribution package, when torch came from Debian (its __version__ reads 1.13.0a0)
        package = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}", "python3-torch"], capture_output=True, text=True).stdout or None
    except OSError:
        package = None
    doc = {
        "generator": "tools/pytorch-golden.py",
        "torch": torch.__version__,
        "torch_package": package,
        "python": sys.version.split()[0],
        "dtype": "float64",
        "note": "L = sum(f(x) * weight); grads = dL/dx; hvp = Hessian of L times directions",
        "cases": out_cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pytorch-golden.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=None, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {len(out_cases)} cases to {os.path.normpath(path)} (torch {torch.__version__})")


if __name__ == "__main__":
    run()
