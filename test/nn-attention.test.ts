// Attention against PyTorch (test/fixtures/pytorch-attention.json, written by tools/pytorch-layers.py):
// outputs and gradients of L = Σ y·W in float64 to 1e-6, and nn.MultiheadAttention's names, shapes and weights.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { grad, randn, tensor, type Tensor } from "../src/index.js";
import { nn } from "../src/index.js";
const { MultiheadAttention, scaledDotProductAttention } = nn;
import { expectAllClose } from "./helpers/close.js";

interface Flat { shape: number[]; data: number[] }
interface Case {
  name: string;
  layer: string;
  args: { causal: boolean; embedDim?: number; numHeads?: number; batchFirst?: boolean };
  state: Record<string, Flat>;
  inputs?: Flat[];
  mask?: (Flat & { dtype: "bool" | "float64" }) | null;
  input?: Flat;
  output: Flat;
  attn_weights?: Flat;
  weight: Flat;
  input_grads?: Flat[];
  input_grad?: Flat;
  param_grads: Record<string, Flat>;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/pytorch-attention.json", import.meta.url), "utf8")) as { torch: string; cases: Case[] };
const f64 = (f: Flat): Tensor => tensor(Float64Array.from(f.data), { shape: f.shape });

describe(`scaledDotProductAttention against PyTorch ${fixture.torch}`, () => {
  it.each(fixture.cases.filter((c) => c.layer === "scaledDotProductAttention").map((c) => [c.name, c] as const))("%s", (_, c) => {
    const [q, k, v] = c.inputs!.map(f64) as [Tensor, Tensor, Tensor];
    const mask = c.mask ? (c.mask.dtype === "bool" ? tensor(c.mask.data.map((x) => x !== 0), { shape: c.mask.shape }) : f64(c.mask)) : null;
    const f = (a: Tensor, b: Tensor, d: Tensor): Tensor => scaledDotProductAttention(a, b, d, { mask, causal: c.args.causal });
    expectAllClose(f(q, k, v), c.output.data);
    const w = f64(c.weight);
    for (let i = 0; i < 3; i++) {
      const g = grad((a: Tensor, b: Tensor, d: Tensor) => f(a, b, d).mul(w).sum(), { argnums: i as 0 })(q, k, v) as Tensor;
      expectAllClose(g, c.input_grads![i]!.data);
    }
  });

  it("causal alone (an additive −∞ mask) equals the explicit lower-triangular bool mask (a selection) in values and first and second derivatives", () => {
    const q = randn([2, 3, 4, 5], { seed: 1, dtype: "float64" }), k = randn([2, 3, 6, 5], { seed: 2, dtype: "float64" }), v = randn([2, 3, 6, 2], { seed: 3, dtype: "float64" });
    const tri = tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 6 }, (_, j) => j <= i)));
    const w = randn([2, 3, 4, 2], { seed: 4, dtype: "float64" });
    const additive = (a: Tensor): Tensor => scaledDotProductAttention(a, k, v, { causal: true }).mul(w).sum();
    const selected = (a: Tensor): Tensor => scaledDotProductAttention(a, k, v, { mask: tri }).mul(w).sum();
    expectAllClose(scaledDotProductAttention(q, k, v, { causal: true }), scaledDotProductAttention(q, k, v, { mask: tri }));
    expectAllClose(grad(additive)(q), grad(selected)(q));
    // Second order: the gradient of Σ ∂L/∂q (a Hessian-vector product with a vector of ones).
    const hv = (f: (a: Tensor) => Tensor) => grad((a: Tensor) => grad(f)(a).sum())(q);
    expectAllClose(hv(additive), hv(selected));
  });

  it("checks shapes and refuses a mask that leaves a query nothing to attend to", () => {
    const q = tensor([[1, 2]]), k = tensor([[1, 2], [3, 4]]), v = tensor([[1], [2]]);
    expect(() => scaledDotProductAttention(q, tensor([[1, 2, 3]]), v)).toThrow(/q is \[1,2\] and k is \[1,3\]; their last dimensions \(E\) must agree/);
    expect(() => scaledDotProductAttention(q, k, tensor([[1]]))).toThrow(/they need the same number of keys/);
    expect(() => scaledDotProductAttention(q, k, v, { mask: tensor([[false, false]]) })).toThrow(/leaves query row 0 .* with no key to attend to/);
    // A causal query 0 sees key 0 only.
    expect(Array.from(scaledDotProductAttention(q, k, v, { causal: true }).data)).toEqual([1]);
  });
});

describe(`MultiheadAttention against PyTorch ${fixture.torch}`, () => {
  it.each(fixture.cases.filter((c) => c.layer === "MultiheadAttention").map((c) => [c.name, c] as const))("%s: names, shapes, output, weights, gradients", (_, c) => {
    const mha = new MultiheadAttention(c.args.embedDim!, c.args.numHeads!, { batchFirst: c.args.batchFirst, dtype: "float64" });
    const own = mha.stateDict();
    expect(Object.keys(own)).toEqual(Object.keys(c.state));
    for (const [k, v] of Object.entries(c.state)) expect(own[k]!.shape, k).toEqual(v.shape);
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f64(v)]));
    mha.loadStateDict(state);
    const x = f64(c.input!);
    const l = x.shape[c.args.batchFirst ? 1 : 0]!;
    const blocked = c.args.causal ? tensor(Array.from({ length: l }, (_, i) => Array.from({ length: l }, (_, j) => j > i))) : null;
    const [y, weights] = mha.attend(x, x, x, { attnMask: blocked });
    expectAllClose(y, c.output.data);
    expectAllClose(weights, c.attn_weights!.data);
    if (!c.args.causal) expectAllClose(mha.forward(x), c.output.data);
    const w = f64(c.weight);
    const loss = (xs: Tensor): Tensor => mha.attend(xs, xs, xs, { attnMask: blocked })[0].mul(w).sum();
    expectAllClose(grad(loss)(x), c.input_grad!.data);
    if (!c.args.causal) {
      // Parameter gradients through the functional call (self-attention, no mask).
      const gp = grad((p: Record<string, Tensor>) => mha.apply(p, x).mul(w).sum())(state) as Record<string, Tensor>;
      for (const [k, g] of Object.entries(c.param_grads)) expectAllClose(gp[k]!, g.data);
    }
  });

  it("checks its sizes", () => {
    expect(() => new MultiheadAttention(6, 4)).toThrow(/embedDim 6 must be divisible by numHeads 4/);
    expect(() => new MultiheadAttention(4, 2).forward(tensor([[1, 2, 3, 4]]))).toThrow(/MultiheadAttention: query has shape \[1,4\], expected \[L, N, E\] with E = 4/);
  });
});
