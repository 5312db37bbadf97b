#!/usr/bin/env python3
"""Writes test/fixtures/pytorch-differential.json.gz: random straight-line programs over edge values (0, −0,
ties, ±Inf, NaN, huge and tiny magnitudes) with PyTorch's float64 results, for test/pytorch-differential.test.ts
to replay through chainrule (issue 19).

Run with Debian's torch: `/usr/bin/python3 tools/pytorch-differential.py [count] [seed]` (defaults 3000, 19).
`--eval` instead evaluates the programs given on stdin (see eval_stdin; used to shrink a mismatch).

A program: inputs x0.. (all of one small shape S), instructions that each define one register, and the output
out = sum(last · w). For each program the file holds PyTorch's out, d out/d xi (reverse mode), the forward-mode
tangent of out along stored directions v (torch.autograd.forward_ad; null where PyTorch has no forward rule),
and per register a summary (see `summary`) of its value, its tangent and its gradient, which the replay uses
to find the first op where the two libraries part (to print a shrunk program).
Reductions keep their dimensions, so every register broadcasts against S and any two can be combined.
Numbers are written as text with 12 significant digits (summaries 9) ("nan", "inf", "-inf" for the specials), one string per
tensor, values joined by spaces; the file is gzipped.
"""
import gzip
import json
import math
import os
import random
import sys

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

# name -> (arity, torch function); the replay maps the same names to chainrule's functions.
UNARY = {
    "neg": torch.neg, "abs": torch.abs, "sign": torch.sign, "exp": torch.exp, "expm1": torch.expm1,
    "log": torch.log, "log1p": torch.log1p, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "square": torch.square,
    "reciprocal": torch.reciprocal, "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "relu": torch.relu, "erf": torch.erf, "softplus": F.softplus,
    "leakyRelu": lambda x: F.leaky_relu(x, 0.01), "elu": lambda x: F.elu(x, 1.0), "gelu": F.gelu,
    "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh, "asinh": torch.asinh,
    "log2": torch.log2, "exp2": torch.exp2, "floor": torch.floor,
    "clip": lambda x: torch.clamp(x, -1.0, 1.0),
}
BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "atan2": torch.atan2, "logaddexp": torch.logaddexp,
}


def _std(x, dims):
    return torch.std(x, dim=dims, keepdim=True, unbiased=False)


REDUCE = {
    "sum": lambda x, d: torch.sum(x, dim=d, keepdim=True),
    "mean": lambda x, d: torch.mean(x, dim=d, keepdim=True),
    "max": lambda x, d: torch.amax(x, dim=d, keepdim=True),
    "min": lambda x, d: torch.amin(x, dim=d, keepdim=True),
    "prod": lambda x, d: torch.prod(x, dim=d[0], keepdim=True) if len(d) == 1 else torch.prod(x.reshape(-1)).reshape([1] * x.dim()),
    "logsumexp": lambda x, d: torch.logsumexp(x, dim=d, keepdim=True),
    "norm": lambda x, d: torch.linalg.vector_norm(x, 2, dim=d, keepdim=True),
    "std": _std,
}
SHAPES = [[3], [4], [2, 3], [3, 2], [2, 2], [1, 3], [3, 1]]
EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, math.inf, -math.inf, math.nan, 1e300, -1e300, 1e-300, 800.0, -800.0, 40.0, -40.0, 750.0, -750.0, 25.0]


def fmt(x, digits=12):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    return "%.*g" % (digits, x)


def enc(t):
    return " ".join(fmt(v) for v in t.detach().reshape(-1).tolist())


def summary(t):
    """A register in a few characters: Σ finite values · (1 + (k mod 7)/8), then, if any, "|nans,+infs,-infs"
    (so one NaN does not hide the rest; the weights keep symmetric values from cancelling)."""
    if t is None:
        return None
    vals = t.detach().reshape(-1).tolist()
    total = sum(v * (1 + (k % 7) / 8) for k, v in enumerate(vals) if math.isfinite(v))
    nan = sum(1 for v in vals if math.isnan(v))
    pinf = sum(1 for v in vals if v == math.inf)
    minf = sum(1 for v in vals if v == -math.inf)
    return fmt(total, 9) + (f"|{nan},{pinf},{minf}" if nan or pinf or minf else "")


def make_program(rng, edge):
    shape = rng.choice(SHAPES)
    n = math.prod(shape)
    inputs = []
    for _ in range(rng.randint(1, 3)):
        vals = []
        for _ in range(n):
            r = rng.random()
            if edge and r < 0.4:
                vals.append(rng.choice(EDGES))
            elif edge and r < 0.55 and vals:
                vals.append(rng.choice(vals))  # a tie
            else:
                vals.append(round(rng.gauss(0, 1.2), 2))
        inputs.append(vals)
    ops = []
    count = len(inputs)
    for _ in range(rng.randint(3, 12)):
        kind = rng.random()
        pick = lambda: max(0, count - 1 - int(rng.expovariate(0.6)))  # favour recent registers
        if kind < 0.45:
            ops.append([rng.choice(sorted(UNARY)), pick()])
        elif kind < 0.8:
            ops.append([rng.choice(sorted(BINARY)), pick(), rng.randrange(count)])
        elif kind < 0.93:
            axis = rng.randrange(len(shape) + 1)  # == rank means all axes
            ops.append([rng.choice(sorted(REDUCE)), pick(), axis])
        else:
            ops.append(["where", rng.randrange(count), pick(), rng.randrange(count)])
        count += 1
    return {"shape": shape, "inputs": inputs, "ops": ops}


def run(prog, xs):
    regs = list(xs)
    rank = len(prog["shape"])
    for op in prog["ops"]:
        name = op[0]
        if name in UNARY:
            r = UNARY[name](regs[op[1]])
        elif name in BINARY:
            r = BINARY[name](regs[op[1]], regs[op[2]])
        elif name == "where":
            r = torch.where(regs[op[1]] > 0, regs[op[2]], regs[op[3]])
        else:
            dims = list(range(rank)) if op[2] == rank else [op[2]]
            x = regs[op[1]]
            if x.dim() < rank:  # a scalar-shaped register: give it S's rank first
                x = x.reshape([1] * rank)
            r = REDUCE[name](x, dims)
        regs.append(r)
    return regs


def evaluate(prog, rng, w=None, vs=None):
    """PyTorch's results for prog; w and the directions vs drawn from rng unless given (lists of floats;
    w None: ones of the output's shape when rng is None too)."""
    shape = prog["shape"]
    xs = [torch.tensor(v).reshape(shape).requires_grad_(True) for v in prog["inputs"]]
    regs = run(prog, xs)
    last = regs[-1]
    if w is not None:
        w = torch.tensor(w).reshape(last.shape)
    elif rng is None:
        w = torch.ones(last.shape)
    else:
        w = torch.tensor([round(rng.uniform(0.5, 1.5) * rng.choice([-1, 1]), 2) for _ in range(last.numel())]).reshape(last.shape)
    for r in regs[len(xs):]:
        if r.requires_grad:
            r.retain_grad()
    out = (last * w).sum()
    out.backward()
    grads = [x.grad if x.grad is not None else torch.zeros(shape) for x in xs]
    reg_grads = [summary(r.grad) if r.requires_grad else None for r in regs]
    if vs is not None:
        vs = [torch.tensor(v).reshape(shape) for v in vs]
    else:
        vs = [torch.tensor([round(rng.gauss(0, 1), 2) for _ in range(math.prod(shape))]).reshape(shape) for _ in xs]
    tangent, reg_tangents = None, [None] * len(regs)
    try:
        with fwAD.dual_level():
            duals = [fwAD.make_dual(x.detach(), v) for x, v in zip(xs, vs)]
            fregs = run(prog, duals)
            fout = (fregs[-1] * w).sum()
            tangent = fmt(float(fwAD.unpack_dual(fout).tangent))
            reg_tangents = [summary(fwAD.unpack_dual(r).tangent) for r in fregs]
    except (NotImplementedError, RuntimeError):
        pass  # no forward-mode rule in this PyTorch for some op: the replay checks reverse mode only
    return {
        **prog,
        "inputs": [" ".join(fmt(v) for v in vals) for vals in prog["inputs"]],
        "w": enc(w),
        "v": [enc(v) for v in vs],
        "out": fmt(float(out)),
        "grads": [enc(g) for g in grads],
        "tangent": tangent,
        "values": [summary(r) for r in regs],
        "regTangents": reg_tangents,
        "regGrads": reg_grads,
    }


def eval_stdin():
    """`--eval`: reads {"programs": [{shape, inputs, ops, w, v}]} on stdin (tensors as the fixture's text; w
    null for ones) and writes {"programs": [...]} with PyTorch's results, as the fixture stores them. The
    replay's shrinker (test/helpers/shrink.ts) calls this to re-run the smaller programs it tries."""
    nums = lambda t: [float(x) for x in t.split(" ")] if t else []
    progs = []
    for p in json.load(sys.stdin)["programs"]:
        prog = {"shape": p["shape"], "inputs": [nums(t) for t in p["inputs"]], "ops": p["ops"]}
        w = None if p.get("w") is None else nums(p["w"])
        progs.append(evaluate(prog, None, w, [nums(t) for t in p["v"]]))
    json.dump({"torch": torch.__version__, "programs": progs}, sys.stdout, separators=(",", ":"))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--eval":
        return eval_stdin()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 19
    rng = random.Random(seed)
    progs = []
    for i in range(count):
        # Half the programs draw 40% of their inputs from the edge values and 15% as ties of earlier ones.
        progs.append(evaluate(make_program(rng, edge=i % 2 == 0), rng))
    doc = {
        "torch": torch.__version__,
        "generator": "tools/pytorch-differential.py",
        "seed": seed,
        "programs": progs,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "pytorch-differential.json.gz")
    data = json.dumps(doc, separators=(",", ":")).encode()
    # mtime 0: the same programs give the same bytes.
    with open(path, "wb") as f:
        f.write(gzip.compress(data, 9, mtime=0))
    print(f"wrote {path}: {count} programs, {len(data)} bytes of JSON, {os.path.getsize(path)} gzipped")


if __name__ == "__main__":
    main()
