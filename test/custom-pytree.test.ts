import { describe, expect, it } from "vitest";
import { add, cos, customJvp, customVjp, grad, GradientError, jvp, mul, sin, sum, Tensor, tensor, ValueError, vmap } from "../src/index.js";
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

describe("customJvp with pytree and non-differentiable arguments", () => {
  type P = { w: Tensor; b: Tensor };
  const tangentsSeen: unknown[] = [];
  // f(p, x, act) = Σ act(p.w·x) + p.b; the rule (written for act = identity) doubles the true tangent,
  // so the tests can tell the rule was used in both modes.
  const layer = customJvp(
    (p: P, x: Tensor, act: (t: Tensor) => Tensor) => add(sum(act(mul(p.w, x))), p.b),
    ([p, x, act], [tp, tx, tact]) => {
      tangentsSeen.push(tact);
      return [add(sum(act(mul(p.w, x))), p.b), mul(add(sum(add(mul(tp.w, x), mul(p.w, tx))), tp.b), 2)];
    },
    { name: "layer", nondiffArgnums: [2] },
  );
  const p = { w: f64([1, 2]), b: f64(0.5) };
  const x = f64([3, -1]);
  const id = (t: Tensor) => t;

  it("forward mode: the rule gets the argument trees, zeros for arguments that do not move, null for the nondiffArgnums", () => {
    expect(layer(p, x, id).item()).toBe(1.5);
    // d/dε f(p + ε·{w: [1, 0], b: 1}, x) = 1·3 + 1 = 4, doubled by the rule.
    const [y, t] = jvp((q: P) => layer(q, x, id), [p], [{ w: f64([1, 0]), b: f64(1) }]);
    expect(y.item()).toBe(1.5);
    expect(t.item()).toBe(8);
    expect(tangentsSeen.at(-1)).toBeNull();
    expect(jvp((xv: Tensor) => layer(p, xv, id), [x], [f64([0, 1])])[1].item()).toBe(4); // 2·w₁
  });

  it("reverse mode transposes the rule: gradients shaped like the pytree argument", () => {
    const g = grad(layer)(p, x, id);
    expectAllClose(g.w, [6, -2], 0, 0);
    expect(g.b.item()).toBe(2);
    expectAllClose(grad(layer, { argnums: 1 })(p, x, id), [2, 4], 0, 0);
  });

  it("under vmap the default rule vmaps f and the rule; a shared pytree's gradient sums over the batch", () => {
    const xs = tensor([[3, -1], [1, 1]], { dtype: "float64" });
    expectAllClose(vmap((xi: Tensor) => layer(p, xi, id))(xs), [1.5, 3.5], 0, 0);
    const g = grad((q: P) => sum(vmap((xi: Tensor) => layer(q, xi, id))(xs)))(p);
    expectAllClose(g.w, [8, 0], 0, 0);
    expect(g.b.item()).toBe(4);
    expectAllClose(vmap((xi: Tensor) => grad(layer, { argnums: 1 })(p, xi, id))(xs), [2, 4, 2, 4], 0, 0);
  });

  it("a nondiffArgnums entry past the last argument, or not an index, is refused", () => {
    const f = customJvp((a: Tensor) => a, ([a], [t]) => [a, t], { name: "ident", nondiffArgnums: [3] });
    expect(() => f(x)).toThrow(ValueError);
    expect(() => f(x)).toThrow("ident: nondiffArgnums names argument 3, but the function was called with 1 argument(s)");
    expect(() => customJvp((a: Tensor) => a, ([a], [t]) => [a, t], { nondiffArgnums: [-1] })).toThrow(/nondiffArgnums must hold argument indices/);
  });
});

describe("custom rules with pytree outputs", () => {
  const xs = f64([0.5, 1, 2]);

  it("customJvp: the rule returns an output tree and a tangent tree; both modes and vmap use it", () => {
    // The rule claims d cos = −3·sin (three times the truth), so its use shows in every mode.
    const sc = customJvp(
      (x: Tensor) => ({ s: sin(x), c: cos(x) }),
      ([x], [t]) => [{ s: sin(x), c: cos(x) }, { s: mul(cos(x), t), c: mul(mul(sin(x), t), -3) }],
      { name: "sinCos" },
    );
    const out = sc(xs);
    expectAllClose(out.s, [0.5, 1, 2].map(Math.sin), 0, 0);
    expectAllClose(out.c, [0.5, 1, 2].map(Math.cos), 0, 0);
    const [, t] = jvp(sc, [xs], [f64([1, 1, 2])]);
    expectAllClose((t as { s: Tensor }).s, [Math.cos(0.5), Math.cos(1), 2 * Math.cos(2)], 1e-15);
    expectAllClose((t as { c: Tensor }).c, [-3 * Math.sin(0.5), -3 * Math.sin(1), -6 * Math.sin(2)], 1e-15);
    // L = Σ s + 2 Σ c: dL/dx = cos x − 6 sin x by the rule.
    const loss = (x: Tensor) => {
      const o = sc(x);
      return sum(add(o.s, mul(o.c, 2)));
    };
    const want = [0.5, 1, 2].map((v) => Math.cos(v) - 6 * Math.sin(v));
    expectAllClose(grad(loss)(xs), want, 1e-15);
    expectAllClose(vmap(grad(loss))(xs), want, 1e-15);
    expectAllClose(grad((x: Tensor) => sum(vmap(loss)(x)))(xs), want, 1e-15);
  });

  it("customJvp: leaves of different shapes (a vector and a scalar) pack and unpack", () => {
    const f = customJvp(
      (x: Tensor) => [mul(x, 2), sum(x)],
      ([x], [t]) => [[mul(x, 2), sum(x)], [mul(t, 2), mul(sum(t), 5)]],
    );
    const [, t] = jvp(f, [f64([1, 2])], [f64([1, 2])]);
    const [t0, t1] = t as Tensor[];
    expectAllClose(t0!, [2, 4], 0, 0);
    expect(t1!.shape).toEqual([]);
    expect(t1!.item()).toBe(15);
    // d/dx (Σ 2x + 5·Σ x) = 7 by the rule (the rule's 5 where the truth is 1).
    expectAllClose(grad((x: Tensor) => add(sum(f(x)[0]!), f(x)[1]!))(f64([1, 2])), [7, 7], 0, 0);
  });

  it("customVjp: bwd gets the cotangent as a tree like the output (zeros for an unused leaf)", () => {
    // bwd returns ten times the true gradient of (sin x, x²), so its use shows.
    const pair = customVjp(
      (x: Tensor) => [sin(x), mul(x, x)],
      (x: Tensor): [Tensor[], Tensor] => [[sin(x), mul(x, x)], x],
      (x: Tensor, [c0, c1]: Tensor[]) => [mul(add(mul(c0!, cos(x)), mul(c1!, mul(x, 2))), 10)],
      { name: "pair" },
    );
    const both = (x: Tensor) => {
      const [a, b] = pair(x);
      return add(sum(a!), mul(sum(b!), 3));
    };
    const want = [0.5, 1, 2].map((v) => 10 * (Math.cos(v) + 6 * v));
    expectAllClose(grad(both)(xs), want, 1e-15);
    expectAllClose(grad((x: Tensor) => sum(pair(x)[1]!))(xs), [10, 20, 40], 1e-15);
    expectAllClose(vmap(grad(both))(xs), want, 1e-15);
    expectAllClose(grad((x: Tensor) => sum(vmap(both)(x)))(xs), want, 1e-15);
    // Forward mode differentiates f itself (JAX's semantics for custom_vjp).
    const [, t] = jvp(pair, [xs], [f64([1, 1, 1])]);
    expectAllClose((t as Tensor[])[1]!, [1, 2, 4], 0, 0);
  });

  it("a rule whose tree differs from f's output is named", () => {
    const bad = customJvp(
      (x: Tensor) => ({ s: sin(x), c: cos(x) }),
      ([x], [t]) => [{ s: sin(x), c: cos(x) }, { s: mul(cos(x), t) }],
      { name: "badTree" },
    );
    expect(() => jvp(bad, [xs], [xs])).toThrow(GradientError);
    expect(() => jvp(bad, [xs], [xs])).toThrow("badTree: the JVP rule's tangent has 1 leaves, expected 2 (the structure of f's output)");
    const intLeaf = customJvp((x: Tensor) => ({ x, n: x.astype("int32") }), ([x], [t]) => [{ x, n: x.astype("int32") }, { x: t, n: t }], { name: "withIndex" });
    expect(() => intLeaf(xs)).toThrow("withIndex: leaf 1 of f's output has dtype int32; a custom rule's pytree outputs must be float tensors");
  });
});
