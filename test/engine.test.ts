import { describe, expect, it } from "vitest";
import { add, grad, jvp, mul, scalar, square, sin, cos, tensor, valueAndGrad, vjp, tanh, GradientError, zeroGrad, sub, div } from "../src/index.js";
import type { Tensor } from "../src/index.js";

const seed = (a: Tensor, b: Tensor, c: Tensor) => square(add(mul(a, b), c));
const f64 = (v: number) => scalar(v, { dtype: "float64" });

describe("seed example L = (a·b + c)²", () => {
  it("reverse mode gives 49 and grads 28, 42, 14", () => {
    const [L, [ga, gb, gc]] = valueAndGrad(seed, { argnums: [0, 1, 2] })(scalar(3), scalar(2), scalar(1));
    expect(L.item()).toBe(49);
    expect([ga.item(), gb.item(), gc.item()]).toEqual([28, 42, 14]);
  });

  it("forward mode gives the same gradients, one sweep per input", () => {
    const primals = [scalar(3), scalar(2), scalar(1)] as [Tensor, Tensor, Tensor];
    const grads = [0, 1, 2].map((i) => {
      const tangents = primals.map((_, j) => scalar(i === j ? 1 : 0)) as [Tensor, Tensor, Tensor];
      const [out, t] = jvp(seed, primals, tangents);
      expect(out.item()).toBe(49);
      return t.item();
    });
    expect(grads).toEqual([28, 42, 14]);
  });

  it("imperative backward fills .grad and accumulates across calls", () => {
    const a = tensor(3, { requiresGrad: true }), b = tensor(2, { requiresGrad: true }), c = tensor(1, { requiresGrad: true });
    seed(a, b, c).backward();
    expect([a.grad!.item(), b.grad!.item(), c.grad!.item()]).toEqual([28, 42, 14]);
    seed(a, b, c).backward();
    expect(a.grad!.item()).toBe(56);
    zeroGrad([a, b, c]);
    expect(a.grad).toBeNull();
  });

  it("backward twice through a released graph is an error, retainGraph allows it", () => {
    const a = tensor(3, { requiresGrad: true });
    const y = square(a);
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(a.grad!.item()).toBe(12);
    expect(() => y.backward()).toThrow(GradientError);
  });
});

describe("graph structure", () => {
  it("fan-out accumulates: b = a + a; c = b + b gives dc/da = 4", () => {
    expect(grad((a: Tensor) => { const b = add(a, a); return add(b, b); })(scalar(1)).item()).toBe(4);
  });

  it("an unused input gets a zero gradient", () => {
    const [ga, gb] = grad((a: Tensor, _b: Tensor) => square(a), { argnums: [0, 1] })(scalar(3), tensor([1, 2]));
    expect(ga.item()).toBe(6);
    expect(Array.from(gb.data)).toEqual([0, 0]);
  });

  it("a reused node: y = x·x·x has dy/dx = 3x²", () => {
    expect(grad((x: Tensor) => mul(mul(x, x), x))(f64(2)).item()).toBe(12);
  });

  it("grad of a non-scalar output points to vjp", () => {
    expect(() => grad((x: Tensor) => mul(x, 2))(tensor([1, 2, 3]))).toThrow(/f must return a scalar \(shape \[\]\), got shape \[3\]; use vjp/);
  });

  it("vjp pulls back an explicit cotangent, and can be called twice", () => {
    const [y, pullback] = vjp((x: Tensor) => mul(x, x), tensor([1, 2, 3]));
    expect(Array.from(y.data)).toEqual([1, 4, 9]);
    expect(Array.from(pullback(tensor([1, 1, 1]))[0].data)).toEqual([2, 4, 6]);
    expect(Array.from(pullback(tensor([0, 1, 10]))[0].data)).toEqual([0, 4, 60]);
  });
});

describe("higher order by composition", () => {
  it("derivatives of x⁴ to 4th order at x = 2: 32, 48, 48, 24", () => {
    const x4 = (x: Tensor) => mul(square(x), square(x));
    const d1 = grad(x4), d2 = grad(d1), d3 = grad(d2), d4 = grad(d3);
    expect([d1, d2, d3, d4].map((d) => d(f64(2)).item())).toEqual([32, 48, 48, 24]);
  });

  it("derivatives of sin cycle: cos, −sin, −cos, sin", () => {
    const x = 0.7;
    const d1 = grad(sin), d2 = grad(d1), d3 = grad(d2), d4 = grad(d3);
    expect(d1(f64(x)).item()).toBeCloseTo(Math.cos(x), 14);
    expect(d2(f64(x)).item()).toBeCloseTo(-Math.sin(x), 14);
    expect(d3(f64(x)).item()).toBeCloseTo(-Math.cos(x), 14);
    expect(d4(f64(x)).item()).toBeCloseTo(Math.sin(x), 14);
  });

  it("keeps nested perturbations apart: d/dx[x · d/dy(x + y)] = 1, not 2", () => {
    const inner = (x: Tensor) => grad((y: Tensor) => add(x, y))(scalar(1));
    expect(grad((x: Tensor) => mul(x, inner(x)))(scalar(5)).item()).toBe(1);
    // and with forward mode outside
    const [, t] = jvp((x: Tensor) => mul(x, inner(x)), [scalar(5)], [scalar(1)]);
    expect(t.item()).toBe(1);
  });

  it("forward-over-reverse gives a Hessian-vector product: f = x³ at 2 → 6x·v = 12·3", () => {
    const g = grad((x: Tensor) => mul(square(x), x));
    const [, hv] = jvp(g, [f64(2)], [f64(3)]);
    expect(hv.item()).toBe(36);
  });

  it("grad of grad of cos·sin matches the hand-derived −4 sin 2x", () => {
    const x = 0.3;
    const g2 = grad(grad((t: Tensor) => mul(sin(t), cos(t))));
    expect(g2(f64(x)).item()).toBeCloseTo(-2 * Math.sin(2 * x), 13);
  });
});

describe("deep graphs", () => {
  const chain = (n: number) => (x: Tensor) => {
    for (let i = 0; i < n; i++) x = add(mul(tanh(x), 1.0001), 0.001);
    return x;
  };
  // Reference derivative computed in plain float64 arithmetic alongside the chain.
  function reference(n: number, x0: number): number {
    let x = x0, d = 1;
    for (let i = 0; i < n; i++) {
      const t = Math.fround(Math.tanh(x));
      d *= (1 - t * t) * 1.0001;
      x = Math.fround(Math.fround(t * 1.0001) + 0.001);
    }
    return d;
  }

  it("reverse and forward mode through a 1,000,000-op chain without stack overflow", () => {
    const n = 1_000_000 / 3; // each step is three primitives: tanh, mul, add
    const f = chain(Math.ceil(n));
    const x0 = f64(-3);
    const g = grad(f)(x0).item();
    const [, t] = jvp(f, [x0], [f64(1)]);
    expect(Number.isFinite(g)).toBe(true);
    expect(t.item()).toBeCloseTo(g, 12);
  }, 120_000);

  it("a 2,000-step chain matches a hand-rolled derivative", () => {
    const g = grad(chain(2000))(scalar(0.5)).item();
    expect(g / reference(2000, 0.5)).toBeCloseTo(1, 3);
  });
});

describe("division and subtraction rules", () => {
  it("d/da (a/b) = 1/b, d/db = −a/b²", () => {
    const [ga, gb] = grad((a: Tensor, b: Tensor) => div(a, b), { argnums: [0, 1] })(f64(3), f64(2));
    expect([ga.item(), gb.item()]).toEqual([0.5, -0.75]);
    expect(grad((a: Tensor) => sub(1, a))(f64(3)).item()).toBe(-1);
  });
});

describe("noGrad", () => {
  it("does not record ops on requiresGrad tensors", async () => {
    const { noGrad } = await import("../src/index.js");
    const a = tensor(3, { requiresGrad: true });
    const y = noGrad(() => mul(a, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.item()).toBe(6);
    expect(() => y.backward()).toThrow(/does not depend on any tensor created with \{ requiresGrad: true \}/);
    expect(mul(a, 2).requiresGrad).toBe(true);
  });
});

describe("valueAndGrad options and stopGradient", () => {
  it("hasAux returns [[value, aux], grads] and does not differentiate aux", async () => {
    const { stopGradient } = await import("../src/index.js");
    const f = (x: Tensor): [Tensor, { doubled: Tensor }] => [square(x), { doubled: mul(x, 2) }];
    const [[value, aux], g] = valueAndGrad(f, { hasAux: true })(f64(3));
    expect(value.item()).toBe(9);
    expect(aux.doubled.item()).toBe(6);
    expect(aux.doubled.requiresGrad).toBe(false);
    expect(g.item()).toBe(6);
    // stopGradient: d/dx [x · stop(x)] = stop(x) = 3, not 2x = 6
    expect(grad((x: Tensor) => mul(x, stopGradient(x)))(f64(3)).item()).toBe(3);
  });

  it("gradients w.r.t. a pytree of parameters keep its structure", () => {
    const params = { w: tensor([1, 2], { dtype: "float64" }), b: f64(0.5) };
    const loss = (p: typeof params) => square(add(sumOf(mul(p.w, tensor([3, 4], { dtype: "float64" }))), p.b));
    const g = grad(loss)(params);
    // L = (3w0 + 4w1 + b)² = (11.5)²; dL/dw = 2·11.5·[3,4], dL/db = 23
    expect(Array.from(g.w.data)).toEqual([69, 92]);
    expect(g.b.item()).toBe(23);
  });

  it("argnums out of range and int arguments give clear errors", () => {
    expect(() => grad((x: Tensor) => square(x), { argnums: 1 })(f64(1))).toThrow(/argnums 1 is out of range/);
    expect(() => grad((x: Tensor) => square(x))(tensor([1, 2], { dtype: "int32" }))).toThrow(/dtype int32/);
  });
});

function sumOf(x: Tensor): Tensor {
  return x.sum();
}

describe("nameScope", () => {
  it("tags recorded nodes with the nested scope path and restores it afterwards", async () => {
    const { nameScope, currentScope, vjp } = await import("../src/index.js");
    let inner: Tensor | undefined;
    const [y] = vjp((x: Tensor) => nameScope("model", () => {
      const h = nameScope("layer0", () => (inner = tanh(x)));
      return mul(h, 2);
    }), f64(0.5));
    expect(y.item()).toBeCloseTo(2 * Math.tanh(0.5), 15);
    expect(inner!._node!.scope).toBe("model/layer0");
    expect(currentScope()).toBeUndefined();
    expect(() => nameScope("s", () => { throw new Error("boom"); })).toThrow("boom");
    expect(currentScope()).toBeUndefined();
  });
});
