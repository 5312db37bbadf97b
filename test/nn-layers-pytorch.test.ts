// Layers against PyTorch (test/fixtures/pytorch-layers.json, written by tools/pytorch-layers.py): outputs,
// parameter names and shapes, and gradients of L = Σ y·W with respect to the input and every parameter, in
// float64 to 1e-6.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { grad, nn, tensor, type Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

interface Flat { shape: number[]; data: number[] }
interface Case {
  name: string;
  layer: string;
  args: Record<string, unknown>;
  training: boolean;
  state: Record<string, Flat>;
  input: Flat & { dtype: "int32" | "float64" };
  output: Flat;
  weight: Flat;
  input_grad: Flat | null;
  param_grads: Record<string, Flat>;
  state_after?: Record<string, Flat>;
  eval_output?: Flat;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/pytorch-layers.json", import.meta.url), "utf8")) as { torch: string; cases: Case[] };
const f64 = (f: Flat): Tensor => tensor(Float64Array.from(f.data), { shape: f.shape });
const input = (c: Case): Tensor => (c.input.dtype === "int32" ? tensor(Int32Array.from(c.input.data), { shape: c.input.shape }) : f64(c.input));

/** The chainrule layer for a fixture case, built from the same arguments, in float64. */
function build(c: Case): nn.Module {
  const a = c.args as Record<string, never>;
  switch (c.layer) {
    case "Embedding": return new nn.Embedding(a.numEmbeddings, a.embeddingDim, { dtype: "float64" });
    case "LayerNorm": return new nn.LayerNorm(a.normalizedShape, { eps: a.eps, elementwiseAffine: a.elementwiseAffine, dtype: "float64" });
    default: throw new Error(`no builder for ${c.layer}`);
  }
}

const cases = fixture.cases.filter((c) => c.layer === "Embedding" || c.layer === "LayerNorm");

describe(`layers against PyTorch ${fixture.torch}`, () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s: names, shapes, output and gradients", (_, c) => {
    const layer = build(c);
    const params = layer.parameters();
    expect(Object.keys(params)).toEqual(Object.keys(c.state));
    for (const [k, v] of Object.entries(c.state)) expect(params[k]!.shape, k).toEqual(v.shape);
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f64(v)]));
    layer.loadStateDict(state);
    const x = input(c);
    expectAllClose(layer.forward(x), c.output.data);
    const w = f64(c.weight);
    const loss = (p: Record<string, Tensor>, xs: Tensor): Tensor => layer.apply(p, xs).mul(w).sum();
    const gp = grad(loss)(state, x) as Record<string, Tensor>;
    for (const [k, g] of Object.entries(c.param_grads)) expectAllClose(gp[k]!, g.data);
    if (c.input_grad) expectAllClose(grad(loss, { argnums: 1 })(state, x) as Tensor, c.input_grad.data);
  });
});

describe("Embedding", () => {
  it("accumulates the gradients of repeated ids, rejects bad ids and sizes", () => {
    const e = new nn.Embedding(3, 2, { dtype: "float64" });
    const ids = tensor([2, 0, 2, 2], { dtype: "int32" });
    const g = grad((p: Record<string, Tensor>) => e.apply(p, ids).sum())(e.stateDict()) as Record<string, Tensor>;
    expect(Array.from(g.weight!.data)).toEqual([1, 1, 0, 0, 3, 3]);
    expect(e.forward(tensor([[1]], { dtype: "int32" })).shape).toEqual([1, 1, 2]);
    expect(() => e.forward(tensor([3], { dtype: "int32" }))).toThrow(/Embedding: token id 3 at flat position 0 is out of range; expected 0..2/);
    expect(() => e.forward(tensor([-1], { dtype: "int32" }))).toThrow(/token id -1/);
    expect(() => e.forward(tensor([1]))).toThrow(/token ids must be int32, got float32/);
    expect(() => new nn.Embedding(0, 2)).toThrow(/numEmbeddings must be a positive integer, got 0/);
  });

  it("initialises N(0, 1) like PyTorch", () => {
    const w = new nn.Embedding(100, 50).stateDict().weight!.data;
    let s = 0, s2 = 0;
    for (const v of w) (s += v), (s2 += v * v);
    const m = s / w.length, sd = Math.sqrt(s2 / w.length - m * m);
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
  });
});

describe("LayerNorm", () => {
  it("checks its shapes and arguments", () => {
    const ln = new nn.LayerNorm([2, 3]);
    expect(() => ln.forward(tensor([[1, 2, 3]]))).toThrow(/LayerNorm: input has shape \[1,3\], expected trailing dimensions \[2,3\]/);
    expect(() => new nn.LayerNorm([])).toThrow(/normalizedShape must be one or more positive integers, got \[\]/);
    expect(new nn.LayerNorm(4, { elementwiseAffine: false }).numParameters()).toBe(0);
    expect(Object.keys(new nn.LayerNorm(4, { bias: false }).parameters())).toEqual(["weight"]);
  });
});
