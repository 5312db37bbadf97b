import { describe, expect, it } from "vitest";
import {
  add, grad, jvp, matmul, mul, nameScope, nn, sin, stack, sum, tanh, Tensor, tensor, transpose, ShapeError, ValueError, vjp, vmap,
  gather, randn, currentScope, customVjp, customJvp, exp, log, sigmoid, cos, reshape, jacrev, jacfwd,
} from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: number[] | number[][] | number[][][]) => tensor(v, { dtype: "float64" });
const rows = (x: Tensor): Tensor[] => Array.from({ length: x.shape[0]! }, (_, i) => gather(x, i as number, 0));

describe("vmap: axes", () => {
  const W = f64([[1, 2], [3, 4], [5, 6]]);
  const X = f64([[1, 0, 2], [0, 1, -1], [2, 2, 2], [1, 1, 1]]);
  const layer = (w: Tensor, x: Tensor): Tensor => tanh(matmul(x, w));

  it("in-axes 0 and null: one example at a time inside, the same values as a loop", () => {
    const got = vmap(layer, { inAxes: [null, 0] })(W, X);
    expect(got.shape).toEqual([4, 2]);
    expectAllClose(got, stack(rows(X).map((x) => layer(W, x))), 0, 0);
  });

  it("negative and non-leading in-axes move the batch axis; outAxes place it in the result", () => {
    const Xt = transpose(X); // [3, 4]: the batch is the last axis
    const got = vmap(layer, { inAxes: [null, -1], outAxes: 1 })(W, Xt);
    expect(got.shape).toEqual([2, 4]);
    expectAllClose(got, transpose(stack(rows(X).map((x) => layer(W, x)))), 0, 0);
    expectAllClose(vmap(layer, { inAxes: [null, 1], outAxes: -1 })(W, Xt), got, 0, 0);
  });

  it("in-axes and outputs as pytrees", () => {
    const params = { w: W, b: f64([0.5, -0.5]) };
    const f = (p: { w: Tensor; b: Tensor }, x: Tensor) => ({ y: add(matmul(x, p.w), p.b), norm: sum(mul(x, x)) });
    const out = vmap(f, { inAxes: [{ w: null, b: null }, 0], outAxes: { y: 0, norm: 0 } })(params, X);
    expect(out.y.shape).toEqual([4, 2]);
    expectAllClose(out.norm, f64([5, 2, 12, 3]), 0, 0);
    // A batched leaf inside an object: per-example biases.
    const B = f64([[1, 1], [2, 2], [3, 3], [4, 4]]);
    const out2 = vmap(f, { inAxes: [{ w: null, b: 0 }, 0] })({ w: W, b: B }, X);
    expectAllClose(out2.y, stack(rows(X).map((x, i) => add(matmul(x, W), rows(B)[i]!))), 0, 0);
  });

  it("an output that does not depend on the batch is repeated, or kept with outAxes null", () => {
    const f = (x: Tensor) => [sum(x), f64([7, 8])] as const;
    const [a, b] = vmap(f)(X);
    expectAllClose(a, f64([3, 0, 6, 3]), 0, 0);
    expect(b.shape).toEqual([4, 2]);
    const [, kept] = vmap(f, { outAxes: [0, null] })(X);
    expect(kept.shape).toEqual([2]);
    expect(() => vmap(f, { outAxes: [null, null] })(X)).toThrow(/output leaf 0 depends on the batch, but its outAxes entry is null/);
  });

  it("errors name the argument: batch sizes that differ, axes out of range, nothing batched, a mismatched axis tree", () => {
    expect(() => vmap(layer, { inAxes: 0 })(f64([[1, 2]]), X)).toThrow(ValueError);
    expect(() => vmap((a: Tensor, b: Tensor) => add(a, b))(f64([1, 2, 3]), f64([1, 2]))).toThrow(
      "vmap: batch sizes differ: argument 0 has size 3 along axis 0, but argument 1 has size 2 along axis 0 (shape [2]); every batched argument needs the same size along its inAxes",
    );
    expect(() => vmap(layer, { inAxes: [null, 2] })(W, X)).toThrow(ShapeError);
    expect(() => vmap(layer, { inAxes: [null, 2] })(W, X)).toThrow("vmap: argument 1 has shape [4,3], which has no axis 2; expected an axis in [-2, 1] or null");
    expect(() => vmap(layer, { inAxes: [null, null] })(W, X)).toThrow(/no argument is batched/);
    expect(() => vmap(layer, { inAxes: [null] })(W, X)).toThrow(/inAxes has 1 entries, but the function was called with 2 argument/);
    expect(() => vmap((p: { w: Tensor }) => p.w, { inAxes: [{ v: 0 }] as never })({ w: W })).toThrow(/the axes name key "v"/);
  });

  it("reading a batched value inside vmap is an error, not the whole batch", () => {
    expect(() => vmap((x: Tensor) => tensor([x.item()]))(f64([1, 2]))).toThrow(/vmap: cannot read the values of a batched tensor/);
  });
});

describe("vmap composes with the other transforms", () => {
  const xs = f64([0.5, -1, 2]);
  const f = (x: Tensor) => mul(sin(x), x); // f' = cos(x)·x + sin(x)
  const fprime = (v: number) => Math.cos(v) * v + Math.sin(v);

  it("vmap(grad), grad(vmap), jvp(vmap), vmap(jvp), vjp(vmap) agree with hand derivatives", () => {
    const want = [0.5, -1, 2].map(fprime);
    expectAllClose(vmap(grad(f))(xs), want, 1e-12);
    expectAllClose(grad((x: Tensor) => sum(vmap(f)(x)))(xs), want, 1e-12);
    expectAllClose(jvp(vmap(f), [xs], [f64([1, 1, 1])])[1], want, 1e-12);
    expectAllClose(vmap((x: Tensor) => jvp(f, [x], [f64(1 as never)])[1])(xs), want, 1e-12);
    const [, pull] = vjp(vmap(f), xs);
    expectAllClose(pull(f64([1, 1, 1]))[0], want, 1e-12);
  });

  it("second order through vmap: vmap(grad(grad)) and grad(grad) of a vmapped sum", () => {
    const f2 = (v: number) => -Math.sin(v) * v + 2 * Math.cos(v);
    expectAllClose(vmap(grad(grad(f)))(xs), [0.5, -1, 2].map(f2), 1e-12);
    const g = grad((x: Tensor) => sum(grad((y: Tensor) => sum(vmap(f)(y)))(x)));
    expectAllClose(g(xs), [0.5, -1, 2].map(f2), 1e-12);
  });

  it("keeps an outer variable's perturbation apart: d/dx Σ vmap(y ↦ x·y)(ys) = Σ ys", () => {
    const ys = f64([1, 2, 3]);
    const dx = grad((x: Tensor) => sum(vmap((y: Tensor) => mul(x, y))(ys)))(f64(2 as never));
    expect(dx.item()).toBe(6);
    // and the other way round: the batch of gradients of x·y with respect to x at each y is y.
    expectAllClose(vmap((y: Tensor) => grad((x: Tensor) => mul(x, y))(f64(2 as never)))(ys), [1, 2, 3], 0, 0);
  });

  it("nested vmap with different axes computes an outer product without a loop", () => {
    const a = f64([1, 2, 3]);
    const b = f64([10, 20]);
    const outer = vmap((x: Tensor) => vmap((y: Tensor) => mul(x, y))(b))(a);
    expectAllClose(outer, f64([[10, 20], [20, 40], [30, 60]]), 0, 0);
    const outerT = vmap((x: Tensor) => vmap((y: Tensor) => mul(x, y), { outAxes: 0 })(b), { outAxes: 1 })(a);
    expectAllClose(outerT, f64([[10, 20, 30], [20, 40, 60]]), 0, 0);
  });

  it("nameScope inside and around vmap: the scope is active while the batched ops run", () => {
    const seen: (string | undefined)[] = [];
    const out = nameScope("outer", () => vmap((x: Tensor) => nameScope("inner", () => {
      seen.push(currentScope());
      return sin(x);
    }))(xs));
    expect(seen).toEqual(["outer/inner"]);
    expectAllClose(out, [0.5, -1, 2].map(Math.sin), 1e-15);
  });
});

describe("matmul's batching rule: one product for the batch where the shapes allow", () => {
  const W = randn([3, 4], { dtype: "float64", seed: 21 });
  const X = randn([5, 2, 3], { dtype: "float64", seed: 22 }); // 5 examples of [2, 3]
  const V = randn([5, 4], { dtype: "float64", seed: 23 }); // 5 vectors of [4]

  it("batched rows against a shared matrix (folded into one product), vectors and matrices, with gradients", () => {
    const layer = (w: Tensor, x: Tensor) => sum(tanh(matmul(x, w)));
    expectAllClose(vmap((x: Tensor) => matmul(x, W))(X), stack(rows(X).map((x) => matmul(x, W))), 1e-14, 0);
    const xs = gather(X, 0, 1); // [5, 3]: vectors
    expectAllClose(vmap((x: Tensor) => matmul(x, W))(xs), stack(rows(xs).map((x) => matmul(x, W))), 1e-14, 0);
    // Per-example gradients of the shared matrix (outer products) and of the input (ct·Wᵀ, folded).
    expectAllClose(vmap(grad(layer), { inAxes: [null, 0] })(W, X), stack(rows(X).map((x) => grad(layer)(W, x))), 1e-14, 1e-15);
    expectAllClose(vmap(grad(layer, { argnums: 1 }), { inAxes: [null, 0] })(W, X), stack(rows(X).map((x) => grad(layer, { argnums: 1 })(W, x))), 1e-14, 1e-15);
    // grad of vmap: the folded product's VJP sums the shared matrix's cotangent over the batch.
    const total = (w: Tensor) => sum(vmap((x: Tensor) => layer(w, x))(X));
    expectAllClose(grad(total)(W), rows(X).map((x) => grad(layer)(W, x)).reduce((a, b) => add(a, b)), 1e-13, 1e-15);
  });

  it("a shared matrix against batched column vectors, and jacrev's batched pullback of W·v", () => {
    expectAllClose(vmap((v: Tensor) => matmul(W, v))(V), stack(rows(V).map((v) => matmul(W, v))), 1e-14, 0);
    expectAllClose(vmap((v: Tensor) => matmul(transpose(W), sin(matmul(W, v))))(V), stack(rows(V).map((v) => matmul(transpose(W), sin(matmul(W, v))))), 1e-14, 1e-15);
    // J = diag(1 − tanh²(W·v)) · W, by hand.
    const v = gather(V, 2);
    const y = tanh(matmul(W, v));
    const want = mul(reshape(add(mul(mul(y, y), -1), 1), [3, 1]), W);
    expectAllClose(jacrev((u: Tensor) => tanh(matmul(W, u)))(v), want, 1e-14, 1e-15);
    expectAllClose(jacfwd((u: Tensor) => tanh(matmul(W, u)))(v), want, 1e-14, 1e-15);
  });
});

describe("batching rules of the nn primitives", () => {
  it("conv2d with batched inputs, batched weights (per-example weights) and both, with gradients", () => {
    const x = randn([3, 2, 2, 5, 5], { seed: 1, dtype: "float64" }); // 3 examples of NCHW [2,2,5,5]
    const w = randn([3, 4, 2, 3, 3], { seed: 2, dtype: "float64" });
    const b = randn([3, 4], { seed: 3, dtype: "float64" });
    const conv = (xi: Tensor, wi: Tensor, bi: Tensor) => nn.conv2d(xi, wi, bi, { padding: 1, stride: [1, 2] });
    const ex = (t: Tensor) => rows(t);
    const loop = stack(ex(x).map((xi, i) => conv(xi, ex(w)[i]!, ex(b)[i]!)));
    expectAllClose(vmap(conv)(x, w, b), loop, 1e-12, 1e-12);
    expectAllClose(vmap(conv, { inAxes: [0, null, null] })(x, ex(w)[0]!, ex(b)[0]!), stack(ex(x).map((xi) => conv(xi, ex(w)[0]!, ex(b)[0]!))), 1e-12, 1e-12);
    expectAllClose(vmap(conv, { inAxes: [null, 0, 0] })(ex(x)[1]!, w, b), stack(ex(w).map((wi, i) => conv(ex(x)[1]!, wi, ex(b)[i]!))), 1e-12, 1e-12);
    // Per-example weight gradients: conv2dWeightGrad with both operands batched.
    const loss = (wi: Tensor, xi: Tensor) => sum(tanh(conv(xi, wi, ex(b)[0]!)));
    const perEx = vmap(grad(loss), { inAxes: [null, 0] })(ex(w)[0]!, x);
    expectAllClose(perEx, stack(ex(x).map((xi) => grad(loss)(ex(w)[0]!, xi))), 1e-12, 1e-12);
    const perW = vmap(grad(loss, { argnums: 1 }), { inAxes: [0, null] })(w, ex(x)[0]!);
    expectAllClose(perW, stack(ex(w).map((wi) => grad(loss, { argnums: 1 })(wi, ex(x)[0]!))), 1e-12, 1e-12);
  });

  it("pooling, im2col and softmax cross-entropy batch like a loop", () => {
    const x = randn([2, 1, 3, 4, 4], { seed: 4, dtype: "float64" });
    const pool = (xi: Tensor) => sum(mul(nn.maxPool2d(xi, 2), nn.avgPool2d(xi, 2, { stride: 1 }).sum()));
    expectAllClose(vmap(pool)(x), stack(rows(x).map(pool)), 1e-12);
    expectAllClose(vmap(grad(pool))(x), stack(rows(x).map(grad(pool))), 1e-12);
    const logits = randn([3, 2, 5], { seed: 5, dtype: "float64" });
    const target = nn.softmax(randn([2, 5], { seed: 6, dtype: "float64" }));
    const ce = (l: Tensor, t: Tensor) => nn.softmaxCrossEntropy(l, t);
    expectAllClose(vmap(ce, { inAxes: [0, null] })(logits, target), stack(rows(logits).map((l) => ce(l, target))), 1e-12);
    expectAllClose(vmap(grad((l: Tensor, t: Tensor) => sum(ce(l, t))), { inAxes: [0, null] })(logits, target),
      stack(rows(logits).map((l) => grad((li: Tensor) => sum(ce(li, target)))(l))), 1e-12);
  });

  it("crossEntropy with int labels (and ignoreIndex) under vmap equals a loop; an example with every label ignored is refused", () => {
    const logits = randn([2, 3, 4], { seed: 7, dtype: "float64" });
    const labels = tensor([[0, -1, 3], [2, 2, -1]], { dtype: "int32" });
    const ce = (l: Tensor, y: Tensor) => nn.crossEntropy(l, y, { ignoreIndex: -1 });
    const loop = stack([0, 1].map((i) => ce(rows(logits)[i]!, gather(labels, i))));
    expectAllClose(vmap(ce)(logits, labels), loop, 1e-14);
    expectAllClose(vmap(grad(ce))(logits, labels), stack([0, 1].map((i) => grad(ce)(rows(logits)[i]!, gather(labels, i)))), 1e-14);
    expect(() => vmap(ce)(logits, tensor([[0, 1, 2], [-1, -1, -1]], { dtype: "int32" }))).toThrow(/every label of example 1 equals ignoreIndex -1/);
  });

  it("gather with batched indices picks from each example's own rows, and checks the range", () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    const idx = tensor([[2, 0], [-1, 1]], { dtype: "int32" });
    expectAllClose(vmap((xi: Tensor, ii: Tensor) => gather(xi, ii))(x, idx), f64([[3, 1], [6, 5]]), 0, 0);
    expect(() => vmap((xi: Tensor, ii: Tensor) => gather(xi, ii))(x, tensor([[0, 3], [0, 0]], { dtype: "int32" }))).toThrow(/gather: index 3 is out of range for axis 0 of length 3/);
  });
});

describe("custom rules under vmap: the default batching rule vmaps the user's rules", () => {
  // log(1 + eˣ): the naive gradient is NaN at x = 1000; the custom rule gives sigmoid(x) = 1.
  const softplus = customVjp(
    (x: Tensor) => log(add(exp(x), 1)),
    (x: Tensor): [Tensor, Tensor] => [add(x, log(add(exp(mul(x, -1)), 1))), x],
    (x: Tensor, ct: Tensor) => [mul(ct, sigmoid(x))],
  );
  const xs = f64([1000, 0, -2]);

  it("customVjp: values, vmap(grad) and grad(vmap) use bwd", () => {
    expectAllClose(vmap(grad(softplus))(xs), [1, 0.5, 1 / (1 + Math.exp(2))], 1e-15);
    expectAllClose(grad((x: Tensor) => sum(vmap(softplus)(x)))(xs), [1, 0.5, 1 / (1 + Math.exp(2))], 1e-15);
  });

  it("customVjp: the cotangent of an argument shared by the batch sums over the batch", () => {
    let bwdCalls = 0;
    const scaled = customVjp(
      (a: Tensor, x: Tensor) => mul(a, x),
      (a: Tensor, x: Tensor): [Tensor, [Tensor, Tensor]] => [mul(a, x), [a, x]],
      ([a, x]: [Tensor, Tensor], ct: Tensor) => {
        bwdCalls++;
        return [mul(ct, x), mul(ct, a)];
      },
    );
    const a = f64(2 as never);
    const loss = (av: Tensor) => sum(vmap(scaled, { inAxes: [null, 0] })(av, xs));
    expect(grad(loss)(a).item()).toBe(998);
    expect(bwdCalls).toBe(1); // one batched call of bwd, not one per example
  });

  it("customJvp: vmap(jvp) and vmap(grad) go through the rule", () => {
    let ruleCalls = 0;
    const sinish = customJvp(
      (x: Tensor) => sin(x),
      ([x]: Tensor[], [t]: Tensor[]): [Tensor, Tensor] => {
        ruleCalls++;
        return [sin(x!), mul(cos(x!), t!)];
      },
    );
    const v = f64([0.5, 1, 2]);
    expectAllClose(vmap((x: Tensor) => jvp(sinish, [x], [f64(1 as never)])[1])(v), [0.5, 1, 2].map(Math.cos), 1e-15);
    expect(ruleCalls).toBe(1);
    expectAllClose(vmap(grad(sinish))(v), [0.5, 1, 2].map(Math.cos), 1e-15);
  });
});
