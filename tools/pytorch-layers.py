#!/usr/bin/env python3
"""Writes test/fixtures/pytorch-layers.json, pytorch-attention.json, pytorch-transformer.json and pytorch-recurrent.json: for each layer (Embedding, LayerNorm, BatchNorm1d, BatchNorm2d) in
float64, its constructor arguments, state dict (names, shapes, values: PyTorch's names and layouts), an input,
the output, a fixed weight W shaped like the output, and the gradients of L = sum(output * W) with respect to
the input (float inputs only) and to every parameter. BatchNorm cases also record the running statistics after
the training-mode forward pass and the output of a second, evaluation-mode pass with them.

Run with a Python that has torch (Debian: `apt-get install python3-torch`, then
`/usr/bin/python3 tools/pytorch-layers.py`); test/nn-layers-pytorch.test.ts and test/nn-attention.test.ts read them.
The attention file holds scaled dot-product attention (written out with torch ops: torch 1.13 has no
F.scaled_dot_product_attention) and nn.MultiheadAttention with its attention weights; the transformer file
holds nn.TransformerEncoderLayer in its pre-norm form (chainrule's TransformerBlock) and a learned positional
embedding (test/nn-transformer.test.ts); the recurrent file nn.GRU and nn.LSTM with initial and final states
(test/nn-recurrent.test.ts).
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


def sdpa(q, k, v, mask=None, causal=False):
    """softmax(q kᵀ / √E + mask) v, written out (torch 1.13 has no F.scaled_dot_product_attention); bool masks:
    True = attend, as in PyTorch 2's F.scaled_dot_product_attention."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = None
    if causal:
        allowed = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        if mask.dtype == torch.bool:
            allowed = mask if allowed is None else (allowed & mask)
        else:
            scores = scores + mask
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, -1) @ v


def attention_cases():
    out = []
    specs = [
        ("sdpa_plain", [2, 3, 4], [2, 5, 4], [2, 5, 3], None, False),
        ("sdpa_causal", [1, 2, 4, 3], [1, 2, 4, 3], [1, 2, 4, 2], None, True),
        ("sdpa_bool_mask", [3, 4], [5, 4], [5, 2], torch.tensor([[True, False, True, True, False]] * 3), False),
        ("sdpa_float_mask", [2, 3, 4], [2, 3, 4], [2, 3, 4], values([3, 3], 9, -1.0, 1.0), False),
    ]
    for k, (name, qs, ks, vs, mask, causal) in enumerate(specs):
        ins = [values(s, 20 + 3 * k + i, -1.5, 1.5).requires_grad_(True) for i, s in enumerate((qs, ks, vs))]
        y = sdpa(*ins, mask=mask, causal=causal)
        w = values(list(y.shape), 98, -1.0, 1.0)
        (y * w).sum().backward()
        out.append({
            "name": name, "layer": "scaledDotProductAttention", "args": {"causal": causal}, "training": True, "state": {},
            "inputs": [flat(t) for t in ins], "mask": None if mask is None else {**flat(mask.double()), "dtype": "bool" if mask.dtype == torch.bool else "float64"},
            "output": flat(y), "weight": flat(w), "input_grads": [flat(t.grad) for t in ins], "param_grads": {},
        })
    for name, batch_first, causal in [("mha_self", False, False), ("mha_batch_first_causal", True, True)]:
        mha = torch.nn.MultiheadAttention(4, 2, batch_first=batch_first)
        with torch.no_grad():
            for k, (pname, p) in enumerate(mha.named_parameters()):
                p.copy_(values(list(p.shape), 40 + k, -0.8, 0.8))
        state = {k: flat(v) for k, v in mha.state_dict().items()}
        x = values([2, 3, 4], 50, -1.5, 1.5).requires_grad_(True)
        mask = torch.ones(3, 3, dtype=torch.bool).triu(1) if causal else None  # True = blocked (nn.MultiheadAttention)
        y, attw = mha(x, x, x, attn_mask=mask)
        w = values(list(y.shape), 97, -1.0, 1.0)
        (y * w).sum().backward()
        out.append({
            "name": name, "layer": "MultiheadAttention", "args": {"embedDim": 4, "numHeads": 2, "batchFirst": batch_first, "causal": causal},
            "training": True, "state": state, "input": {**flat(x), "dtype": "float64"}, "output": flat(y), "attn_weights": flat(attw),
            "weight": flat(w), "input_grad": flat(x.grad), "param_grads": {k: flat(p.grad) for k, p in mha.named_parameters()},
        })
    return out


def transformer_cases():
    """nn.TransformerEncoderLayer as a pre-norm block (norm_first, batch_first, no dropout), plain and with a
    causal src_mask, and a learned positional embedding (nn.Embedding(T, E) of arange(L), added)."""
    out = []
    for name, act, causal in [("block_gelu", "gelu", False), ("block_causal_relu", "relu", True)]:
        layer = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation=act, batch_first=True, norm_first=True)
        with torch.no_grad():
            for k, (pname, p) in enumerate(layer.named_parameters()):
                lo, hi = (0.5, 1.5) if pname.startswith("norm") and pname.endswith("weight") else (-0.8, 0.8)
                p.copy_(values(list(p.shape), 60 + k, lo, hi))
        state = {k: flat(v) for k, v in layer.state_dict().items()}
        layer.train()
        x = values([2, 3, 4], 70, -1.5, 1.5).requires_grad_(True)
        mask = torch.ones(3, 3, dtype=torch.bool).triu(1) if causal else None  # True = blocked
        y = layer(x, src_mask=mask)
        w = values(list(y.shape), 96, -1.0, 1.0)
        (y * w).sum().backward()
        out.append({
            "name": name, "layer": "TransformerBlock", "args": {"dModel": 4, "numHeads": 2, "dimFeedforward": 6, "activation": act, "causal": causal},
            "training": True, "state": state, "input": {**flat(x), "dtype": "float64"}, "output": flat(y),
            "weight": flat(w), "input_grad": flat(x.grad), "param_grads": {k: flat(p.grad) for k, p in layer.named_parameters()},
        })
    pos = torch.nn.Embedding(5, 4)
    with torch.no_grad():
        pos.weight.copy_(values([5, 4], 80, -1.0, 1.0))
    state = {k: flat(v) for k, v in pos.state_dict().items()}
    x = values([2, 3, 4], 81, -1.5, 1.5).requires_grad_(True)
    y = x + pos(torch.arange(3))
    w = values(list(y.shape), 95, -1.0, 1.0)
    (y * w).sum().backward()
    out.append({
        "name": "positional_embedding", "layer": "PositionalEmbedding", "args": {"maxLength": 5, "dim": 4},
        "training": True, "state": state, "input": {**flat(x), "dtype": "float64"}, "output": flat(y),
        "weight": flat(w), "input_grad": flat(x.grad), "param_grads": {"weight": flat(pos.weight.grad)},
    })
    return out


def recurrent_cases():
    """nn.GRU and nn.LSTM (one direction, no dropout): outputs, final states and the gradients of
    L = Σ out·W + Σ h_n·Wh (+ Σ c_n·Wc) with respect to the input, the initial states and every parameter."""
    out = []
    specs = [
        ("gru_batch_first_two_layers_h0", torch.nn.GRU, dict(input_size=3, hidden_size=4, num_layers=2, batch_first=True), [2, 5, 3], True),
        ("gru_seq_first_no_bias", torch.nn.GRU, dict(input_size=3, hidden_size=2, bias=False), [4, 3, 3], False),
        ("lstm_batch_first_two_layers_h0_c0", torch.nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, batch_first=True), [2, 5, 3], True),
        ("lstm_seq_first", torch.nn.LSTM, dict(input_size=2, hidden_size=3), [4, 2, 2], False),
    ]
    for k, (name, cls, kw, xshape, with_state) in enumerate(specs):
        rnn = cls(**kw)
        with torch.no_grad():
            for j, (pname, p) in enumerate(rnn.named_parameters()):
                p.copy_(values(list(p.shape), 100 + 10 * k + j, -0.7, 0.7))
        state = {pn: flat(v) for pn, v in rnn.state_dict().items()}
        x = values(xshape, 150 + k, -1.5, 1.5).requires_grad_(True)
        n = xshape[0] if kw.get("batch_first") else xshape[1]
        layers, hidden = kw.get("num_layers", 1), kw["hidden_size"]
        lstm = cls is torch.nn.LSTM
        h0 = values([layers, n, hidden], 160 + k, -0.9, 0.9).requires_grad_(True) if with_state else None
        c0 = values([layers, n, hidden], 170 + k, -0.9, 0.9).requires_grad_(True) if with_state and lstm else None
        if lstm:
            y, (hn, cn) = rnn(x, (h0, c0)) if with_state else rnn(x)
        else:
            y, hn = rnn(x, h0) if with_state else rnn(x)
            cn = None
        w, wh = values(list(y.shape), 94, -1.0, 1.0), values(list(hn.shape), 93, -1.0, 1.0)
        loss = (y * w).sum() + (hn * wh).sum()
        wc = None
        if cn is not None:
            wc = values(list(cn.shape), 92, -1.0, 1.0)
            loss = loss + (cn * wc).sum()
        loss.backward()
        out.append({
            "name": name, "layer": cls.__name__,
            "args": {"inputSize": kw["input_size"], "hiddenSize": hidden, "numLayers": layers, "bias": kw.get("bias", True), "batchFirst": kw.get("batch_first", False)},
            "training": True, "state": state, "input": {**flat(x), "dtype": "float64"},
            "h0": flat(h0) if h0 is not None else None, "c0": flat(c0) if c0 is not None else None,
            "output": flat(y), "h_n": flat(hn), "c_n": flat(cn) if cn is not None else None,
            "weight": flat(w), "weight_h": flat(wh), "weight_c": flat(wc) if wc is not None else None,
            "input_grad": flat(x.grad), "h0_grad": flat(h0.grad) if h0 is not None else None, "c0_grad": flat(c0.grad) if c0 is not None else None,
            "param_grads": {pn: flat(p.grad) for pn, p in rnn.named_parameters()},
        })
    return out


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
    for fname, group in [("pytorch-layers.json", cases), ("pytorch-attention.json", attention_cases()), ("pytorch-transformer.json", transformer_cases()),
                         ("pytorch-recurrent.json", recurrent_cases())]:
        doc = {"torch": torch.__version__, "torch_package": package, "cases": group}
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", fname)
        with open(out, "w") as fh:
            json.dump(doc, fh, indent=None, separators=(",", ":"))
            fh.write("\n")
        print(f"wrote {out}: {len(group)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
