import { describe, expect, it } from "vitest";
import {
  add, checkGrads, cos, customJvp, customVjp, exp, GradientError, grad, hessian, hvp, jacfwd, jacrev, jvp, log, mul, ShapeError,
  sigmoid, sin, square, stack, sum, tensor, vjp, matmul, reshape, randn, div,
} from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: NestedArray) => tensor(v, { dtype: "float64" });

// f(x) = x0²·x1 + sin(x1): ∇f = [2x0x1, x0² + cos x1], H = [[2x1, 2x0], [2x0, −sin x1]]
const scalarF = (x: Tensor) => {
  const [x0, x1] = [sum(mul(x, f64([1, 0]))), sum(mul(x, f64([0, 1])))];
  return add(mul(square(x0), x1), sin(x1));
};
// g(x) = [x0·x1, x0 + x1², exp(x2)]
const vectorG = (x: Tensor) => {
  const e = (i: number) => sum(mul(x, f64([0, 1, 2].map((k) => (k === i ? 1 : 0)))));
  return stack([mul(e(0), e(1)), add(e(0), square(e(1))), exp(e(2))]);
};

describe("jacfwd / jacrev / hessian / hvp", () => {
  const x = f64([1.5, -0.5, 0.25]);
  const J = [[-0.5, 1.5, 0], [1, -1, 0], [0, 0, Math.exp(0.25)]];

  it("jacfwd and jacrev give the hand Jacobian of a vector function, shape [...out, ...in]", () => {
    const jf = jacfwd(vectorG)(x);
    const jr = jacrev(vectorG)(x);
    expect(jf.shape).toEqual([3, 3]);
    expect(jr.shape).toEqual([3, 3]);
    expectAllClose(jf, J.flat(), 1e-14);
    expectAllClose(jr, J.flat(), 1e-14);
  });

  it("Jacobian shapes follow JAX: out [2,3] and in [4] give [2,3,4]; argnums arrays give one per argument", () => {
    const a = randn([2, 3], { dtype: "float64", seed: 1 });
    const b = randn([3, 4], { dtype: "float64", seed: 2 });
    const [ja, jb] = jacrev((p: Tensor, q: Tensor) => matmul(p, q), { argnums: [0, 1] })(a, b);
    expect(ja!.shape).toEqual([2, 4, 2, 3]);
    expect(jb!.shape).toEqual([2, 4, 3, 4]);
    // ∂(AB)[i,j]/∂A[k,l] = δ_ik·B[l,j]
    expect(ja!.toArray()).toEqual(jacfwd((p: Tensor, q: Tensor) => matmul(p, q), { argnums: 0 })(a, b).toArray());
    const bd = b.data;
    expect((ja!.toArray() as number[][][][])[1]![2]![1]![0]).toBe(bd[0 * 4 + 2]);
    expect((ja!.toArray() as number[][][][])[1]![2]![0]![0]).toBe(0);
  });

  it("a scalar output gives the gradient's shape; a scalar input gives the output's shape", () => {
    expect(jacrev(scalarF)(f64([1, 2])).shape).toEqual([2]);
    expect(jacfwd((s: Tensor) => mul(s, f64([1, 2, 3])))(f64(2)).shape).toEqual([3]);
  });

  it("hessian is the hand Hessian, symmetric", () => {
    const p = f64([0.7, 1.3]);
    const H = hessian(scalarF)(p);
    expect(H.shape).toEqual([2, 2]);
    expectAllClose(H, [2 * 1.3, 2 * 0.7, 2 * 0.7, -Math.sin(1.3)], 1e-13);
  });

  it("hvp equals the Hessian times v without forming it", () => {
    const p = f64([0.7, 1.3]);
    const v = f64([2, -1]);
    const [hv] = hvp(scalarF, [p], [v]);
    expectAllClose(hv!, [2 * 1.3 * 2 - 2 * 0.7, 2 * 0.7 * 2 + Math.sin(1.3)], 1e-13);
  });

  it("hvp with two arguments returns one product per argument", () => {
    // f(a, b) = a²·b: H = [[2b, 2a], [2a, 0]]
    const [ha, hb] = hvp((a: Tensor, b: Tensor) => mul(square(a), b), [f64(3), f64(5)], [f64(1), f64(2)]);
    expect([ha!.item(), hb!.item()]).toEqual([2 * 5 * 1 + 2 * 3 * 2, 2 * 3 * 1]);
  });

  it("hvp names a tangent of the wrong shape", () => {
    expect(() => hvp(scalarF, [f64([1, 2])], [f64([1, 2, 3])])).toThrow("hvp: tangent 0 has shape [3], expected [2]");
    expect(() => hvp(scalarF, [f64([1, 2])], [f64([1, 2, 3])])).toThrow(ShapeError);
  });

  it("jacrev(jacrev) equals jacfwd(jacrev) (reverse-over-reverse vs forward-over-reverse)", () => {
    const p = f64([0.3, -1.1]);
    expectAllClose(jacrev(jacrev(scalarF))(p), hessian(scalarF)(p), 1e-13);
  });

  it("rejects an output leaf that is not a float tensor, naming it", () => {
    expect(() => jacrev((x: Tensor) => [x, x.astype("int32")])(f64([1]))).toThrow("jacrev: f must return float tensors, got dtype int32 for output leaf 1");
    expect(() => jacfwd((x: Tensor) => x.astype("int32"))(f64([1]))).toThrow("jacfwd: f must return float tensors, got dtype int32 for the output");
  });
});

// JAX's running example: log(1 + eˣ) overflows to Infinity at x = 1000 and its naive gradient is NaN.
const naive = (x: Tensor) => log(add(exp(x), 1));

describe("customVjp", () => {
  const stable = customVjp(
    naive,
    (x: Tensor): [Tensor, Tensor] => [add(x, log(add(exp(mul(x, -1)), 1))), x],
    (x: Tensor, ct: Tensor) => [mul(ct, sigmoid(x))],
    { name: "log1pexp" },
  );

  it("reverse mode uses bwd (right at x = 1000 where the naive gradient is wrong)", () => {
    // Naively, log's cotangent 1/∞ = 0 meets exp's partial ∞. PyTorch and JAX give 0·∞ = NaN; with
    // chainrule's strong zeros a zero cotangent contributes nothing, so the naive gradient is 0 (the
    // true value is 1). Either way only the custom rule is right.
    expect(grad(naive)(f64(1000)).item()).toBe(0);
    expect(grad(stable)(f64(1000)).item()).toBe(1);
    expect(stable(f64(1000)).item()).toBe(Infinity); // outside transforms f itself runs
    expect(grad(stable)(f64(0)).item()).toBe(0.5);
  });

  it("bwd is really what reverse mode calls: a deliberately halved rule shows up in grad, vjp and backward(), not in jvp", () => {
    const halved = customVjp((x: Tensor) => mul(x, 1), (x: Tensor): [Tensor, null] => [mul(x, 1), null], (_r: null, ct: Tensor) => [mul(ct, 0.5)]);
    expect(grad((x: Tensor) => sum(halved(x)))(f64([1, 2])).toArray()).toEqual([0.5, 0.5]);
    expect((vjp(halved, f64(3))[1](f64(1))[0] as Tensor).item()).toBe(0.5);
    const leaf = tensor(2, { requiresGrad: true, dtype: "float64" });
    halved(mul(leaf, 3)).backward();
    expect(leaf.grad!.item()).toBe(1.5);
    expect(jvp(halved, [f64(3)], [f64(1)])[1].item()).toBe(1); // forward mode differentiates f
  });

  it("second order differentiates fwd and bwd: grad(grad) and hessian", () => {
    const sq = customVjp(square, (x: Tensor): [Tensor, Tensor] => [square(x), x], (x: Tensor, ct: Tensor) => [mul(ct, mul(x, 2))]);
    expect(grad(grad(sq))(f64(3)).item()).toBe(2);
    expectAllClose(hessian((x: Tensor) => sum(mul(sq(x), x)))(f64([1, 2])), [6, 0, 0, 12]);
    checkGrads(sq, [f64([0.5, -1.5])], { order: 3 });
  });

  it("several arguments, a number argument, and null for an input without a gradient", () => {
    const scaled = customVjp(
      (a: Tensor, b: Tensor, c: number) => mul(mul(a, b), c),
      (a: Tensor, b: Tensor, c: number): [Tensor, [Tensor, Tensor, number]] => [mul(mul(a, b), c), [a, b, c]],
      ([, b, c]: [Tensor, Tensor, number], ct: Tensor) => [mul(ct, mul(b, c)), null, null],
    );
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(scaled(a, b, 4)), { argnums: [0, 1] })(f64([1, 2]), f64([3, 5]));
    expect(ga.toArray()).toEqual([12, 20]);
    expect(gb.toArray()).toEqual([0, 0]);
  });

  it("nested levels stay apart: d/dx [x · d/dy g(x, y)] = 1 for g = x + y", () => {
    const g = customVjp((x: Tensor, y: Tensor) => add(x, y), (x: Tensor, y: Tensor): [Tensor, null] => [add(x, y), null], (_r: null, ct: Tensor) => [ct, ct]);
    const outer = (x: Tensor) => mul(x, grad((y: Tensor) => g(x, y))(f64(2)));
    expect(grad(outer)(f64(3)).item()).toBe(1);
  });

  it("the engine checks bwd's output: count and shape, naming the op and input index", () => {
    const wrongCount = customVjp(square, (x: Tensor): [Tensor, Tensor] => [square(x), x], (_x: Tensor, ct: Tensor) => [ct, ct], { name: "sq" });
    expect(() => grad((x: Tensor) => sum(wrongCount(x)))(f64([1, 2]))).toThrow("sq: the custom VJP rule returned 2 cotangent(s), expected 1 (one per input)");
    const wrongShape = customVjp(square, (x: Tensor): [Tensor, Tensor] => [square(x), x], (_x: Tensor, ct: Tensor) => [sum(ct)], { name: "sq" });
    expect(() => grad((x: Tensor) => sum(wrongShape(x)))(f64([1, 2]))).toThrow(GradientError);
    expect(() => grad((x: Tensor) => sum(wrongShape(x)))(f64([1, 2]))).toThrow("sq: the custom VJP rule returned a cotangent of shape [] for input 0, expected [2] (the input's shape)");
  });
});

describe("customJvp", () => {
  const stable = customJvp(naive, ([x], [t]) => [naive(x!), mul(t!, sigmoid(x!))], { name: "log1pexp" });

  it("forward mode calls the rule; reverse mode transposes it", () => {
    expect(jvp(stable, [f64(1000)], [f64(2)])[1].item()).toBe(2);
    expect(grad(stable)(f64(1000)).item()).toBe(1);
    expect(grad(stable)(f64(0)).item()).toBe(0.5);
  });

  it("the rule is really used: a rule claiming cos for sin shows up in both modes", () => {
    const fake = customJvp(sin, ([x], [t]) => [sin(x!), mul(t!, mul(cos(x!), 2))]);
    expect(jvp(fake, [f64(0)], [f64(1)])[1].item()).toBe(2);
    expect(grad(fake)(f64(0)).item()).toBe(2);
  });

  it("higher order differentiates the rule; matches finite differences to order 3 in all mode pairs", () => {
    const s = customJvp(sin, ([x], [t]) => [sin(x!), mul(t!, cos(x!))]);
    expect(grad(grad(s))(f64(0.5)).item()).toBeCloseTo(-Math.sin(0.5), 14);
    checkGrads(s, [f64([0.2, -1.3, 2.0])], { order: 3 });
    checkGrads((a: Tensor, b: Tensor) => stable(mul(a, b)), [f64([0.5, -2]), f64([3, 0.25])]);
  });

  it("two arguments: the transposed rule gives both gradients", () => {
    const prodRule = customJvp((a: Tensor, b: Tensor) => mul(a, b), ([a, b], [ta, tb]) => [mul(a!, b!), add(mul(ta!, b!), mul(a!, tb!))]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(prodRule(a, b)), { argnums: [0, 1] })(f64([1, 2]), f64([3, 4]));
    expect([ga.toArray(), gb.toArray()]).toEqual([[3, 4], [1, 2]]);
  });

  it("a rule whose tangent has the wrong shape is a GradientError naming the op", () => {
    const bad = customJvp(sin, ([x], [t]) => [sin(x!), sum(t!)], { name: "badSin" });
    expect(() => jvp(bad, [f64([1, 2])], [f64([1, 1])])).toThrow("badSin: the JVP rule returned a tangent of shape [], expected [2] (the output's shape)");
    expect(() => grad((x: Tensor) => sum(bad(x)))(f64([1, 2]))).toThrow(GradientError);
  });
});

describe("checkGrads", () => {
  it("passes correct rules (order 2, both modes) for a multi-argument function with broadcasting", () => {
    checkGrads((a: Tensor, b: Tensor) => div(mul(sin(a), b), add(square(b), 1)), [randn([2, 3], { dtype: "float64", seed: 3 }), randn([3], { dtype: "float64", seed: 4 })]);
  });

  it("catches a wrong reverse rule, naming the argument, the worst element and both values", () => {
    const wrong = customVjp((a: Tensor, b: Tensor) => mul(a, b), (a: Tensor, b: Tensor): [Tensor, Tensor[]] => [mul(a, b), [a, b]], ([a, b]: Tensor[], ct: Tensor) => [mul(ct, b!), mul(ct, mul(a!, 1.5))], { name: "badMul" });
    let msg = "";
    try {
      checkGrads(wrong, [f64([1, 2, 3]), f64([4, 5, 6])], { order: 1 });
    } catch (e) {
      expect(e).toBeInstanceOf(GradientError);
      msg = (e as Error).message;
    }
    // The pullback goes through a random cotangent u, so the values are u₂·4.5 and u₂·3 (b's rule is 1.5× too big).
    const m = /^checkGrads: reverse mode disagrees with central differences \(badMul, argument 1, derivative order 1\): input element \[(\d)\]: vjp gives (\S+), central differences give (\S+) \(rtol/.exec(msg);
    expect(m, msg).not.toBeNull();
    const [k, got, want] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(got / want).toBeCloseTo(1.5, 8);
    expect(k).toBeGreaterThanOrEqual(0);
  });

  it("catches a wrong forward rule, naming the output element", () => {
    const wrong = customJvp((x: Tensor) => square(x), ([x], [t]) => [square(x!), mul(t!, mul(x!, 3))], { name: "badSquare" });
    expect(() => checkGrads(wrong, [f64([1, 2])], { modes: ["fwd"] })).toThrow(/badSquare, argument 0, derivative order 1\): output element \[[01]\]: jvp gives/);
  });

  it("catches a wrong second derivative that first-order checks miss", () => {
    // First derivative right (cos), but its own derivative is claimed to be 0 (stopGradient-like rule).
    const flat = customJvp(sin, ([x], [t]) => [sin(x!), mul(t!, tensor(cos(x!)))]); // tensor() copies the value: a constant
    checkGrads(flat, [f64([0.3, 1.2])], { order: 1 });
    expect(() => checkGrads(flat, [f64([0.3, 1.2])], { order: 2 })).toThrow(/derivative order 2/);
  });

  it("validates its options", () => {
    expect(() => checkGrads(sin, [f64(1)], { order: 0 })).toThrow("checkGrads: order must be a positive integer, got 0");
    expect(() => checkGrads(sin, [f64(1)], { modes: [] })).toThrow(/modes must be a non-empty list/);
    expect(() => checkGrads((_x: Tensor) => reshape(f64(1), [1]).astype("int32"), [f64(1)])).toThrow("checkGrads: f must return a float tensor, got dtype int32");
  });
});
