// TransformerBlock and PositionalEmbedding against PyTorch (test/fixtures/pytorch-transformer.json, written by
// tools/pytorch-layers.py): outputs and gradients of L = Σ y·W in float64 to 1e-6, PyTorch's parameter names
// and order. Then the character transformer's causality, crossEntropy's ignoreIndex and charSequences.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { grad, tensor, Tensor } from "../src/index.js";
import { data, nn } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

interface Flat { shape: number[]; data: number[] }
interface Case {
  name: string;
  layer: string;
  args: { dModel?: number; numHeads?: number; dimFeedforward?: number; activation?: "gelu" | "relu"; causal?: boolean; maxLength?: number; dim?: number };
  state: Record<string, Flat>;
  input: Flat;
  output: Flat;
  weight: Flat;
  input_grad: Flat;
  param_grads: Record<string, Flat>;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/pytorch-transformer.json", import.meta.url), "utf8")) as { torch: string; cases: Case[] };
const f64 = (f: Flat): Tensor => tensor(Float64Array.from(f.data), { shape: f.shape });

describe(`TransformerBlock and PositionalEmbedding against PyTorch ${fixture.torch}`, () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s: names, shapes, output, gradients", (_, c) => {
    const a = c.args;
    const layer = c.layer === "TransformerBlock"
      ? new nn.TransformerBlock(a.dModel!, a.numHeads!, { dimFeedforward: a.dimFeedforward, activation: a.activation, causal: a.causal, dtype: "float64" })
      : new nn.PositionalEmbedding(a.maxLength!, a.dim!, { dtype: "float64" });
    const own = layer.stateDict();
    expect(Object.keys(own)).toEqual(Object.keys(c.state)); // PyTorch's names, in PyTorch's order
    for (const [k, v] of Object.entries(c.state)) expect(own[k]!.shape, k).toEqual(v.shape);
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f64(v)]));
    layer.loadStateDict(state);
    const x = f64(c.input), w = f64(c.weight);
    expectAllClose(layer.forward(x), c.output.data);
    expectAllClose(grad((xs: Tensor) => layer.forward(xs).mul(w).sum())(x), c.input_grad.data);
    const gp = grad((p: Record<string, Tensor>) => layer.apply(p, x).mul(w).sum())(state) as Record<string, Tensor>;
    for (const [k, g] of Object.entries(c.param_grads)) expectAllClose(gp[k]!, g.data);
  });

  it("checks sizes and shapes", () => {
    expect(() => new nn.TransformerBlock(6, 4)).toThrow(/TransformerBlock: dModel 6 must be divisible by numHeads 4/);
    expect(() => new nn.TransformerBlock(4, 2, { dimFeedforward: 0 })).toThrow(/dimFeedforward must be a positive integer, got 0/);
    expect(() => new nn.TransformerBlock(4, 2).forward(tensor([[1, 2, 3, 4]]))).toThrow(/TransformerBlock: input has shape \[1,4\], expected \[N, L, 4\]/);
    expect(() => new nn.PositionalEmbedding(2, 3).forward(tensor(new Float32Array(9), { shape: [1, 3, 3] }))).toThrow(/PositionalEmbedding: input has shape \[1,3,3\], expected \[\.\.\., L, 3\] with L ≤ 2/);
  });
});

describe("CharTransformer", () => {
  const model = new nn.CharTransformer({ vocab: 7, context: 5, embedding: 8, heads: 2, layers: 2, feedforward: 12, dtype: "float64" });

  it("has makemore-like parameter names and predicts at every position", () => {
    expect(Object.keys(model.stateDict()).slice(0, 4)).toEqual(["tokens.weight", "positions.weight", "blocks.0.self_attn.in_proj_weight", "blocks.0.self_attn.in_proj_bias"]);
    expect(Object.keys(model.stateDict()).slice(-4)).toEqual(["norm.weight", "norm.bias", "output.weight", "output.bias"]);
    const y = model.forward(tensor([[0, 1, 2], [0, 3, 3]], { dtype: "int32" }));
    expect(y.shape).toEqual([2, 3, 7]);
  });

  it("is causal: changing a later token leaves earlier positions' logits unchanged, and their gradients zero", () => {
    const a = model.forward(tensor([[0, 1, 2, 3]], { dtype: "int32" })).data;
    const b = model.forward(tensor([[0, 1, 5, 6]], { dtype: "int32" })).data;
    expect(Array.from(a.slice(0, 14))).toEqual(Array.from(b.slice(0, 14))); // positions 0 and 1 (7 logits each)
    expect(Array.from(a.slice(14))).not.toEqual(Array.from(b.slice(14)));
    // The loss at position 0 does not depend on the embedding of the token at position 2 (id 2 occurs only there).
    const x = tensor([[0, 1, 2]], { dtype: "int32" });
    const g = grad((p: Record<string, Tensor>) => model.apply(p, x).sum([0, 2]).mul(tensor([1, 0, 0], { dtype: "float64" })).sum())(model.stateDict()) as Record<string, Tensor>;
    expect(Array.from(g["tokens.weight"]!.data.slice(2 * 8, 3 * 8))).toEqual(new Array(8).fill(0));
    expect(() => model.forward(tensor([[0, 1, 2, 3, 4, 5]], { dtype: "int32" }))).toThrow(/CharTransformer: input has shape \[1,6\], expected \[N, L\] token ids with 1 ≤ L ≤ 5/);
  });
});

describe("crossEntropy with ignoreIndex", () => {
  const logits = tensor([[1, 2, 0.5], [0.3, -1, 2], [2, 2, 2]], { dtype: "float64" });
  it("skips ignored positions in value and gradient and averages over the others, as PyTorch", () => {
    const y = tensor([2, -1, 0], { dtype: "int32" });
    const lse = (r: number[]): number => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const want = ((lse([1, 2, 0.5]) - 0.5) + (lse([2, 2, 2]) - 2)) / 2;
    expect(nn.crossEntropy(logits, y, { ignoreIndex: -1 }).item()).toBeCloseTo(want, 12);
    expect(nn.crossEntropy(logits, y, { ignoreIndex: -1, reduction: "sum" }).item()).toBeCloseTo(2 * want, 12);
    expect(Array.from(nn.crossEntropy(logits, y, { ignoreIndex: -1, reduction: "none" }).data)[1]).toBe(0);
    const g = grad((l: Tensor) => nn.crossEntropy(l, y, { ignoreIndex: -1 }))(logits);
    expect(Array.from(g.data.slice(3, 6))).toEqual([0, 0, 0]);
    expectAllClose(g.sum(-1), [0, 0, 0]);
  });
  it("refuses a mean over nothing and probability targets", () => {
    expect(() => nn.crossEntropy(logits, tensor([-1, -1, -1], { dtype: "int32" }), { ignoreIndex: -1 })).toThrow(/every label equals ignoreIndex -1/);
    expect(() => nn.crossEntropy(logits, logits, { ignoreIndex: -1 })).toThrow(/ignoreIndex applies to int32 class labels/);
    expect(() => nn.crossEntropy(logits, tensor([2, -1, 0], { dtype: "int32" }))).toThrow(/label -1 at position 1 is out of range/);
  });
});

describe("charSequences", () => {
  it("pads names on the right, targets shifted by one and −1 after the end", () => {
    const s = data.charSequences(["ab", "c"], 4);
    expect(Array.from(s.inputs)).toEqual([0, 1, 2, 0, 0, 3, 0, 0]);
    expect(Array.from(s.targets)).toEqual([1, 2, 0, -1, 3, 0, -1, -1]);
    expect(s.count).toBe(data.charExamples(["ab", "c"], 3).count);
    expect(() => data.charSequences(["abcd"], 4)).toThrow(/"abcd" has 4 letters; a block of 4 holds names of up to 3/);
  });
  it("gives a sequence model the NLL a window model computes from the same contexts", () => {
    // A transformer over whole names equals, at each position, itself applied to the name so far.
    const names = ["abba", "cab", "a"];
    const m = new nn.CharTransformer({ vocab: 27, context: 5, embedding: 4, heads: 1, layers: 1, feedforward: 4, dtype: "float64" });
    const seq = nn.charNLL(m, data.charSequences(names, 5), undefined, 2);
    let total = 0, n = 0;
    for (const name of names) {
      const tokens = [0, ...Array.from(name, (ch) => ch.charCodeAt(0) - 96)];
      const targets = [...tokens.slice(1), 0];
      for (let i = 0; i < tokens.length; i++) {
        const logits = m.forward(tensor([tokens.slice(0, i + 1)], { dtype: "int32" }));
        total += nn.crossEntropy(logits.reshape([i + 1, 27]).slice([i, 0], [i + 1, 27]), tensor([targets[i]!], { dtype: "int32" })).item();
        n++;
      }
    }
    expect(seq).toBeCloseTo(total / n, 10);
  });
});
