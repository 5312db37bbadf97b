import { describe, expect, it } from "vitest";
import { optim, sum, mul, tensor, ValueError } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

// Hand-computed steps: a loss Σ gᵢ·pᵢ has the constant gradient g, so each step's numbers follow from
// the update formulas written out on plain numbers below (PyTorch's documented algorithms).
const G = [0.5, -1];
const P0 = [1, -2];

function run(make: (p: Tensor) => optim.Optimizer, steps: number): Tensor {
  const p = tensor(P0, { dtype: "float64", requiresGrad: true });
  const opt = make(p);
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    sum(mul(p, tensor(G, { dtype: "float64" }))).backward();
    opt.step();
  }
  return tensor(Array.from(p.data), { dtype: "float64" });
}

describe("RMSprop", () => {
  it("default step 1 moves each weight by lr·g/(√(0.01·g²) + ε) ≈ 0.1 (PyTorch's defaults lr 0.01, α 0.99, ε 1e-8)", () => {
    const got = run((p) => new optim.RMSprop([p]), 1);
    expectAllClose(got, P0.map((p, i) => p - (0.01 * G[i]!) / (Math.sqrt(0.01 * G[i]! ** 2) + 1e-8)), 1e-13, 0);
    expectAllClose(got, [0.90000002, -1.90000001], 1e-12, 0);
  });

  it("step 2: v = 0.99·0.01g² + 0.01g² = 0.0199g²", () => {
    const got = run((p) => new optim.RMSprop([p]), 2);
    const want = P0.map((p, i) => {
      const g = G[i]!;
      const p1 = p - (0.01 * g) / (Math.sqrt(0.01 * g * g) + 1e-8);
      return p1 - (0.01 * g) / (Math.sqrt(0.0199 * g * g) + 1e-8);
    });
    expectAllClose(got, want, 1e-14, 0);
  });

  it("centered, with momentum and weight decay, two steps", () => {
    const lr = 0.05, a = 0.9, mu = 0.5, wd = 0.1, eps = 1e-8;
    const got = run((p) => new optim.RMSprop([p], { lr, alpha: a, momentum: mu, weightDecay: wd, centered: true }), 2);
    const want = P0.map((p0, i) => {
      let p = p0, v = 0, m = 0, b = 0;
      for (let s = 0; s < 2; s++) {
        const g = G[i]! + wd * p;
        v = a * v + (1 - a) * g * g;
        m = a * m + (1 - a) * g;
        b = mu * b + g / (Math.sqrt(v - m * m) + eps);
        p -= lr * b;
      }
      return p;
    });
    expectAllClose(got, want, 1e-14, 0);
    const st = new optim.RMSprop([tensor([1], { requiresGrad: true })], { centered: true, momentum: 0.9 });
    expect(st.rule.slotNames).toEqual(["squareAvg", "gradAvg", "momentum"]);
  });

  it("rejects bad options by name", () => {
    expect(() => optim.rmsprop({ alpha: 1.5 })).toThrow(/rmsprop: alpha must be in \[0, 1\], got 1.5/);
    expect(() => optim.rmsprop({ lr: 0 })).toThrow(ValueError);
  });
});

describe("Adagrad", () => {
  it("step 1 moves by lr·g/(|g| + 1e-10) = 0.01 per weight; step 2 by 0.01/√2 (PyTorch's defaults)", () => {
    expectAllClose(run((p) => new optim.Adagrad([p]), 1), [0.99, -1.99], 1e-9, 0);
    expectAllClose(run((p) => new optim.Adagrad([p]), 2), [0.99 - 0.01 / Math.SQRT2, -1.99 + 0.01 / Math.SQRT2], 1e-9, 0);
  });

  it("lr decay, weight decay and an initial accumulator, three steps", () => {
    const lr = 0.1, lrDecay = 0.5, wd = 0.2, init = 0.3, eps = 1e-10;
    const got = run((p) => new optim.Adagrad([p], { lr, lrDecay, weightDecay: wd, initialAccumulatorValue: init }), 3);
    const want = P0.map((p0, i) => {
      let p = p0, s = init;
      for (let t = 1; t <= 3; t++) {
        const g = G[i]! + wd * p;
        s += g * g;
        p -= ((lr / (1 + (t - 1) * lrDecay)) * g) / (Math.sqrt(s) + eps);
      }
      return p;
    });
    expectAllClose(got, want, 1e-14, 0);
  });

  it("functional form gives the imperative numbers", () => {
    const rule = optim.adagrad({ lr: 0.1 });
    let params = { w: tensor(P0, { dtype: "float64" }) };
    let state = rule.init(params);
    for (let s = 0; s < 2; s++) ({ params, state } = rule.update(params, { w: tensor(G, { dtype: "float64" }) }, state));
    expectAllClose(params.w, run((p) => new optim.Adagrad([p], { lr: 0.1 }), 2), 0, 0);
  });
});

describe("clipGradNorm", () => {
  function withGrads(gs: number[][]): Tensor[] {
    return gs.map((g) => {
      const p = tensor(g.map(() => 0), { dtype: "float64", requiresGrad: true });
      p.grad = tensor(g, { dtype: "float64" });
      return p;
    });
  }

  it("scales every gradient by maxNorm/(total + 1e-6) when the total 2-norm is larger (PyTorch's clip_grad_norm_)", () => {
    const ps = withGrads([[3, 4], [12]]);
    const total = optim.clipGradNorm(ps, 6.5);
    expect(total).toBe(13);
    const k = 6.5 / (13 + 1e-6);
    expectAllClose(ps[0]!.grad!, [3 * k, 4 * k], 1e-15, 0);
    expectAllClose(ps[1]!.grad!, [12 * k], 1e-15, 0);
  });

  it("leaves gradients alone below maxNorm, skips parameters without one, supports ∞ and 1 norms", () => {
    const ps = withGrads([[3, 4], [12]]);
    const none = tensor([1], { requiresGrad: true });
    expect(optim.clipGradNorm([...ps, none], 100)).toBe(13);
    expect(ps[0]!.grad!.toArray()).toEqual([3, 4]);
    expect(none.grad).toBeNull();
    expect(optim.clipGradNorm(withGrads([[3, -4], [-12]]), 100, { normType: Infinity })).toBe(12);
    expect(optim.clipGradNorm(withGrads([[3, -4], [-12]]), 100, { normType: 1 })).toBe(19);
  });

  it("errorIfNonfinite throws on a NaN or infinite total; clipGrads is the functional form", () => {
    expect(() => optim.clipGradNorm(withGrads([[Infinity]]), 1, { errorIfNonfinite: true })).toThrow(/clipGradNorm: the total 2-norm of the gradients is Infinity/);
    const { grads, totalNorm } = optim.clipGrads({ a: tensor([3, 4], { dtype: "float64" }), b: [tensor([12], { dtype: "float64" })] }, 1);
    expect(totalNorm).toBe(13);
    expectAllClose(grads.b[0]!, [12 / (13 + 1e-6)], 1e-15, 0);
    expect(() => optim.clipGrads({}, -1)).toThrow(/clipGrads: maxNorm must be a number ≥ 0/);
  });
});
