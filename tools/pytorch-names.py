#!/usr/bin/env python3
"""The PyTorch reference for `chainrule train names`: trains the same mlp, transformer (and gru), with the same
hyperparameters, initial-weight distributions, schedule and clipping, on the same split, and prints the NLL
per character (nats) on the training and test names.

The split is read from the JSON file that `chainrule train names --save-split FILE --seed S` writes; by
default this script runs that command itself (the built CLI, bin/chainrule.js) for each seed. Run with a
Python that has torch (Debian: `apt-get install python3-torch`):

    /usr/bin/python3 tools/pytorch-names.py                 # mlp and transformer, seeds 0 1 2
    /usr/bin/python3 tools/pytorch-names.py --model mlp --seeds 0 --json

The defaults mirror NAMES_DEFAULTS in src/cli/names-command.ts; keep the two in step. What is the same as in
chainrule: the data layout (mlp: windows of 3 previous tokens padded with the end marker; transformer: whole
names [end, c1..cn] -> [c1..cn, end] padded to 16 with ignored targets), the architectures and parameter
names, the initial-weight distributions (not the draws: the generators differ), Adam/AdamW (PyTorch's
update, which chainrule implements), the per-update schedule (linear warm-up, cosine decay to lr/10),
clipping of the total gradient norm, batch sizes and epochs, float32.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VOCAB, END, IGNORE = 27, 0, -1

DEFAULTS = {
    "mlp": dict(epochs=10, batch=128, lr=0.01, context=3, embedding=16, hidden=128, warmup=0, clip=0.0, weight_decay=0.0),
    "gru": dict(epochs=4, batch=32, lr=0.01, context=16, embedding=16, hidden=128, layers=1, warmup=0, clip=1.0, weight_decay=0.0),
    "transformer": dict(epochs=3, batch=32, lr=0.003, context=16, embedding=64, heads=4, layers=2, feedforward=256,
                        warmup=100, clip=1.0, weight_decay=0.01),
}


def encode(name):
    return [ord(c) - 96 for c in name] + [END]


def windows(names, t):
    """charExamples: every next-character prediction with the previous t tokens, padded with END."""
    xs, ys = [], []
    for name in names:
        tokens = encode(name)
        for i, y in enumerate(tokens):
            xs.append([tokens[p] if p >= 0 else END for p in range(i - t, i)])
            ys.append(y)
    return torch.tensor(xs), torch.tensor(ys)


def sequences(names, t):
    """charSequences: [END, c1..cn] -> [c1..cn, END], right-padded to t with END / IGNORE."""
    x = torch.full((len(names), t), END)
    y = torch.full((len(names), t), IGNORE)
    for r, name in enumerate(names):
        tokens = encode(name)
        x[r, 1:len(tokens)] = torch.tensor(tokens[:-1])
        y[r, :len(tokens)] = torch.tensor(tokens)
    return x, y


# chainrule's initialisers, so both libraries start from the same distributions.
def glorot_(w):
    fan_out, fan_in = w.shape
    b = math.sqrt(6 / (fan_in + fan_out))
    nn.init.uniform_(w, -b, b)


def kaiming_(w):  # chainrule's Linear default: He uniform with gain sqrt(2)
    b = math.sqrt(2) * math.sqrt(3 / w.shape[1])
    nn.init.uniform_(w, -b, b)


class CharMLP(nn.Module):
    """chainrule's nn.CharMLP: embedding, concatenation, tanh layer, output layer (Glorot, zero biases)."""

    def __init__(self, context, embedding, hidden):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, embedding)  # N(0, 1), as chainrule
        self.hidden = nn.Linear(context * embedding, hidden)
        self.output = nn.Linear(hidden, VOCAB)
        for lin in (self.hidden, self.output):
            glorot_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        e = self.embedding(x).flatten(1)
        return self.output(torch.tanh(self.hidden(e)))


class CharGRU(nn.Module):
    """chainrule's nn.CharGRU: embedding, batch-first GRU (PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) init, which
    chainrule's GRU copies), output layer (Glorot, zero bias)."""

    def __init__(self, embedding, hidden, layers):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, embedding)
        self.rnn = nn.GRU(embedding, hidden, num_layers=layers, batch_first=True)
        self.output = nn.Linear(hidden, VOCAB)
        glorot_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, x):
        return self.output(self.rnn(self.embedding(x))[0])


class CharTransformer(nn.Module):
    """chainrule's nn.CharTransformer: tokens + positions, pre-norm causal blocks, LayerNorm, output."""

    def __init__(self, context, embedding, heads, layers, feedforward):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, embedding)
        self.positions = nn.Embedding(context, embedding)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(embedding, heads, feedforward, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
            for _ in range(layers))
        self.norm = nn.LayerNorm(embedding)
        self.output = nn.Linear(embedding, VOCAB)
        with torch.no_grad():
            for b in self.blocks:
                glorot_(b.self_attn.in_proj_weight)  # as PyTorch's own reset, and chainrule's MultiheadAttention
                nn.init.zeros_(b.self_attn.in_proj_bias)
                kaiming_(b.self_attn.out_proj.weight)  # chainrule's MultiheadAttention uses a default Linear here
                nn.init.zeros_(b.self_attn.out_proj.bias)
                for lin in (b.linear1, b.linear2):
                    glorot_(lin.weight)
                    nn.init.zeros_(lin.bias)
            glorot_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def forward(self, x):
        l = x.shape[1]
        h = self.tokens(x) + self.positions(torch.arange(l))
        mask = torch.ones(l, l, dtype=torch.bool).triu(1)  # True = may not attend
        for b in self.blocks:
            h = b(h, src_mask=mask)
        return self.output(self.norm(h))


def schedule(lr, total, warmup):
    """chainrule's cosineDecay(lr, total, {minLr: lr/10, warmupSteps}) as a function of completed updates."""
    lo = lr / 10

    def at(step):
        if step < warmup:
            return lr * (step + 1) / warmup
        t = min(1.0, (step - warmup) / (total - warmup))
        return lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * t))
    return at


def trim(x, y):
    """Cut the positions after the longest name of a sequence batch (exact for a causal model)."""
    if y.dim() == 1:
        return x, y
    used = (y != IGNORE).sum(1).max().item()
    return x[:, :used], y[:, :used]


def nll(model, x, y, count, batch=512):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            xb, yb = trim(x[s:s + batch], y[s:s + batch])
            logits = model(xb)
            total += F.cross_entropy(logits.reshape(-1, VOCAB), yb.reshape(-1), ignore_index=IGNORE, reduction="sum").item()
    model.train()
    return total / count


def split_for(seed, given):
    if given:
        with open(given) as fh:
            return json.load(fh)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, f"split-{seed}.json")
        subprocess.run(["node", os.path.join(ROOT, "bin", "chainrule.js"), "train", "names", "--model", "bigram",
                        "--seed", str(seed), "--save-split", path, "--json"], check=True, stdout=subprocess.DEVNULL)
        with open(path) as fh:
            return json.load(fh)


def train(kind, seed, split, h, log):
    torch.manual_seed(seed)
    if kind == "mlp":
        model = CharMLP(h["context"], h["embedding"], h["hidden"])
        (xtr, ytr), (xte, yte) = windows(split["train"], h["context"]), windows(split["test"], h["context"])
        opt = torch.optim.Adam(model.parameters(), lr=h["lr"])
    elif kind == "gru":
        model = CharGRU(h["embedding"], h["hidden"], h["layers"])
        (xtr, ytr), (xte, yte) = sequences(split["train"], h["context"]), sequences(split["test"], h["context"])
        opt = torch.optim.Adam(model.parameters(), lr=h["lr"])
    else:
        model = CharTransformer(h["context"], h["embedding"], h["heads"], h["layers"], h["feedforward"])
        (xtr, ytr), (xte, yte) = sequences(split["train"], h["context"]), sequences(split["test"], h["context"])
        opt = torch.optim.AdamW(model.parameters(), lr=h["lr"], weight_decay=h["weight_decay"])
    count_tr, count_te = int((ytr != IGNORE).sum()), int((yte != IGNORE).sum())
    n = xtr.shape[0]
    batches = math.ceil(n / h["batch"])
    lr_at = schedule(h["lr"], h["epochs"] * batches, h["warmup"])
    gen = torch.Generator().manual_seed(seed)
    step, start, history = 0, time.time(), []
    for epoch in range(1, h["epochs"] + 1):
        order = torch.randperm(n, generator=gen)
        for b in range(batches):
            idx = order[b * h["batch"]:(b + 1) * h["batch"]]
            xb, yb = trim(xtr[idx], ytr[idx])
            logits = model(xb)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), yb.reshape(-1), ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if h["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), h["clip"])
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            opt.step()
            step += 1
        tr, te = nll(model, xtr, ytr, count_tr), nll(model, xte, yte, count_te)
        history.append({"epoch": epoch, "trainNLL": tr, "testNLL": te})
        log(f"{kind} seed {seed} epoch {epoch}/{h['epochs']}  train NLL {tr:.4f}  test NLL {te:.4f}  {time.time() - start:.1f}s")
    params = sum(p.numel() for p in model.parameters())
    return {"model": kind, "seed": seed, "parameters": params, "trainNLL": history[-1]["trainNLL"], "testNLL": history[-1]["testNLL"],
            "seconds": round(time.time() - start, 2), "history": history}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["mlp", "gru", "transformer", "both"], default="both", help="both = mlp and transformer (the issue's pair)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--split", help="a split file from chainrule train names --save-split (one seed only)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per run instead of progress lines")
    args = ap.parse_args()
    if args.split and len(args.seeds) != 1:
        ap.error("--split holds one seed's split; give one --seeds value with it")
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    kinds = ["mlp", "transformer"] if args.model == "both" else [args.model]
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    results = []
    for seed in args.seeds:
        split = split_for(seed, args.split)
        for kind in kinds:
            r = train(kind, seed, split, DEFAULTS[kind], log)
            results.append(r)
            print(json.dumps(r) if args.json else f"{kind} seed {seed}: test NLL {r['testNLL']:.4f} ({r['parameters']} parameters, {r['seconds']}s)")
    if not args.json:
        for kind in kinds:
            rs = [r for r in results if r["model"] == kind]
            mean = sum(r["testNLL"] for r in rs) / len(rs)
            print(f"{kind}: mean test NLL {mean:.4f} over seeds {', '.join(str(r['seed']) for r in rs)}")


if __name__ == "__main__":
    main()
