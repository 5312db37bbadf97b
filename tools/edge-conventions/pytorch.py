#!/usr/bin/env python3
"""PyTorch's side of docs/edge-conventions.md: the value of each op at the inputs of cases.json and the
gradient of sum(value) with respect to each float input, float64, into pytorch.json (committed, so the
table renders without PyTorch). Run `/usr/bin/python3 tools/edge-conventions/pytorch.py` (Debian's
python3-torch 1.13), then `npx tsx tools/edge-conventions/render.ts` (writes docs/edge-conventions.md).
Each op here mirrors the call of the same name in ops.ts; an op PyTorch refuses records its error."""
import json, math, os, torch, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(__file__)
L = lambda xs: torch.tensor(xs)  # an index tensor (int64)

U = {"relu": torch.relu, "leakyRelu": lambda x: F.leaky_relu(x, 0.01), "elu": F.elu, "abs": torch.abs, "sign": torch.sign, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "log": torch.log, "log1p": torch.log1p, "exp": torch.exp, "expm1": torch.expm1, "reciprocal": torch.reciprocal, "square": torch.square, "neg": torch.neg, "cos": torch.cos, "sinh": torch.sinh, "cosh": torch.cosh, "log2": torch.log2, "log10": torch.log10, "exp2": torch.exp2, "acos": torch.acos, "round": torch.round, "sin": torch.sin, "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": F.softplus, "gelu": F.gelu, "erf": torch.erf, "atan": torch.atan, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "asin": torch.asin, "floor": torch.floor, "clip": lambda x: torch.clamp(x, -1, 1),
     "ceil": torch.ceil, "trunc": torch.trunc, "clipByValue": lambda x: torch.clamp(x, -1, 1), "nanToNum": torch.nan_to_num, "stopGradient": lambda x: x.detach(),
     "isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite, "logicalNot": torch.logical_not}
B = {"add": torch.add, "mul": torch.mul, "remainder": torch.remainder, "maximum": torch.maximum, "minimum": torch.minimum, "div": torch.div, "pow": torch.pow, "atan2": torch.atan2, "logaddexp": torch.logaddexp,
     "sub": torch.sub, "mod": torch.remainder, "equal": torch.eq, "notEqual": torch.ne, "greater": torch.gt, "greaterEqual": torch.ge, "less": torch.lt, "lessEqual": torch.le,
     "logicalAnd": torch.logical_and, "logicalOr": torch.logical_or, "logicalXor": torch.logical_xor}
R = {"mean": torch.mean, "variance": lambda x: torch.var(x, unbiased=False), "max": torch.amax, "min": torch.amin, "sum": torch.sum, "prod": torch.prod, "norm": torch.linalg.vector_norm, "std": lambda x: torch.std(x, unbiased=False), "logsumexp": lambda x: torch.logsumexp(x, 0),
     "argmax": torch.argmax, "argmin": torch.argmin, "all": torch.all, "any": torch.any, "norm1": lambda x: torch.linalg.vector_norm(x, 1), "normInf": lambda x: torch.linalg.vector_norm(x, math.inf)}
S = {"cumsum": lambda x: torch.cumsum(x, 0), "cumprod": lambda x: torch.cumprod(x, 0), "logcumsumexp": lambda x: torch.logcumsumexp(x, 0),
     "sort": lambda x: torch.sort(x).values, "argsort": torch.argsort, "sortWithIndices": lambda x: torch.sort(x).indices, "topk": lambda x: torch.topk(x, 2).values}
NN = {"softmax": lambda x: torch.softmax(x, -1), "logSoftmax": lambda x: torch.log_softmax(x, -1), "crossEntropy": F.cross_entropy,
      "softmaxCrossEntropy": lambda x, p: F.cross_entropy(x, p, reduction="none"), "binaryCrossEntropyWithLogits": F.binary_cross_entropy_with_logits, "mseLoss": F.mse_loss,
      "maxPool2d": lambda x: F.max_pool2d(x, 2), "avgPool2d": lambda x: F.avg_pool2d(x, 2), "conv2d": F.conv2d, "linear": F.linear, "im2col": lambda x: F.unfold(x, 2)}
LA = {"dot": torch.dot, "matmul": torch.matmul, "matmulNT": lambda a, b: a @ b.T, "outer": torch.outer, "tensordot": lambda a, b: torch.tensordot(a, b, 1), "einsum": lambda a, b: torch.einsum("i,i->", a, b),
      "det": torch.linalg.det, "slogdet": lambda a: torch.linalg.slogdet(a).logabsdet, "inv": torch.linalg.inv, "solve": torch.linalg.solve, "cholesky": torch.linalg.cholesky,
      "diagonal": torch.diagonal, "matrixTrace": torch.trace, "tril": torch.tril, "triu": torch.triu}
LAY = {"reshape": lambda x: x.reshape(3, 1), "transpose": lambda x: x.T, "permute": lambda x: x.permute(1, 0), "flip": lambda x: torch.flip(x, [0]), "expandDims": lambda x: x.unsqueeze(0),
       "squeeze": lambda x: x.squeeze(0), "broadcastTo": lambda x: x.expand(2, 3), "tile": lambda x: x.repeat(2), "pad": lambda x: F.pad(x, (1, 0)), "slice": lambda x: x[1:3],
       "split": lambda x: torch.split(x, [1, 2])[1], "concat": lambda a, b: torch.cat([a, b]), "stack": lambda a, b: torch.stack([a, b]), "gather": lambda x: x[L([2, 0])],
       "take": lambda x: torch.take(x, L([2, 0])), "takeAlongAxis": lambda x: torch.take_along_dim(x, L([2, 0]), 0), "scatterAdd": lambda x, u: x.index_add(0, L([0, 0]), u),
       "where": lambda c, a, b: torch.where(c > 0, a, b), "sumToShape": lambda x: x.sum(0, keepdim=True)}
OPS = {**U, **B, **R, **S, **NN, **LA, **LAY}
# Reductions, scans and sorting take one array; the arguments of cases.json are the call's arguments.

def decode(v):
    if isinstance(v, dict):
        return torch.tensor(v["int"])
    if isinstance(v, list):
        return torch.tensor(json.loads(json.dumps(v).replace('"inf"', '1e999').replace('"-inf"', '-1e999').replace('"nan"', 'NaN')), dtype=torch.float64).requires_grad_(True)
    return torch.tensor({"inf": math.inf, "-inf": -math.inf, "nan": math.nan}.get(v, v) if isinstance(v, str) else float(v)).requires_grad_(True)

def fmt(v):
    v = float(v)
    return "nan" if math.isnan(v) else "inf" if v == math.inf else "-inf" if v == -math.inf else repr(v)

out = {}
cases = json.load(open(os.path.join(HERE, "cases.json")))
for fam in cases["families"]:
    for op, edges in fam["ops"].items():
        for edge, lst in edges.items():
            for i, args in enumerate(lst):
                xs = [decode(a) for a in args]
                key = f"{op}|{edge}|{i}"
                try:
                    y = OPS[op](*xs)
                except Exception as e:  # PyTorch refuses the input (e.g. cholesky of a singular matrix)
                    out[key] = {"error": str(e).split("\n")[0][:120]}
                    continue
                r = {"value": [fmt(v) for v in y.detach().reshape(-1).tolist()]}
                floats = [x for x in xs if x.dtype == torch.float64]
                if y.dtype == torch.float64 and y.requires_grad:
                    gs = torch.autograd.grad(y.sum(), floats, allow_unused=True)
                    r["grads"] = [[fmt(v) for v in (g if g is not None else torch.zeros_like(x)).reshape(-1).tolist()] for g, x in zip(gs, floats)]
                elif y.dtype == torch.float64:
                    r["grads"] = [[fmt(0) for _ in x.reshape(-1).tolist()] for x in floats]  # detached: no gradient flows
                out[key] = r
json.dump({"torch": torch.__version__, "results": out}, open(os.path.join(HERE, "pytorch.json"), "w"), indent=0, sort_keys=True)
print(len(out), "cases")
