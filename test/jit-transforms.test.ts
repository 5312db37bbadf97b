// Transforms of a jitted function (grad/vjp/jvp/vmap/hessian of jit(f), jit of grad of jit(f), backward()):
// values equal those of the same transforms of f, and the staged path is taken, shown by counters (f's
// calls, compiled program runs, the path each call took), never by timing.
import { describe, expect, it } from "vitest";
import {
  add, cast, exp, grad, greater, hessian, jit, jvp, mul, nn, scalar, sin, sqrt, stack, sum, tanh, tensor, trace, vjp, vmap, where, type Tensor,
} from "../src/index.js";
import { compiledRuns } from "../src/jit/compile.js";
import { jitCallStats } from "../src/jit/call.js";

const close = (got: Tensor, want: Tensor, tol = 1e-12): void => {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const g = got.data, w = want.data;
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `element ${i}: ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w[i]!)));
};
const f64 = (v: number[]): Tensor => tensor(v, { dtype: "float64" });
const body = (x: Tensor): Tensor => sum(mul(sin(x), exp(tanh(x))));

/** f with a call counter: the staged path calls it only while tracing. */
function counted(): { f: (x: Tensor) => Tensor; calls: () => number } {
  let n = 0;
  return { f: (x: Tensor) => (n++, body(x)), calls: () => n };
}

describe("transforms of jit(f) run staged programs", () => {
  it("grad of jit: f traced once; each call runs two compiled programs (forward with residuals, pullback)", () => {
    const { f, calls } = counted();
    const g = grad(jit(f));
    const runs0 = compiledRuns.count, rev0 = jitCallStats.reverse, un0 = jitCallStats.unstaged;
    for (const x of [f64([0.5, -1.25, 2]), f64([3, 0.1, -0.7]), f64([1, 2, 3])]) close(g(x), grad(body)(x));
    expect(calls()).toBe(1);
    expect(compiledRuns.count - runs0).toBe(6);
    expect(jitCallStats.reverse - rev0).toBe(3);
    expect(jitCallStats.unstaged - un0).toBe(0);
  });

  it("the pullback program reads the forward's residuals: it recomputes no forward op", () => {
    const { f } = counted();
    const jf = jit(f);
    const x = f64([0.5, -1.25, 2]);
    const [value, pullback] = vjp(jf, x);
    close(value, body(x));
    close(pullback(scalar(2, { dtype: "float64" }))[0], mul(grad(body)(x), 2));
    // One recorded node for the whole call, named after the jitted function.
    const text = trace((t: Tensor) => jit(body)(t), [x]).toText();
    expect(text).toMatch(/jit\(body\)/);
    expect(text).not.toMatch(/= sin /);
  });

  it("vjp of jit with pytree arguments, several outputs, a static number and an int argument", () => {
    const f = (p: { a: Tensor; b: Tensor }, k: number, n: Tensor): [Tensor, Tensor] => [mul(p.a, k), sum(mul(exp(p.b), mul(p.a, cast(n, "float64"))))];
    const p = { a: f64([1, 2, 3]), b: f64([0.5, -0.5, 0.25]) };
    const n = tensor([1, 2, 3], { dtype: "int32" });
    const jf = jit(f);
    const ct: [Tensor, Tensor] = [f64([1, -1, 0.5]), scalar(3, { dtype: "float64" })];
    for (let pass = 0; pass < 2; pass++) {
      const rev0 = jitCallStats.reverse;
      const [o1, pb1] = vjp((q: { a: Tensor; b: Tensor }) => jf(q, 2, n), p);
      const [o2, pb2] = vjp((q: { a: Tensor; b: Tensor }) => f(q, 2, n), p);
      close(o1[0], o2[0]);
      close(o1[1], o2[1]);
      const [g1] = pb1(ct), [g2] = pb2(ct);
      close(g1.a, g2.a);
      close(g1.b, g2.b);
      expect(jitCallStats.reverse - rev0).toBe(1);
    }
  });

  it("jvp of jit: one program computes outputs and tangents; f traced once", () => {
    const { f, calls } = counted();
    const jf = jit(f);
    const fwd0 = jitCallStats.forward;
    for (const x of [f64([0.5, -1.25, 2]), f64([3, 0.1, -0.7])]) {
      const t = f64([1, 0.5, -2]);
      const [o1, t1] = jvp(jf, [x], [t]);
      const [o2, t2] = jvp(body, [x], [t]);
      close(o1, o2);
      close(t1, t2);
    }
    expect(calls()).toBe(1);
    expect(jitCallStats.forward - fwd0).toBe(2);
  });

  it("vmap of jit: the jitted vmap of f, with an unbatched argument", () => {
    let calls = 0;
    const f = (x: Tensor, w: Tensor) => (calls++, sum(mul(sin(x), w)));
    const jf = jit(f);
    const xs = tensor([[1, 2, 3], [0.1, 0.2, 0.3]], { dtype: "float64" });
    const w = f64([2, -1, 0.5]);
    const b0 = jitCallStats.batch;
    close(vmap(jf, { inAxes: [0, null] })(xs, w), vmap(f, { inAxes: [0, null] })(xs, w));
    close(vmap(jf, { inAxes: [0, null] })(mul(xs, 2), w), vmap(f, { inAxes: [0, null] })(mul(xs, 2), w));
    expect(calls).toBe(1 + 2); // one trace of the jitted vmap; two eager references
    expect(jitCallStats.batch - b0).toBe(2);
  });

  it("second order: grad of grad, Hessian, Hessian-vector product and per-example gradients of jit(f)", () => {
    const x = f64([0.5, -1.25, 2]);
    const jf = jit(body);
    const s = (v: Tensor) => sum(grad(jf)(v));
    close(grad(s)(x), grad((v: Tensor) => sum(grad(body)(v)))(x));
    close(hessian(jf)(x), hessian(body)(x));
    const t = f64([1, 0.5, -1]);
    close(jvp(grad(jf), [x], [t])[1], jvp(grad(body), [x], [t])[1]);
    const xs = stack([x, mul(x, -0.5)], 0);
    close(vmap(grad(jf))(xs), vmap(grad(body))(xs));
    const scalarF = jit((v: Tensor) => mul(sin(v), v));
    const d2 = grad(grad(scalarF));
    const v = scalar(0.7, { dtype: "float64" });
    close(d2(v), scalar(2 * Math.cos(0.7) - 0.7 * Math.sin(0.7), { dtype: "float64" }));
  });

  it("jit of grad of jit: the inner call's programs are staged into the outer one, fuse with it and carry its name", () => {
    const jg = jit(grad(jit(body)));
    const x = f64([0.5, -1.25, 2]);
    close(jg(x), grad(body)(x));
    close(jg(mul(x, 3)), grad(body)(mul(x, 3)));
    const text = jg.lower(x).toText();
    expect(text).toMatch(/fused\[n=3\]/);
    // The inner call's forward and pullback programs, inlined, are marked with its name.
    expect(text).toMatch(/= sin x0   # jit\(body\)\n/);
    expect(text).toMatch(/= tanhGrad .*   # jit\(body\)\.pullback\n/);
  });

  it("backward() through jit(f) on requiresGrad tensors uses the staged pullback", () => {
    const x = tensor([0.5, -1.25, 2], { dtype: "float64", requiresGrad: true });
    const w = tensor([2, 1, -1], { dtype: "float64", requiresGrad: true });
    const f = jit((a: Tensor, b: Tensor) => sum(mul(exp(a), b)));
    const rev0 = jitCallStats.reverse;
    add(f(x, w), 1).backward();
    expect(jitCallStats.reverse - rev0).toBe(1);
    close(x.grad!, mul(exp(f64([0.5, -1.25, 2])), f64([2, 1, -1])));
    close(w.grad!, exp(f64([0.5, -1.25, 2])));
  });

  it("a NaN check of the pullback that fails reruns it eagerly: the repaired gradient, as without jit", () => {
    const f = (x: Tensor) => sum(where(greater(x, 0), sqrt(x), 0));
    const g = grad(jit(f));
    const pos = f64([1, 4, 9]), mixed = f64([-1, 4, 0]);
    close(g(pos), grad(f)(pos));
    const got = g(mixed);
    expect(Array.from(got.data).every(Number.isFinite)).toBe(true);
    close(got, grad(f)(mixed));
  });

  it("a library rule that reads a traced value (labels): the forward program checks it; new labels run unstaged", () => {
    const f = (logits: Tensor, y: Tensor) => nn.crossEntropy(logits, y);
    const g = grad(jit(f));
    const logits = tensor([[1, 2, 3], [0.5, -1, 2]], { dtype: "float64" });
    const y1 = tensor([0, 2], { dtype: "int32" }), y2 = tensor([1, 1], { dtype: "int32" });
    const rev0 = jitCallStats.reverse, un0 = jitCallStats.unstaged;
    close(g(logits, y1), grad(f)(logits, y1));
    close(g(mul(logits, 2), y1), grad(f)(mul(logits, 2), y1));
    expect([jitCallStats.reverse - rev0, jitCallStats.unstaged - un0]).toEqual([2, 0]);
    close(g(logits, y2), grad(f)(logits, y2));
    expect(jitCallStats.unstaged - un0).toBe(1);
  });
});

describe("tracing records no dead steps for strong zeros", () => {
  it("a tanh chain's gradient under jit stages no structural-zero masks that nothing reads", async () => {
    const { StageTrace } = await import("../src/jit/stage.js");
    const { valueAndGrad: vg, add: plus, mul: times, tanh: th } = await import("../src/index.js");
    const chain = (x: Tensor) => {
      for (let i = 0; i < 5; i++) x = plus(times(th(x), 1.0001), 0.001);
      return x;
    };
    const tr = new StageTrace();
    const x = tr.input(scalar(0.5));
    const [v, g] = vg(chain)(x);
    const prog = tr.program([x], [v, g]);
    // Every recorded step is live: 15 forward ops, 9 backward ops (the first backward product is the staged
    // seed, ones, times the constant 1.0001: a product by one, which records nothing) and 5 NaN checks of
    // tanh's contributions. The seed's structural-zero mask is not staged either: the seed has no zero.
    expect(tr.steps.length).toBe(prog.steps.length);
    expect(prog.steps.length).toBe(29);
  });
});
