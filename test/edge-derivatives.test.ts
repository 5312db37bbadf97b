import { describe, expect, it } from "vitest";
import {
  atan2, exp, expm1, grad, greater, jvp, log, mul, pow, relu, sqrt, sum, tanh, tensor, where, type Tensor,
} from "../src/index.js";

// Derivative edge cases: partials that evaluate to 0·∞ (or 0·NaN) where the true derivative is finite,
// and partials recomputed from a rounded output. Values are by hand.

const f64 = (v: number, requiresGrad = false) => tensor(v, { dtype: "float64", requiresGrad });
const vec = (v: number[]) => tensor(v, { dtype: "float64" });
const fwd = (f: (x: Tensor) => Tensor, x: number): number => jvp(f, [f64(x)], [f64(1)])[1].item();

describe("pow at exponent 0 and the power rule at every order", () => {
  const p0 = (x: Tensor) => pow(x, 0);
  it("d/dx x⁰ = 0 at x = 0, in both modes (PyTorch: NaN from 0·0⁻¹)", () => {
    expect(grad(p0)(f64(0)).item()).toBe(0);
    expect(fwd(p0, 0)).toBe(0);
    expect(grad(p0)(f64(2)).item()).toBe(0);
  });

  it("second and third derivatives at 0 come out right through the same rule", () => {
    expect(grad(grad(p0))(f64(0)).item()).toBe(0);
    expect(grad(grad((x: Tensor) => pow(x, 1)))(f64(0)).item()).toBe(0); // d²x/dx² = 0, via 1·0·x⁻¹
    expect(grad(grad((x: Tensor) => pow(x, 2)))(f64(0)).item()).toBe(2);
    expect(grad(grad(grad((x: Tensor) => pow(x, 3))))(f64(0)).item()).toBe(6);
    // forward over reverse and forward over forward
    expect(fwd(grad((x: Tensor) => pow(x, 2)), 0)).toBe(2);
    expect(fwd((x: Tensor) => fwd0(x), 0)).toBe(0);
  });

  it("the imperative backward too", () => {
    const x = f64(0, true);
    pow(x, 0).backward();
    expect(x.grad!.item()).toBe(0);
  });

  it("the guard is only where a = b = 0: at a ≠ 0, ∂²(aᵇ)/∂a∂b at b = 0 is 1/a", () => {
    // ∂/∂b [b·a^(b−1)] = a^(b−1)·(1 + b·log a) = 1/a at b = 0
    const dadb = grad((b: Tensor) => grad((a: Tensor) => pow(a, b))(f64(2)))(f64(0));
    expect(dadb.item()).toBeCloseTo(0.5, 15);
  });

  it("d/dq pow(p, q) at p = q = 0 is 0 (the limit from q > 0, PyTorch's convention), and so at p = 0, q = 2", () => {
    expect(grad((q: Tensor) => pow(f64(0), q))(f64(0)).item()).toBe(0);
    expect(grad((q: Tensor) => pow(f64(0), q))(f64(2)).item()).toBe(0);
    expect(jvp((q: Tensor) => pow(f64(0), q), [f64(0)], [f64(1)])[1].item()).toBe(0);
    // ∂²/∂p∂q at p = 0, q = 2: d/dp [p^q·log p] = q·p^(q−1)·log p + p^(q−1) → 0 as p → 0
    const mixed = grad((p: Tensor) => grad((q: Tensor) => pow(p, q))(f64(2)))(f64(0));
    expect(mixed.item()).toBe(0);
  });
});

function fwd0(x: Tensor): Tensor {
  return jvp((y: Tensor) => pow(y, 0), [x], [f64(1)])[1];
}

describe("partials from the input, not from a rounded output", () => {
  it("expm1'(−40) = e⁻⁴⁰ ≈ 4.25e−18 in both modes and at second order (it was 0: out + 1 with out rounded to −1)", () => {
    const e = Math.exp(-40);
    expect(grad(expm1)(f64(-40)).item()).toBe(e);
    expect(fwd(expm1, -40)).toBe(e);
    expect(grad(grad(expm1))(f64(-40)).item()).toBe(e);
    expect(grad(expm1)(f64(0.5)).item()).toBe(Math.exp(0.5));
  });
});

describe("strong zeros: an untaken branch of where does not poison the gradient", () => {
  const branchy = (x: Tensor) => sum(where(greater(x, 0), sqrt(x), mul(x, 2)));

  it("grad of where(x > 0, √x, 2x) at x = −1 is 2 (PyTorch and JAX: NaN), and at 4 it is 1/4", () => {
    expect(grad(branchy)(f64(-1)).item()).toBe(2);
    expect(Array.from(grad(branchy)(vec([-1, 4, -3])).data)).toEqual([2, 0.25, 2]);
    expect(fwd(branchy, -1)).toBe(2); // forward mode was already right: where picks the tangent
  });

  it("the imperative backward, and second order (√x'' = −x^(−3/2)/4: −1/32 at 4; 0 on the linear side)", () => {
    const x = tensor([-1, 4], { dtype: "float64", requiresGrad: true });
    branchy(x).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 0.25]);
    const g2 = (v: number) => grad(grad(branchy))(f64(v)).item();
    expect(g2(-1)).toBe(0);
    expect(g2(4)).toBe(-1 / 32);
  });

  it("through a chain of ops in the untaken branch (log of a negative number, then tanh of NaN)", () => {
    const f = (x: Tensor) => sum(where(greater(x, 0), tanh(log(x)), mul(x, 3)));
    expect(grad(f)(f64(-1)).item()).toBe(3);
    // and log(0) = −∞ with 1/0 = ∞ as its partial
    const g = (x: Tensor) => sum(where(greater(x, 0), mul(log(x), x), exp(x)));
    expect(grad(g)(f64(0)).item()).toBe(1);
  });

  it("zeros from relu are strong as well: relu(x)·log(x) has gradient 0 at x = 0 (was 0·(−∞) = NaN)", () => {
    // d/dx [relu(x)·log x] = relu'(x)·log x + relu(x)/x: relu' = 0 and relu = 0 at x = 0
    expect(grad((x: Tensor) => sum(mul(relu(x), log(x))))(f64(0)).item()).toBe(0);
  });

  it("on large float32 tensors too (the NaN check there is the kernel's own or one sum through the backend's reduction), also when infinities of both signs make that sum NaN", () => {
    const n = 5000;
    const xs = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 - (i % 7) : 0.5 + (i % 5)));
    const g = grad(branchy)(tensor(xs)).data;
    for (let i = 0; i < n; i++) expect(g[i]).toBeCloseTo(xs[i]! > 0 ? 0.5 / Math.sqrt(xs[i]!) : 2, 6);
    // 2x at ±∞ on the taken side: its contributions ±∞ sum to NaN, the check fires and changes nothing.
    const ys = Float32Array.from(xs, (v, i) => (i === 1 ? Infinity : i === 3 ? -Infinity : v));
    const h = grad((x: Tensor) => sum(mul(where(greater(x, 0), sqrt(x), mul(x, 2)), x)))(tensor(ys)).data;
    expect(h[3]).toBe(-Infinity); // d/dx (2x·x) = 4x at −∞
    // √x·x at +∞: the cotangent ∞ meets √'s partial 0, which is a strong zero too (issue 19), so the gradient
    // is the limit 1.5·√x = ∞ rather than IEEE's ∞·0 = NaN.
    expect(h[1]).toBe(Infinity);
    expect(h[0]).toBe(-4); // x = −1: 4x
  });

  it("on float32 tensors past the wasm kernels' chunk size, a NaN in any chunk's last lane is still repaired (the kernels' own NaN check)", () => {
    const n = 8192 * 2 + 3;
    for (const bad of [8191, 8192, n - 1]) {
      const xs = Float32Array.from({ length: n }, (_, i) => (i === bad ? -1 : 0.25 + (i % 4)));
      const g = grad(branchy)(tensor(xs)).data;
      expect(g[bad]).toBe(2); // √'(−1) = NaN meets where's strong zero
      expect(g[0]).toBe(1); // 1/(2√0.25)
      expect(Array.from(g).some(Number.isNaN)).toBe(false);
    }
  });

  it("a non-zero cotangent still meets a NaN or infinite partial as IEEE 754 says", () => {
    expect(Number.isNaN(grad(sqrt)(f64(-1)).item())).toBe(true);
    expect(grad(sqrt)(f64(0)).item()).toBe(Infinity);
    expect(Number.isNaN(grad((x: Tensor) => atan2(x, x))(f64(0)).item())).toBe(true);
  });
});
