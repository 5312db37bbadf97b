// Layers against PyTorch (test/fixtures/pytorch-layers.json, written by tools/pytorch-layers.py): outputs,
// parameter names and shapes, and gradients of L = Σ y·W with respect to the input and every parameter, in
// float64 to 1e-6.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { grad, nn, optim, randn, tensor, type Tensor } from "../src/index.js";
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
    case "BatchNorm1d": return new nn.BatchNorm1d(a.numFeatures, { eps: a.eps, momentum: a.momentum, affine: a.affine, dtype: "float64" });
    case "BatchNorm2d": return new nn.BatchNorm2d(a.numFeatures, { eps: a.eps, momentum: a.momentum, affine: a.affine, dtype: "float64" });
    default: throw new Error(`no builder for ${c.layer}`);
  }
}

const cases = fixture.cases;

describe(`layers against PyTorch ${fixture.torch}`, () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s: names, shapes, output and gradients", (_, c) => {
    const layer = build(c).train(c.training);
    const own = layer.stateDict();
    expect(Object.keys(own)).toEqual(Object.keys(c.state)); // parameters, then buffers, as PyTorch
    for (const [k, v] of Object.entries(c.state)) expect(own[k]!.shape, k).toEqual(v.shape);
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f64(v)]));
    layer.loadStateDict(state);
    const x = input(c);
    expectAllClose(layer.forward(x), c.output.data);
    if (c.state_after) {
      const after = layer.stateDict();
      for (const [k, v] of Object.entries(c.state_after)) expectAllClose(after[k]!, v.data);
    }
    const w = f64(c.weight);
    const loss = (p: Record<string, Tensor>, xs: Tensor): Tensor => layer.apply(p, xs).mul(w).sum();
    const gp = grad(loss)(state, x) as Record<string, Tensor>;
    for (const [k, g] of Object.entries(c.param_grads)) expectAllClose(gp[k]!, g.data);
    if (c.input_grad) expectAllClose(grad(loss, { argnums: 1 })(state, x) as Tensor, c.input_grad.data);
    if (c.eval_output) expectAllClose(layer.eval().forward(x), c.eval_output.data);
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

describe("BatchNorm", () => {
  it("updates running statistics in training mode only, inside grad too; momentum null averages", () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null, dtype: "float64" });
    const x1 = tensor([[1], [3]], { dtype: "float64" }), x2 = tensor([[0], [10]], { dtype: "float64" });
    bn.forward(x1);
    grad((p: Record<string, Tensor>) => bn.apply(p, x2).sum())(bn.parameters());
    const s = bn.stateDict();
    // Cumulative average of the batch means (2, 5) and unbiased variances (2, 50).
    expect(Array.from(s.running_mean!.data)).toEqual([3.5]);
    expect(Array.from(s.running_var!.data)).toEqual([26]);
    expect(s.num_batches_tracked!.item()).toBe(2);
    expect(s.num_batches_tracked!.dtype).toBe("int32");
    bn.eval().forward(x1);
    expect(bn.stateDict().num_batches_tracked!.item()).toBe(2);
    expect(Array.from(bn.forward(tensor([[3.5]], { dtype: "float64" })).data)).toEqual([0]);
  });

  it("a float32 module keeps float32 running statistics after training steps, and evaluates in float32", () => {
    const bn = new nn.BatchNorm1d(2);
    bn.forward(tensor([[1, 2], [3, 6]]));
    const s = bn.stateDict();
    expect(s.running_mean!.dtype).toBe("float32");
    expect(s.running_var!.dtype).toBe("float32");
    // momentum 0.1: 0.9·0 + 0.1·mean, 0.9·1 + 0.1·unbiased variance
    expect(Array.from(s.running_mean!.data)).toEqual([Math.fround(0.2), Math.fround(0.4)]);
    expect(Array.from(s.running_var!.data)).toEqual([Math.fround(0.9 + 0.1 * 2), Math.fround(0.9 + 0.1 * 8)]);
    const y = bn.eval().forward(tensor([[0.2, 0.4]]));
    expect(y.dtype).toBe("float32");
    expect(Array.from(y.data)).toEqual([0, 0]);
  });

  it("without running statistics has no buffers and always uses the batch", () => {
    const bn = new nn.BatchNorm2d(2, { trackRunningStats: false }).eval();
    expect(Object.keys(bn.stateDict())).toEqual(["weight", "bias"]);
    const y = bn.forward(tensor([[[[1]], [[2]]], [[[3]], [[6]]]]));
    expectAllClose(y, [-1, -1, 1, 1], 1e-4);
  });

  it("checks shapes, batch sizes and arguments", () => {
    expect(() => new nn.BatchNorm2d(3).forward(tensor([[1, 2, 3]]))).toThrow(/BatchNorm2d: input has shape \[1,3\], expected \[N, C, H, W\] with C = 3/);
    expect(() => new nn.BatchNorm1d(3).forward(tensor([[1, 2]]))).toThrow(/BatchNorm1d: input has shape \[1,2\], expected \[N, C\] or \[N, C, L\] with C = 3/);
    expect(() => new nn.BatchNorm1d(2).forward(tensor([[1, 2]]))).toThrow(/expected more than 1 value per channel when training, got input shape \[1,2\]/);
    expect(() => new nn.BatchNorm1d(2, { momentum: 2 })).toThrow(/momentum must be in \[0, 1\] or null, got 2/);
    const m = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
    expect(Object.keys(m.stateDict())).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    expect(Object.keys(m.parameters())).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
    expect(() => m.loadStateDict(m.parameters())).toThrow(/missing 1.running_mean, 1.running_var, 1.num_batches_tracked/);
  });

  it("trains inside trainClassifier: running statistics advance once per batch and evaluation uses them", () => {
    const x = randn([64, 2], { seed: 1 });
    const labels = tensor(Int32Array.from({ length: 64 }, (_, i) => (x.data[2 * i]! > 0 ? 1 : 0)));
    const ds = { images: x, labels };
    const model = new nn.Sequential(new nn.Linear(2, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 2));
    const history = nn.trainClassifier(model, { train: ds, test: ds }, { epochs: 2, batchSize: 16, optimizer: optim.adam({ lr: 1e-2 }) });
    const s = model.stateDict();
    expect(s["1.num_batches_tracked"]!.item()).toBe(8);
    expect(Array.from(s["1.running_var"]!.data).some((v) => v !== 1)).toBe(true);
    expect(nn.evaluate(model, nn.parameterValues(model), ds).accuracy).toBe(history[1]!.testAccuracy);
    expect(nn.evaluate(model, model.stateDict(), ds).accuracy).toBe(history[1]!.testAccuracy);
  });
});
