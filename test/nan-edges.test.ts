import { afterAll, describe, expect, it } from "vitest";
import {
  abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, availableBackends, ceil, clip, cos, cosh, cumprod, cumsum, div, elu, erf,
  exp, exp2, expm1, floor, gelu, getBackend, grad, greater, jvp, leakyRelu, log, log10, log1p, log2, logaddexp, logcumsumexp, max,
  maximum, mean, min, minimum, mul, neg, nn, norm, pow, prod, reciprocal, relu, remainder, round, rsqrt, setBackend, sigmoid, sign,
  sin, sinh, softplus, sqrt, square, std, sub, sum, tan, tanh, tensor, trunc, variance, vjp, where, type Tensor,
  jit, scalar, valueAndGrad,
} from "../src/index.js";

// Issue 19: NaN and infinity at the edges. Piecewise rules select the incoming tangent or cotangent
// instead of multiplying it by a 0/½/1 mask (0·∞ = NaN where the true contribution is exactly 0), NaN
// propagates, and pow follows IEEE 754. Expected values are by hand.

const f64 = (v: number | number[] | number[][] | number[][][][]) => tensor(v as number[], { dtype: "float64" });
const fwd = (f: (x: Tensor) => Tensor, x: Tensor, t: Tensor): Tensor => jvp(f, [x], [t])[1];
const rev = (f: (x: Tensor) => Tensor, x: Tensor, ct: Tensor): Tensor => vjp(f, x)[1](ct)[0];
const list = (t: Tensor) => Array.from(t.data);
const maxPool2d = nn.maxPool2d;

describe("the issue's five rows, in both modes", () => {
  it("relu(NaN) is NaN with derivative 1, as maximum(NaN, 0) and PyTorch", () => {
    expect(relu(f64([NaN, -1, 0, 2])).data).toEqual(new Float64Array([NaN, 0, 0, 2]));
    expect(list(grad((x: Tensor) => sum(relu(x)))(f64([NaN, -1, 0, 2])))).toEqual([1, 0, 0, 1]);
    expect(list(fwd(relu, f64([NaN, -1, 0, 2]), f64([1, 1, 1, 1])))).toEqual([1, 0, 0, 1]);
    expect(maximum(f64(NaN), 0).item()).toBeNaN();
  });

  it("∂/∂b sqrt(maximum(a, b)) at a = 0, b = −1 is 0 (b is not selected; sqrt'(0) = ∞ does not leak in)", () => {
    const f = (b: Tensor) => sqrt(maximum(f64(0), b));
    expect(grad(f)(f64(-1)).item()).toBe(0);
    expect(fwd(f, f64(-1), f64(1)).item()).toBe(0);
    // minimum the same way, and at second order (forward over reverse, reverse over reverse)
    const g = (b: Tensor) => sqrt(minimum(f64(0), b));
    expect(grad(g)(f64(1)).item()).toBe(0);
    expect(fwd(grad(f), f64(-1), f64(1)).item()).toBe(0);
    expect(grad(grad(f))(f64(-1)).item()).toBe(0);
  });

  it("jvp(x => relu(log(x)), [0], [1]) is 0 (log's tangent −∞ is not selected), and so is the gradient", () => {
    const f = (x: Tensor) => relu(log(x));
    expect(list(fwd(f, f64([0]), f64([1])))).toEqual([0]);
    expect(list(rev(f, f64([0]), f64([1])))).toEqual([0]);
  });

  it("jvp(x => min(rsqrt(relu(x))), [[1, −1.5]], [[1, 1]]) is −0.5, as its vjp", () => {
    const f = (x: Tensor) => min(rsqrt(relu(x)));
    expect(fwd(f, f64([[1, -1.5]]), f64([[1, 1]])).item()).toBe(-0.5);
    expect(list(rev(f, f64([[1, -1.5]]), f64(1)))).toEqual([-0.5, 0]);
  });

  it("pow(1, NaN) = pow(1, ±∞) = pow(−1, ±∞) = 1 (IEEE 754 pow, as C, NumPy and PyTorch)", () => {
    const a = [1, 1, 1, -1, -1, NaN, 2, -8, 0, 0];
    const b = [NaN, Infinity, -Infinity, Infinity, -Infinity, 0, NaN, 1 / 3, -1, 0];
    const want = [1, 1, 1, 1, 1, 1, NaN, NaN, Infinity, 1];
    expect(list(pow(f64(a), f64(b)))).toEqual(want);
    expect(list(pow(tensor(a, { dtype: "float32" }), tensor(b, { dtype: "float32" })))).toEqual(want);
    // the scalar-operand loops (broadcast modes 1 and 2)
    expect(list(pow(f64([1, -1]), Infinity))).toEqual([1, 1]);
    expect(list(pow(1, f64([NaN, -Infinity])))).toEqual([1, 1]);
    // ∂/∂b at a = 1 is 1·log 1 = 0 whatever b is; ∂/∂a at (1, ∞) is ∞·1 = ∞ (as PyTorch)
    expect(grad((q: Tensor) => pow(f64(1), q))(f64(Infinity)).item()).toBe(0);
    expect(grad((p: Tensor) => pow(p, f64(Infinity)))(f64(1)).item()).toBe(Infinity);
  });
});

describe("piecewise rules select: an unselected input gets exactly 0 under an infinite tangent or cotangent", () => {
  const inf = (n: number) => f64(new Array<number>(n).fill(Infinity));

  it("relu and its gradient's gradient (the fused reluGrad's rule for ct)", () => {
    expect(list(fwd(relu, f64([-1, 0, 3]), inf(3)))).toEqual([0, 0, Infinity]);
    expect(list(rev(relu, f64([-1, 0, 3]), inf(3)))).toEqual([0, 0, Infinity]);
    // forward over reverse: the gradient's tangent along an infinite direction of the cotangent
    const g = (c: Tensor) => vjp(relu, f64([-1, 0, 3]))[1](c)[0];
    expect(list(fwd(g, f64([1, 1, 1]), inf(3)))).toEqual([0, 0, Infinity]);
  });

  it("maximum and minimum: the loser gets 0, a tie ½, NaN gives both operands the whole (PyTorch's backward)", () => {
    const a = f64([1, 2, 3, NaN]), b = f64([2, 2, NaN, 0]);
    const da = (f: typeof maximum, t: Tensor) => fwd((x: Tensor) => f(x, b), a, t);
    expect(list(da(maximum, inf(4)))).toEqual([0, Infinity, Infinity, Infinity]);
    expect(list(da(minimum, f64([1, 1, 1, 1])))).toEqual([1, 0.5, 1, 1]);
    const [, back] = vjp((x: Tensor, y: Tensor) => maximum(x, y), a, b);
    const [ga, gb] = back(inf(4));
    expect(list(ga)).toEqual([0, Infinity, Infinity, Infinity]);
    expect(list(gb)).toEqual([Infinity, Infinity, Infinity, Infinity]);
    const [ma, mb] = vjp((x: Tensor, y: Tensor) => minimum(x, y), a, b)[1](f64([1, 1, 1, 1]));
    expect(list(ma)).toEqual([1, 0.5, 1, 1]);
    expect(list(mb)).toEqual([0, 0.5, 1, 1]);
  });

  it("max and min reductions: ties share, the rest get 0 under ∞; a NaN slice routes the gradient to its NaN", () => {
    const x = f64([[1, 3, 3], [NaN, 5, NaN]]);
    expect(list(max(x, 1))).toEqual([3, NaN]);
    expect(list(fwd((v: Tensor) => max(v, 1), f64([[1, 3, 3], [0, 5, 0]]), f64([[Infinity, 1, 3], [1, Infinity, 2]])))).toEqual([2, Infinity]);
    expect(list(fwd((v: Tensor) => max(v, 1), x, f64([[Infinity, 1, 3], [1, Infinity, 2]])))).toEqual([2, 1.5]);
    expect(list(rev((v: Tensor) => max(v, 1), x, f64([Infinity, 4])))).toEqual([0, Infinity, Infinity, 2, 0, 2]);
    expect(list(rev((v: Tensor) => min(v, 0, true), f64([[1, -2], [1, Infinity]]), f64([[4, Infinity]])))).toEqual([2, Infinity, 2, 0]);
    expect(fwd((v: Tensor) => min(v), f64([2, 1]), f64([Infinity, 7])).item()).toBe(7);
  });

  it("abs: abs'(0) = 0 exactly, also times ∞ (PyTorch: NaN); abs'(NaN) is NaN", () => {
    expect(list(fwd(abs, f64([0, -2, 3, NaN]), inf(4)))).toEqual([0, -Infinity, Infinity, NaN]);
    expect(list(rev(abs, f64([0, -2, 3, NaN]), inf(4)))).toEqual([0, -Infinity, Infinity, NaN]);
  });

  it("where, clip, leakyRelu and elu (selections by construction) keep exact zeros too", () => {
    expect(list(fwd((v: Tensor) => clip(v, 0, 1), f64([-1, 0.5, 2]), inf(3)))).toEqual([0, Infinity, 0]);
    expect(list(rev((v: Tensor) => clip(v, 0, 1), f64([-1, 0.5, 2]), inf(3)))).toEqual([0, Infinity, 0]);
    expect(list(fwd((v: Tensor) => where(greater(v, 0), v, 0), f64([-1, 2]), inf(2)))).toEqual([0, Infinity]);
    expect(list(fwd((v: Tensor) => leakyRelu(v, 0.5), f64([-1, 2]), inf(2)))).toEqual([Infinity, Infinity]);
    expect(list(fwd((v: Tensor) => elu(v), f64([-Infinity, 2]), f64([1, 1])))).toEqual([0, 1]);
    expect(list(leakyRelu(f64([NaN])))).toEqual([NaN]);
    expect(list(elu(f64([NaN])))).toEqual([NaN]);
    expect(list(clip(f64([NaN]), 0, 1))).toEqual([NaN]);
  });

  it("prod: an exact-zero partial (two zeros in the slice) gives 0 under an infinite cotangent or tangent (PyTorch: 0 too)", () => {
    // 1/prod(x) at a slice with two zeros: the cotangent into prod is −∞, each partial (product of the others) is 0
    expect(list(grad((v: Tensor) => sum(reciprocal(prod(v))))(f64([0, 0, 2])))).toEqual([0, 0, 0]);
    expect(fwd((v: Tensor) => prod(v), f64([0, 0, 2]), f64([Infinity, 1, 1])).item()).toBe(0);
    // one zero: the zero's partial is the product of the others, the rest get 0
    expect(list(rev((v: Tensor) => prod(v), f64([0, 3, 2]), f64(Infinity)))).toEqual([Infinity, 0, 0]);
  });

  it("logaddexp(NaN, ∞) is NaN, while logaddexp(∞, ∞) = ∞ and logaddexp(−∞, −∞) = −∞", () => {
    expect(list(logaddexp(f64([NaN, Infinity, -Infinity, Infinity]), f64([Infinity, Infinity, -Infinity, NaN])))).toEqual([NaN, Infinity, -Infinity, NaN]);
  });

  it("max pooling routes to the argmax (a gather), so the other window elements get 0 under ∞", () => {
    const x = f64([[[[1, 4], [2, 3]]]]);
    expect(list(fwd((v: Tensor) => maxPool2d(v, 2), x, f64([[[[Infinity, 1], [Infinity, Infinity]]]])))).toEqual([1]);
    expect(list(rev((v: Tensor) => maxPool2d(v, 2), f64([[[[1, NaN], [2, 3]]]]), f64([[[[Infinity]]]])))).toEqual([0, Infinity, 0, 0]);
  });
});

describe("only structural zeros are strong: a computed 0 times ∞ is NaN in both modes, as PyTorch's", () => {
  const ones = (n: number) => f64(new Array<number>(n).fill(1));
  const total = (t: Tensor) => list(t).reduce((a, v) => a + v, 0);

  it("the conventions table's former ‡ inputs: the tangent along ones is NaN, as the gradient's sum", () => {
    // mseLoss(a, b) = (a − b)²: along (1, 1) the tangent of a − b is 1 − 1 = 0, computed, and 2(a − b) = ∞
    for (const [a, b] of [[Infinity, 1], [Infinity, Infinity], [NaN, 1]] as const) {
      const f = (x: Tensor, y: Tensor) => nn.mseLoss(x, y);
      expect(jvp(f, [f64([a]), f64([b])], [ones(1), ones(1)])[1].item()).toBeNaN();
      const [ga, gb] = vjp(f, f64([a]), f64([b]))[1](f64(1));
      expect(ga.item() + gb.item()).toBeNaN();
    }
    expect(vjp((x: Tensor, y: Tensor) => nn.mseLoss(x, y), f64([Infinity]), f64([1]))[1](f64(1)).map((g) => g.item())).toEqual([Infinity, -Infinity]);
    for (const x of [[Infinity, 1], [1, NaN]]) {
      expect(fwd(variance, f64(x), ones(2)).item()).toBeNaN();
      expect(fwd(std, f64(x), ones(2)).item()).toBeNaN();
      expect(total(grad(variance)(f64(x)))).toBeNaN();
    }
    expect(jvp((a: Tensor, b: Tensor) => logaddexp(a, b), [f64(NaN), f64(Infinity)], [f64(1), f64(1)])[1].item()).toBeNaN();
  });

  it("a cotangent that cancels at a fan-out is computed too: s − s with s = x² at x = ∞ has gradient NaN (was 0), as its tangent", () => {
    const f = (x: Tensor) => { const s = square(x); return sum(sub(s, s)); };
    expect(grad(f)(f64([Infinity, 3])).data).toEqual(new Float64Array([NaN, 0]));
    expect(list(fwd((x: Tensor) => { const s = square(x); return sub(s, s); }, f64([Infinity, 3]), ones(2)))).toEqual([NaN, 0]);
  });

  it("zeros a rule knows stay strong: carried through sum and log (logsumexp at [−∞, −∞] is 0 in both modes)", () => {
    const lse = (x: Tensor) => nn.logsumexp(x);
    expect(fwd(lse, f64([-Infinity, -Infinity]), ones(2)).item()).toBe(0);
    expect(list(grad(lse)(f64([-Infinity, -Infinity])))).toEqual([0, 0]);
    // through reshape and transpose between the selection and the singular partial
    const g = (x: Tensor) => sqrt(relu(x).reshape([2, 1]).transpose());
    expect(list(fwd(g, f64([-1, 4]), ones(2)))).toEqual([0, 0.25]);
    expect(list(rev(g, f64([-1, 4]), f64([[1, 1]])))).toEqual([0, 0.25]);
  });

  it("a max reduction that loses passes its structural zero to every tied element (ct/count keeps the mask)", () => {
    // max(sqrt(x)) at x = [0, 0] is a tie at 0 with sqrt' = ∞; maximum(·, 1) does not select it
    const f = (x: Tensor) => maximum(max(sqrt(x)), 1);
    expect(list(grad(f)(f64([0, 0])))).toEqual([0, 0]);
    expect(fwd(f, f64([0, 0]), ones(2)).item()).toBe(0);
  });

  it("the caller's zeros are structural: jvp along e_b equals the derivative with a closed over (the issue's second row)", () => {
    const f = (a: Tensor, b: Tensor) => sqrt(maximum(a, b));
    expect(jvp(f, [f64(0), f64(-1)], [f64(0), f64(1)])[1].item()).toBe(0);
    expect(list(vjp((x: Tensor) => sqrt(x), f64([0, 4]))[1](f64([0, 1]))[0])).toEqual([0, 0.25]);
  });
});

describe("relu's NaN and pow's special values on every backend, through the vector kernels", () => {
  const before = getBackend().name;
  afterAll(() => setBackend(before));
  // 300 float32 elements: above every backend's threshold for its vector (wasm) kernels.
  const n = 300;
  const edge = (k: number) => [NaN, -0, 0, -1, 2.5, -Infinity, Infinity][k % 7]!;

  it.each(availableBackends())("%s", (name) => {
    setBackend(name);
    const xs = Array.from({ length: n }, (_, k) => edge(k));
    const x = tensor(xs, { dtype: "float32" });
    const y = relu(x);
    expect(Array.from(y.data)).toEqual(xs.map((v) => (v <= 0 ? 0 : v)));
    const [g] = vjp(relu, x)[1](tensor(new Array<number>(n).fill(3), { dtype: "float32" }));
    expect(Array.from(g.data)).toEqual(xs.map((v) => (v <= 0 ? 0 : 3)));
    const ones = tensor(Array.from({ length: n }, (_, k) => (k % 2 ? 1 : -1)), { dtype: "float32" });
    const e = tensor(Array.from({ length: n }, (_, k) => [NaN, Infinity, -Infinity][k % 3]!), { dtype: "float32" });
    const p = pow(ones, e);
    expect(Array.from(p.data)).toEqual(Array.from({ length: n }, (_, k) => (k % 2 === 0 && k % 3 === 0 ? NaN : 1)));
    expect(mul(p, 1).shape).toEqual([n]);
  });
});

describe("NaN propagates through every elementwise op and reduction (as PyTorch and NumPy)", () => {
  // The exceptions, on purpose: pow(1, NaN) = pow(NaN, 0) = 1 (IEEE 754), nanToNum (its job), comparisons
  // (false), argmax/argmin and sort (indices; NaN counts as the largest, as PyTorch).
  const unary: Record<string, (x: Tensor) => Tensor> = {
    neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tan, tanh, sigmoid, relu, erf, softplus,
    gelu: (x) => gelu(x), geluTanh: (x) => gelu(x, { approximate: "tanh" }), leakyRelu: (x) => leakyRelu(x), elu: (x) => elu(x),
    clip: (x) => clip(x, -1, 1), round, floor, ceil, trunc, log2, log10, exp2, asin, acos, atan, sinh, cosh, asinh, acosh, atanh,
  };
  const binary: Record<string, (a: Tensor, b: Tensor) => Tensor> = { add, sub, mul, div, pow, maximum, minimum, atan2, remainder, logaddexp };
  const reductions: Record<string, (x: Tensor) => Tensor> = {
    sum: (x) => sum(x, 1), mean: (x) => mean(x, 1), max: (x) => max(x, 1), min: (x) => min(x, 1), prod: (x) => prod(x, 1),
    logsumexp: (x) => nn.logsumexp(x, 1), norm: (x) => norm(x, 2, 1), norm1: (x) => norm(x, 1, 1), normInf: (x) => norm(x, Infinity, 1),
    std: (x) => std(x, 1), variance: (x) => variance(x, 1),
  };
  // Along the reduced axis: scans and normalisations give NaN from the NaN on (or over the whole row).
  const rowwise: Record<string, (x: Tensor) => Tensor> = {
    cumsum: (x) => cumsum(x, 1), cumprod: (x) => cumprod(x, 1), logcumsumexp: (x) => logcumsumexp(x, 1),
    softmax: (x) => nn.softmax(x, 1), logSoftmax: (x) => nn.logSoftmax(x, 1),
  };
  const values = [0.5, -2, 0, 3, 1, -0.25, 40, -1];

  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: unary and binary ops (300 elements: the vector kernels too)`, () => {
      const n = 300;
      const xs = Array.from({ length: n }, (_, k) => (k % 5 === 2 ? NaN : values[k % values.length]!));
      const x = tensor(xs, { dtype });
      // y has infinities too: logaddexp(NaN, ∞) once gave ∞.
      const y = tensor(Array.from({ length: n }, (_, k) => (k % 3 === 0 ? (k % 2 ? -Infinity : Infinity) : values[(k + 3) % values.length]! + 1.5)), { dtype });
      for (const [name, f] of Object.entries(unary)) {
        const out = f(x).data;
        xs.forEach((v, k) => { if (Number.isNaN(v)) expect(out[k], `${name}(NaN) at ${k}`).toBeNaN(); });
      }
      for (const [name, f] of Object.entries(binary)) {
        const ab = f(x, y).data, ba = f(y, x).data;
        xs.forEach((v, k) => {
          if (!Number.isNaN(v)) return;
          expect(ab[k], `${name}(NaN, y)`).toBeNaN();
          // pow(y, NaN) is NaN unless y = 1 (IEEE); y here is never 1
          expect(ba[k], `${name}(y, NaN)`).toBeNaN();
        });
      }
      expect(list(pow(tensor([NaN, 1], { dtype }), 0))).toEqual([1, 1]);
    });

    it(`${dtype}: reductions give NaN for a slice with a NaN and leave the other slices alone`, () => {
      const x = tensor([[1, NaN, 3, 2], [0.5, 2, -1, 4]], { dtype });
      for (const [name, f] of Object.entries(reductions)) {
        const out = f(x).data;
        expect(out[0], `${name} of the NaN row`).toBeNaN();
        expect(Number.isNaN(out[1]!), `${name} of the clean row`).toBe(false);
      }
      for (const [name, f] of Object.entries(rowwise)) {
        const out = f(x).data;
        expect(Number.isNaN(out[0]!) || ["cumsum", "cumprod", "logcumsumexp"].includes(name), `${name} before the NaN`).toBe(true);
        expect(out[1], `${name} at the NaN`).toBeNaN();
        expect(out.slice(4).some((v) => Number.isNaN(v)), `${name} of the clean row`).toBe(false);
      }
    });
  }
});

describe("a finite non-zero scalar factor needs no strong-zero repair", () => {
  it("vjp of x·3 passes a NaN cotangent on as NaN and a 0 as 0, eagerly and under jit (no NaN guard in the program)", () => {
    const f = (x: Tensor) => mul(x, 3);
    const x = tensor([1, Infinity, -2], { dtype: "float64" });
    const ct = tensor([NaN, 0, 2], { dtype: "float64" });
    const [, pb] = vjp(f, x);
    expect(Array.from(pb(ct)[0].data)).toEqual([NaN, 0, 6]);
    const [, pbJit] = vjp(jit(f), x);
    expect(Array.from(pbJit(ct)[0].data)).toEqual([NaN, 0, 6]);
    const g = jit(valueAndGrad((v: Tensor) => sum(mul(v, scalar(2, { dtype: "float64" })))));
    expect(g.lower(x).toText()).not.toContain("has no NaN");
    expect(Array.from(g(x)[1].data)).toEqual([2, 2, 2]);
  });
});
