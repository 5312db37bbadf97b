#!/usr/bin/env python3
"""PyTorch's side of the README's edge-conventions table: value and derivative(s) of each op at the inputs of
cases.json, float64. Run `/usr/bin/python3 tools/edge-conventions/pytorch.py`, then
`npx tsx tools/edge-conventions/chainrule.ts`, then `python3 tools/edge-conventions/table.py` (prints the table)."""
import json, math, os, tempfile, torch, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
C = json.load(open(os.path.join(os.path.dirname(__file__), 'cases.json')), parse_constant=lambda c: {'Infinity': math.inf, '-Infinity': -math.inf, 'NaN': math.nan}[c])
U = {"relu": torch.relu, "leakyRelu": lambda x: F.leaky_relu(x, 0.01), "elu": F.elu, "abs": torch.abs, "sign": torch.sign, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "log": torch.log, "log1p": torch.log1p, "exp": torch.exp, "expm1": torch.expm1, "reciprocal": torch.reciprocal, "square": torch.square, "neg": torch.neg, "cos": torch.cos, "sinh": torch.sinh, "cosh": torch.cosh, "log2": torch.log2, "log10": torch.log10, "exp2": torch.exp2, "acos": torch.acos, "round": torch.round, "sin": torch.sin, "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": F.softplus, "gelu": F.gelu, "erf": torch.erf, "atan": torch.atan, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "asin": torch.asin, "floor": torch.floor, "clip": lambda x: torch.clamp(x, -1, 1)}
B = {"add": torch.add, "mul": torch.mul, "remainder": torch.remainder, "maximum": torch.maximum, "minimum": torch.minimum, "div": torch.div, "pow": torch.pow, "atan2": torch.atan2, "logaddexp": torch.logaddexp}
R = {"mean": torch.mean, "variance": lambda x: torch.var(x, unbiased=False), "max": torch.amax, "min": torch.amin, "sum": torch.sum, "prod": torch.prod, "norm": torch.linalg.vector_norm, "std": lambda x: torch.std(x, unbiased=False), "logsumexp": lambda x: torch.logsumexp(x, 0)}
def f(v): return None if v is None else (str(v) if math.isfinite(v) else {math.inf: "inf", -math.inf: "-inf"}.get(v, "nan"))
out = {}
for kind, table in C.items():
    for op, edges in table.items():
        for edge, cases in edges.items():
            for i, args in enumerate(cases):
                if kind == "unary":
                    x = torch.tensor(float(args), requires_grad=True)
                    y = U[op](x); y.backward(); r = [f(float(y)), f(float(x.grad))]
                elif kind == "binary":
                    a = torch.tensor(float(args[0]), requires_grad=True); b = torch.tensor(float(args[1]), requires_grad=True)
                    y = B[op](a, b); y.backward(); r = [f(float(y)), f(float(a.grad)), f(float(b.grad))]
                else:
                    x = torch.tensor([float(v) for v in args], requires_grad=True)
                    y = R[op](x); y.backward(); r = [f(float(y))] + [f(float(g)) for g in x.grad]
                out[f"{op}|{edge}|{i}"] = r
json.dump(out, open(os.path.join(tempfile.gettempdir(), 'edge-conventions-pytorch.json'), 'w'))
print(len(out))
