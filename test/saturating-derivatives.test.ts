import { describe, expect, it } from "vitest";
import { grad, jvp, sigmoid, softplus, sum, tanh, tensor, type Tensor } from "../src/index.js";

// tanh' and σ' where the output has rounded to ±1 (or 1): 1 − y² and y·(1 − y) are exactly 0 there, while the
// true derivatives are tiny but positive. chainrule computes them from the input in that range (PyTorch and JAX
// give 0). Expected values are the closed forms sech² x = 4e^(−2x)/(1 + e^(−2x))² and σ'(x) = e^(−x)/(1 + e^(−x))².

type Dtype = "float32" | "float64";
const scalar = (v: number, dtype: Dtype) => tensor(v, { dtype });
const rev = (f: (x: Tensor) => Tensor, x: number, dtype: Dtype) => grad(f)(scalar(x, dtype)).item();
const fwd = (f: (x: Tensor) => Tensor, x: number, dtype: Dtype) => jvp(f, [scalar(x, dtype)], [scalar(1, dtype)])[1].item();
const sech2 = (x: number) => { const t = Math.exp(-2 * Math.abs(x)); return (4 * t) / (1 + t) ** 2; };
const dsigmoid = (x: number) => { const s = Math.exp(-Math.abs(x)); return s / (1 + s) ** 2; };
const near = (got: number, want: number, rel: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.abs(want));

describe("tanh' and σ' past the point where the output rounds to 1", () => {
  it("float64: tanh'(±20) = 1.70e−17 and σ'(40) = 4.25e−18 in both modes (not 0)", () => {
    expect(tanh(scalar(20, "float64")).item()).toBe(1);
    expect(sigmoid(scalar(40, "float64")).item()).toBe(1);
    for (const x of [20, -20, 30]) {
      near(rev(tanh, x, "float64"), sech2(x), 1e-14);
      near(fwd(tanh, x, "float64"), sech2(x), 1e-14);
    }
    near(rev(sigmoid, 40, "float64"), dsigmoid(40), 1e-14);
    near(fwd(sigmoid, 40, "float64"), dsigmoid(40), 1e-14);
    expect(rev(sigmoid, 40, "float64")).toBeGreaterThan(4.2e-18);
  });

  it("float32: tanh'(10) = 8.2e−9 and σ'(20) = 2.1e−9 (float32 tanh(10) and σ(20) are 1)", () => {
    expect(tanh(scalar(10, "float32")).item()).toBe(1);
    expect(sigmoid(scalar(20, "float32")).item()).toBe(1);
    near(rev(tanh, 10, "float32"), sech2(10), 2 ** -22);
    near(fwd(tanh, 10, "float32"), sech2(10), 2 ** -22);
    near(rev(sigmoid, 20, "float32"), dsigmoid(20), 2 ** -22);
    near(fwd(sigmoid, 20, "float32"), dsigmoid(20), 2 ** -22);
  });

  it("second derivatives: tanh'' = −2·tanh·sech², σ'' = σ'·(1 − 2σ), softplus'' = σ', at every order and mode", () => {
    const d2tanh = (x: number) => -2 * Math.tanh(x) * sech2(x);
    const d2sigmoid = (x: number) => dsigmoid(x) * (1 - 2 / (1 + Math.exp(-x)));
    for (const x of [0.3, -1.2, 20, -25]) {
      near(grad(grad(tanh))(scalar(x, "float64")).item(), d2tanh(x), 1e-13);
      near(fwd(grad(tanh), x, "float64"), d2tanh(x), 1e-13);
    }
    for (const x of [0.3, -1.2, 40, -40]) {
      near(grad(grad(sigmoid))(scalar(x, "float64")).item(), d2sigmoid(x), 1e-13);
      near(fwd(grad(sigmoid), x, "float64"), d2sigmoid(x), 1e-13);
      near(grad(grad(softplus))(scalar(x, "float64")).item(), dsigmoid(x), 1e-13);
    }
  });

  it("a large float32 batch (the fused backward kernels, wasm where active): within 2 ulp of the closed form where the output has saturated", () => {
    const n = 6000;
    const xs = Array.from({ length: n }, (_, i) => -30 + (60 * i) / (n - 1));
    const x = tensor(xs, { dtype: "float32" });
    const gt = grad((v: Tensor) => sum(tanh(v)))(x).data;
    const gs = grad((v: Tensor) => sum(sigmoid(v)))(x).data;
    let checked = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.fround(xs[i]!);
      if (Math.abs(v) < 1.5) continue;
      checked++;
      // 2 ulp where the output has saturated (|tanh| > 0.97 from |x| = 2.09, σ > 0.97 from x = 3.48); between, the
      // output-based formula's documented bound (2y²/(1 − y²)·u and y/(1 − y)·u, under 32u).
      near(gt[i]!, sech2(v), Math.abs(v) > 2.1 ? 2 ** -22 : 2.5e-6);
      near(gs[i]!, dsigmoid(v), v > 3.5 || v < -1.5 ? 2 ** -22 : 2.5e-6);
      expect(gt[i]).toBeGreaterThan(0);
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it("reverse and forward mode agree on a saturated network layer (tanh of a wide affine map)", () => {
    const w = tensor([[9, -14], [12, 0.5]], { dtype: "float64" });
    const f = (v: Tensor) => sum(tanh(v.matmul(w)));
    const x = tensor([[1.5, 2]], { dtype: "float64" });
    const g = grad(f)(x);
    for (let j = 0; j < 2; j++) {
      const e = tensor(j === 0 ? [[1, 0]] : [[0, 1]], { dtype: "float64" });
      near(jvp(f, [x], [e])[1].item(), g.data[j]!, 1e-12);
    }
    // Both pre-activations (37.5 and −20) saturate tanh in float64, yet the gradient is not 0.
    expect(Math.abs(g.data[0]!)).toBeGreaterThan(0);
  });
});
