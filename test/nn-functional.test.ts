import { describe, expect, it } from "vitest";
import { grad, jvp, nn, Rng, sum, tensor, valueAndGrad, mul, ValueError, ShapeError } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: number[] | number[][], shape?: number[]) => tensor(v, { dtype: "float64", ...(shape ? { shape } : {}) });

/** Central differences of a scalar function along every coordinate of x (float64). */
function numericGrad(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): number[] {
  const base = Float64Array.from(x.data);
  return Array.from(base, (_, i) => {
    const plus = Float64Array.from(base), minus = Float64Array.from(base);
    plus[i]! += h;
    minus[i]! -= h;
    const fp = f(tensor(plus, { shape: x.shape })).item();
    const fm = f(tensor(minus, { shape: x.shape })).item();
    return (fp - fm) / (2 * h);
  });
}

function softmaxRef(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe("softmax, logSoftmax, logsumexp", () => {
  it("softmax rows sum to 1 and match the reference", () => {
    const x = f64([[1, 2, 3], [-1, 0, 5]]);
    const p = nn.softmax(x);
    expectAllClose(p, [...softmaxRef([1, 2, 3]), ...softmaxRef([-1, 0, 5])], 1e-12);
    expectAllClose(nn.softmax(x, 0), [softmaxRef([1, -1])[0]!, softmaxRef([2, 0])[0]!, softmaxRef([3, 5])[0]!, softmaxRef([1, -1])[1]!, softmaxRef([2, 0])[1]!, softmaxRef([3, 5])[1]!], 1e-12);
  });

  it("stays finite at logits of ±1000, values and gradients", () => {
    const x = f64([1000, -1000, 999]);
    expectAllClose(nn.logSoftmax(x), [-Math.log1p(Math.exp(-1)), -2000 - Math.log1p(Math.exp(-1)), -1 - Math.log1p(Math.exp(-1))], 1e-12);
    expectAllClose(nn.logsumexp(x), 1000 + Math.log1p(Math.exp(-1)), 1e-12);
    const g = grad((v: Tensor) => nn.logsumexp(v))(x);
    expectAllClose(g, softmaxRef([1000, -1000, 999]), 1e-12);
    const g2 = grad((v: Tensor) => sum(mul(nn.softmax(v), f64([1, 2, 3]))))(x);
    for (const v of g2.data) expect(Number.isFinite(v)).toBe(true);
    for (const v of nn.softmax(f64([-1000, 1000])).data) expect(Number.isFinite(v)).toBe(true);
  });

  it("logsumexp over chosen axes with keepDims, and of an all −∞ row", () => {
    const x = f64([[0, Math.log(3)], [Math.log(2), Math.log(2)]]);
    expectAllClose(nn.logsumexp(x, 1), [Math.log(4), Math.log(4)], 1e-12);
    expect(nn.logsumexp(x, 0, true).shape).toEqual([1, 2]);
    expectAllClose(nn.logsumexp(x), Math.log(8), 1e-12);
    expect(nn.logsumexp(f64([-Infinity, -Infinity])).item()).toBe(-Infinity);
  });

  it("logSoftmax gradient matches central differences", () => {
    const x = f64([0.3, -1.2, 2.0, 0.5]);
    const w = f64([1, -2, 0.5, 3]);
    const f = (v: Tensor) => sum(mul(nn.logSoftmax(v), w));
    expectAllClose(grad(f)(x), numericGrad(f, x), 1e-6, 1e-8);
  });
});

describe("crossEntropy", () => {
  const logits = f64([[2, 1, 0.1], [0.5, 2.5, -1]]);
  const labels = tensor([0, 1], { dtype: "int32" });

  it("value is −log softmax at the label, mean over the batch", () => {
    const p0 = softmaxRef([2, 1, 0.1])[0]!, p1 = softmaxRef([0.5, 2.5, -1])[1]!;
    expectAllClose(nn.crossEntropy(logits, labels), (-Math.log(p0) - Math.log(p1)) / 2, 1e-12);
    expectAllClose(nn.crossEntropy(logits, labels, { reduction: "none" }), [-Math.log(p0), -Math.log(p1)], 1e-12);
    expectAllClose(nn.crossEntropy(logits, labels, { reduction: "sum" }), -Math.log(p0) - Math.log(p1), 1e-12);
  });

  it("gradient is exactly softmax − onehot (÷ batch for mean)", () => {
    const x = tensor([[1, 2, 3, 4], [0, 0, 0, 0]], { dtype: "float32" });
    const y = tensor([3, 1], { dtype: "int32" });
    const p = nn.softmax(x);
    const expected = Float32Array.from(p.data);
    expected[3]! -= 1;
    expected[5]! -= 1;
    const gSum = grad((v: Tensor) => nn.crossEntropy(v, y, { reduction: "sum" }))(x);
    expect(Array.from(gSum.data)).toEqual(Array.from(expected));
    const gMean = grad((v: Tensor) => nn.crossEntropy(v, y))(x);
    expect(Array.from(gMean.data)).toEqual(Array.from(expected, (v) => Math.fround(v / 2)));
  });

  it("is finite with exact gradients at logits ±1e4", () => {
    const x = tensor([[1e4, -1e4, 0], [-1e4, 1e4, 1e4]]);
    const y = tensor([1, 2], { dtype: "int32" });
    const [loss, g] = valueAndGrad((v: Tensor) => nn.crossEntropy(v, y, { reduction: "sum" }))(x);
    expect(loss.item()).toBeCloseTo(2e4 + Math.log(2), 2);
    expect(Array.from(g.data)).toEqual([1, -1, 0, 0, 0.5, -0.5]);
  });

  it("one-hot probability targets give the same loss and gradient as labels", () => {
    const onehot = f64([[1, 0, 0], [0, 1, 0]]);
    expectAllClose(nn.crossEntropy(logits, onehot), nn.crossEntropy(logits, labels), 1e-14);
    expectAllClose(grad((v: Tensor) => nn.crossEntropy(v, onehot))(logits), grad((v: Tensor) => nn.crossEntropy(v, labels))(logits), 1e-14);
  });

  it("label smoothing mixes in the uniform distribution", () => {
    const eps = 0.1;
    const lp = nn.logSoftmax(logits).data;
    let expected = 0;
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) expected -= ((c === r ? 1 - eps : 0) + eps / 3) * lp[r * 3 + c]!;
    expectAllClose(nn.crossEntropy(logits, labels, { labelSmoothing: eps }), expected / 2, 1e-12);
  });

  it("gradients w.r.t. logits and probability targets match central differences", () => {
    const t = f64([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]);
    const fx = (v: Tensor) => nn.crossEntropy(v, t);
    expectAllClose(grad(fx)(logits), numericGrad(fx, logits), 1e-6, 1e-8);
    const ft = (v: Tensor) => nn.crossEntropy(logits, v);
    expectAllClose(grad(ft)(t), numericGrad(ft, t), 1e-6, 1e-8);
  });

  it("second order: the Hessian-vector product is (diag(p) − p pᵀ) v", () => {
    const x = f64([[0.3, -0.7, 1.1]]);
    const y = tensor([2], { dtype: "int32" });
    const v = f64([[1, -2, 0.5]]);
    const [, hv] = jvp((z: Tensor) => grad((u: Tensor) => nn.crossEntropy(u, y))(z), [x], [v]);
    const p = softmaxRef([0.3, -0.7, 1.1]);
    const pv = p[0]! * 1 + p[1]! * -2 + p[2]! * 0.5;
    expectAllClose(hv, [p[0]! * (1 - pv), p[1]! * (-2 - pv), p[2]! * (0.5 - pv)], 1e-12);
  });

  it("rejects bad labels and shapes with clear messages", () => {
    expect(() => nn.crossEntropy(logits, tensor([0, 3], { dtype: "int32" }))).toThrow(ValueError);
    expect(() => nn.crossEntropy(logits, tensor([0, 3], { dtype: "int32" }))).toThrow(/label 3 at position 1 is out of range/);
    expect(() => nn.crossEntropy(logits, tensor([0], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => nn.crossEntropy(logits, labels, { reduction: "avg" as "mean" })).toThrow(/reduction/);
  });
});

describe("binaryCrossEntropyWithLogits, mseLoss", () => {
  it("matches the naive formula and has gradient σ(x) − y, also at 0", () => {
    const x = f64([-2, 0, 0.5, 3]);
    const y = f64([0, 1, 1, 0.25]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const naive = [-2, 0, 0.5, 3].map((v, i) => -([0, 1, 1, 0.25][i]! * Math.log(sig(v)) + (1 - [0, 1, 1, 0.25][i]!) * Math.log(1 - sig(v))));
    expectAllClose(nn.binaryCrossEntropyWithLogits(x, y, { reduction: "none" }), naive, 1e-12);
    const g = grad((v: Tensor) => nn.binaryCrossEntropyWithLogits(v, y, { reduction: "sum" }))(x);
    expectAllClose(g, [sig(-2), 0.5 - 1, sig(0.5) - 1, sig(3) - 0.25], 1e-12);
  });

  it("stays finite at ±1e4", () => {
    const x = tensor([1e4, -1e4]);
    const [l, g] = valueAndGrad((v: Tensor) => nn.binaryCrossEntropyWithLogits(v, tensor([0, 0]), { reduction: "sum" }))(x);
    expect(l.item()).toBe(1e4);
    expect(Array.from(g.data)).toEqual([1, 0]);
  });

  it("mseLoss averages squared errors", () => {
    expectAllClose(nn.mseLoss(f64([1, 2, 3]), f64([1, 0, 0])), 13 / 3, 1e-12);
    expectAllClose(grad((p: Tensor) => nn.mseLoss(p, f64([1, 0, 0]), { reduction: "sum" }))(f64([1, 2, 3])), [0, 4, 6]);
  });
});

describe("dropout", () => {
  it("dropout is seeded, scales kept values by 1/(1−p), and is the identity in eval", () => {
    const x = tensor(new Float32Array(1000).fill(1), { shape: [10, 100] });
    const a = nn.dropout(x, 0.25, { rng: new Rng(3) });
    const b = nn.dropout(x, 0.25, { rng: new Rng(3) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const kept = Array.from(a.data).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(kept.length).toBeGreaterThan(700);
    expect(kept.length).toBeLessThan(800);
    expect(nn.dropout(x, 0.5, { rng: new Rng(0), training: false })).toBe(x);
    const g = grad((v: Tensor) => sum(nn.dropout(v, 0.25, { rng: new Rng(3) })))(x);
    expect(Array.from(g.data)).toEqual(Array.from(a.data));
    expect(() => nn.dropout(x, 1, { rng: new Rng(0) })).toThrow(/p must be in \[0, 1\)/);
  });
});
