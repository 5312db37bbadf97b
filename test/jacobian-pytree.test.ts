import { describe, expect, it } from "vitest";
import { add, hessian, hvp, jacfwd, jacrev, matmul, mul, sum, tanh, Tensor, tensor, square, DTypeError } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: number | number[] | number[][]) => tensor(v, { dtype: "float64" });

describe("Jacobians of pytree-valued functions, against hand-derived values", () => {
  const W = f64([[0.5, -1, 2], [1.5, 0.25, -0.5]]);
  const b = f64([0.1, -0.2]);
  const x = f64([1, 2, -1]);
  const layer = (p: { W: Tensor; b: Tensor }, v: Tensor) => tanh(add(matmul(p.W, v), p.b));
  // y = tanh(Wx + b): ∂y_i/∂W_kl = (1 − y_i²)·δ_ik·x_l, ∂y_i/∂b_k = (1 − y_i²)·δ_ik.
  const y = [0, 1].map((i) => Math.tanh([0, 1, 2].reduce((s, l) => s + W.data[i * 3 + l]! * x.data[l]!, 0) + b.data[i]!));
  const dW = [0, 1].flatMap((i) => [0, 1].flatMap((k) => [0, 1, 2].map((l) => (i === k ? (1 - y[i]! ** 2) * x.data[l]! : 0))));
  const db = [0, 1].flatMap((i) => [0, 1].map((k) => (i === k ? 1 - y[i]! ** 2 : 0)));

  it("jacrev and jacfwd of f({ W, b }, x): the argument's structure inside, shapes [...out, ...in]", () => {
    for (const jac of [jacrev, jacfwd]) {
      const J = jac(layer)({ W, b }, x);
      expect(J.W.shape).toEqual([2, 2, 3]);
      expect(J.b.shape).toEqual([2, 2]);
      expectAllClose(J.W, dW, 1e-14, 1e-15);
      expectAllClose(J.b, db, 1e-14, 1e-15);
    }
  });

  it("a tuple output: the output's structure outside", () => {
    // f(x) = [Σx², 3x]: J0 = 2x, J1 = 3I
    const f = (v: Tensor) => [sum(square(v)), mul(v, 3)] as const;
    for (const jac of [jacrev, jacfwd]) {
      const [j0, j1] = jac(f)(x);
      expectAllClose(j0, [2, 4, -2], 0, 0);
      expect(j1.shape).toEqual([3, 3]);
      expectAllClose(j1, [3, 0, 0, 0, 3, 0, 0, 0, 3], 0, 0);
    }
  });

  it("argnums as a list with pytree arguments and a pytree output nest as JAX: out ▸ [arg0, arg1]", () => {
    const f = (p: { W: Tensor; b: Tensor }, v: Tensor) => ({ y: layer(p, v) });
    const J = jacrev(f, { argnums: [0, 1] })({ W, b }, x);
    expectAllClose(J.y[0].b, db, 1e-14, 1e-15);
    // ∂y_i/∂x_l = (1 − y_i²)·W_il
    expectAllClose(J.y[1], [0, 1].flatMap((i) => [0, 1, 2].map((l) => (1 - y[i]! ** 2) * W.data[i * 3 + l]!)), 1e-14, 1e-15);
    const F = jacfwd(f, { argnums: [0, 1] })({ W, b }, x);
    expectAllClose(F.y[0].W, J.y[0].W, 1e-14, 1e-15);
    expectAllClose(F.y[1], J.y[1], 1e-14, 1e-15);
  });

  it("hessian with argnums [0, 1]: H[i][j] = ∂²f/∂xᵢ∂xⱼ (f = a²·b gives [[2b, 2a], [2a, 0]])", () => {
    const H = hessian((a: Tensor, c: Tensor) => mul(square(a), c), { argnums: [0, 1] })(f64(3), f64(5));
    expect(H.map((row) => row.map((h) => h.item()))).toEqual([[10, 6], [6, 0]]);
  });

  it("hessian of a pytree argument: blocks H.u.u = diag(2v), H.u.v = diag(2u), H.v.v = 0", () => {
    const u = f64([1, -2]), v = f64([3, 0.5]);
    const H = hessian((p: { u: Tensor; v: Tensor }) => sum(mul(square(p.u), p.v)))({ u, v });
    expectAllClose(H.u.u, [6, 0, 0, 1], 0, 0);
    expectAllClose(H.u.v, [2, 0, 0, -4], 0, 0);
    expectAllClose(H.v.u, [2, 0, 0, -4], 0, 0);
    expectAllClose(H.v.v, [0, 0, 0, 0], 0, 0);
  });

  it("hvp with pytrees returns one tree per argument, shaped like it", () => {
    const u = f64([1, -2]), v = f64([3, 0.5]);
    const [hv] = hvp((p: { u: Tensor; v: Tensor }) => sum(mul(square(p.u), p.v)), [{ u, v }], [{ u: f64([1, 0]), v: f64([0, 1]) }]);
    // H·(e_u0, e_v1): H.u.u·[1,0] + H.u.v·[0,1] = [6, -4]; H.v.u·[1,0] + H.v.v·[0,1] = [2, 0]
    expectAllClose(hv.u, [6, -4], 0, 0);
    expectAllClose(hv.v, [2, 0], 0, 0);
  });

  it("one batched sweep: f runs once whatever the output size", () => {
    let calls = 0;
    const f = (v: Tensor) => {
      calls++;
      return tanh(mul(v, v));
    };
    const big = f64(Array.from({ length: 50 }, (_, i) => i / 50));
    jacrev(f)(big);
    expect(calls).toBe(1);
    calls = 0;
    jacfwd(f)(big);
    expect(calls).toBe(1);
  });

  it("errors name the op and the argument", () => {
    expect(() => jacrev(layer, { argnums: 2 })({ W, b }, x)).toThrow("jacrev: argnums 2 is out of range: the function was called with 2 argument(s)");
    expect(() => jacfwd((p: { i: Tensor }) => p.i)({ i: tensor([1], { dtype: "int32" }) })).toThrow(DTypeError);
  });
});
