import { describe, expect, it } from "vitest";
import { customVjp, grad, GradientError, mul, sum, Tensor, tensor, vmap } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: number | number[]) => tensor(v, { dtype: "float64" });

describe("customVjp with pytree and non-differentiable arguments", () => {
  type P = { w: Tensor; b: Tensor };
  // f(p, x, act) = Σ act(p.w·x) + p.b, with a bwd that deliberately returns twice the true gradient, so
  // the tests can tell bwd was used.
  const scaled = customVjp(
    (p: P, x: Tensor, act: (t: Tensor) => Tensor) => sum(act(mul(p.w, x))).add(p.b),
    (p: P, x: Tensor, act: (t: Tensor) => Tensor): [Tensor, [P, Tensor]] => [sum(act(mul(p.w, x))).add(p.b), [p, x]],
    ([p, x]: [P, Tensor], ct: Tensor) => [{ w: mul(mul(ct, x), 2), b: mul(ct, 2) }, mul(mul(ct, p.w), 2), null],
    { name: "scaledLinear", nondiffArgnums: [2] },
  );
  const p = { w: f64([1, 2]), b: f64(0.5) };
  const x = f64([3, -1]);
  const id = (t: Tensor) => t;

  it("gradients with respect to a pytree argument come from bwd, shaped like the argument", () => {
    expect(scaled(p, x, id).item()).toBe(1.5);
    const g = grad(scaled)(p, x, id);
    expectAllClose(g.w, [6, -2], 0, 0);
    expect(g.b.item()).toBe(2);
    expectAllClose(grad(scaled, { argnums: 1 })(p, x, id), [2, 4], 0, 0);
  });

  it("under vmap the default rule vmaps bwd; the shared pytree's gradient sums over the batch", () => {
    const xs = tensor([[3, -1], [1, 1]], { dtype: "float64" });
    const total = (q: P) => sum(vmap((xi: Tensor) => scaled(q, xi, id))(xs));
    const g = grad(total)(p);
    expectAllClose(g.w, [8, 0], 0, 0);
    expect(g.b.item()).toBe(4);
  });

  it("a cotangent tree of the wrong structure is named", () => {
    const bad = customVjp(
      (q: P) => sum(q.w),
      (q: P): [Tensor, null] => [sum(q.w), null],
      () => [{ w: f64([1, 1]) }],
      { name: "badTree" },
    );
    expect(() => grad(bad)(p)).toThrow(GradientError);
    expect(() => grad(bad)(p)).toThrow("badTree: the custom VJP rule returned a cotangent with 1 leaves for argument 0, expected 2 (the argument's structure)");
  });
});
