import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { anywhere, awayFromZero, binarySpec, broadcastShapes, positive, propertyTable, seedArb, unarySpec, values, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });

const unary: OpSpec[] = [
  unarySpec("neg", c.neg),
  unarySpec("abs", c.abs),
  unarySpec("sign", c.sign),
  unarySpec("exp", c.exp),
  unarySpec("expm1", c.expm1),
  unarySpec("log", c.log, positive),
  unarySpec("log1p", c.log1p, (v) => Math.abs(v) - 0.7),
  unarySpec("sqrt", c.sqrt, positive),
  unarySpec("rsqrt", c.rsqrt, positive),
  unarySpec("square", c.square),
  unarySpec("reciprocal", c.reciprocal, awayFromZero),
  unarySpec("sin", c.sin),
  unarySpec("cos", c.cos),
  unarySpec("tan", c.tan, (v) => 1.2 * Math.tanh(v)),
  unarySpec("tanh", c.tanh),
  unarySpec("sigmoid", c.sigmoid),
  unarySpec("relu", c.relu),
  unarySpec("erf", c.erf),
  unarySpec("softplus", c.softplus, (v) => 4 * v),
  unarySpec("gelu", (x) => c.gelu(x)),
  unarySpec("gelu tanh", (x) => c.gelu(x, { approximate: "tanh" })),
  unarySpec("leakyRelu", (x) => c.leakyRelu(x, 0.1)),
  unarySpec("elu", (x) => c.elu(x, 1.5)),
  unarySpec("clip", (x) => c.clip(x, -0.5, 0.7)),
  unarySpec("cast (float64 → float64 identity path)", (x) => c.mul(c.cast(x, "float64"), x)),
  unarySpec("Tensor methods chain", (x) => x.mul(2).sin().square().add(x.tanh())),
];

const binary: OpSpec[] = [
  binarySpec("add", c.add),
  binarySpec("sub", c.sub),
  binarySpec("mul", c.mul),
  binarySpec("div", c.div, anywhere, awayFromZero),
  binarySpec("pow", c.pow, positive, anywhere),
  binarySpec("maximum", c.maximum),
  binarySpec("minimum", c.minimum),
  binarySpec("atan2", c.atan2, awayFromZero, awayFromZero),
  binarySpec("clip with tensor bounds", (x, lo) => c.clip(x, lo, c.add(lo, 1))),
  {
    name: "where (random condition, broadcast three ways)",
    cases: fc.tuple(broadcastShapes(3), seedArb).map(([[sc, sa, sb], seed]) => ({
      args: [values(sa!, seed), values(sb!, seed + 1), c.greater(values(sc!, seed + 2), 0)],
      fn: (a: Tensor, b: Tensor, cond: Tensor) => c.where(cond, c.mul(a, b), c.sin(b)),
      label: `where ${JSON.stringify([sc, sa, sb])}`,
    })),
  },
];

describe("elementwise ops: property table (random shapes with broadcasting, size-1 and size-0 dims)", () => {
  propertyTable(unary, { numRuns: 25 });
  propertyTable(binary, { numRuns: 25 });
});

describe("erf and the activations: values", () => {
  it("erf matches CPython 3.11's math.erf to 1e-15 across Cody's three ranges", () => {
    const xs = [-6, -3, -0.5, 0, 1e-10, 0.3, 0.46875, 1, 2.5, 4.5, 6];
    const ref = [-1.0, -0.9999779095030014, -0.5204998778130465, 0.0, 1.1283791670955126e-10, 0.3286267594591274, 0.49261347321793797, 0.8427007929497149, 0.999593047982555, 0.9999999998033839, 1.0];
    expectAllClose(c.erf(f64(xs)), ref, 1e-15, 0);
    expect(Number.isNaN(c.erf(f64(NaN)).item())).toBe(true);
    expect(c.erf(f64([Infinity, -Infinity])).toArray()).toEqual([1, -1]);
  });

  it("erf is float32 for float32 and int inputs, float64 for float64", () => {
    expect(c.erf(c.tensor([1])).dtype).toBe("float32");
    expect(c.erf(c.tensor([1], { dtype: "int32" })).dtype).toBe("float32");
    expect(c.erf(f64([1])).dtype).toBe("float64");
  });

  it("gelu (exact and tanh) match PyTorch 1.13's F.gelu", () => {
    const x = f64([-3, -1, 0, 0.5, 2]);
    expectAllClose(c.gelu(x), [-0.00404969409489031, -0.15865525393145702, 0.0, 0.34573123063700656, 1.9544997361036416], 1e-14);
    expectAllClose(c.gelu(x, { approximate: "tanh" }), [-0.0036373920817729943, -0.15880800939172324, 0.0, 0.34571400982514394, 1.954597694087775], 1e-14);
    expect(() => c.gelu(x, { approximate: "fast" as "tanh" })).toThrow('gelu: approximate must be "none" or "tanh", got "fast"');
  });

  it("softplus is exact and finite at ±1000 (where log(1+eˣ) overflows), gradient σ(x)", () => {
    expectAllClose(c.softplus(f64([-1000, -20, 0, 1, 20, 1000])), [0, 2.061153620314381e-9, 0.6931471805599453, 1.3132616875182228, 20.000000002061153, 1000], 1e-15);
    expectAllClose(c.grad((x: Tensor) => c.sum(c.softplus(x)))(f64([-1000, 0, 1000])), [0, 0.5, 1]);
  });

  it("leakyRelu, elu and clip values", () => {
    expect(c.leakyRelu(f64([-2, 0, 3])).toArray()).toEqual([-0.02, 0, 3]);
    expect(c.leakyRelu(f64([-2, 3]), 0.2).toArray()).toEqual([-0.4, 3]);
    expectAllClose(c.elu(f64([-1, 0, 2]), 2), [2 * Math.expm1(-1), 0, 2]);
    expect(c.elu(f64([1000])).item()).toBe(1000);
    expect(c.grad((x: Tensor) => c.sum(c.elu(x)))(f64([1000, -1000])).toArray()).toEqual([1, 0]); // no ∞·0
    expect(c.clip(f64([-3, -1, 0, 1, 3, NaN]), -1, 1).toArray()).toEqual([-1, -1, 0, 1, 1, NaN]);
    expect(c.clip(f64([-3, 3]), 2, 1).toArray()).toEqual([1, 1]); // lo > hi gives hi, as NumPy/PyTorch
    expect(c.clipByValue(c.tensor([5]), 0, 2).toArray()).toEqual([2]);
  });

  it("methods and functions agree and accept plain numbers", () => {
    const x = f64([0.5, -1.5]);
    expect(x.gelu().toArray()).toEqual(c.gelu(x).toArray());
    expect(x.erf().toArray()).toEqual(c.erf(x).toArray());
    expect(x.softplus().toArray()).toEqual(c.softplus(x).toArray());
    expect(x.leakyRelu(0.3).toArray()).toEqual(c.leakyRelu(x, 0.3).toArray());
    expect(x.elu().toArray()).toEqual(c.elu(x).toArray());
    expect(x.clip(0, 1).toArray()).toEqual([0.5, 0]);
    expect(c.erf(1).item()).toBeCloseTo(0.8427007929497149, 6);
  });
});

describe("broadcasting and dtypes", () => {
  it("NumPy broadcasting: [2,1,3] + [4,1] → [2,4,3], and the engine sums gradients back", () => {
    const a = values([2, 1, 3], 1), b = values([4, 1], 2);
    const s = c.add(a, b);
    expect(s.shape).toEqual([2, 4, 3]);
    const [ga, gb] = c.grad((p: Tensor, q: Tensor) => c.sum(c.add(p, q)), { argnums: [0, 1] })(a, b);
    expect(ga.toArray()).toEqual([[[4, 4, 4]], [[4, 4, 4]]]);
    expect(gb.toArray()).toEqual([[6], [6], [6], [6]]);
  });

  it("operands broadcast into reused scratch storage: successive ops of other sizes and dtypes keep every result right", () => {
    // a [r, 1] · b [1, k] broadcasts both operands; sizes shrink (a view of the scratch) and grow (a new one).
    const outer = (r: number, k: number, dtype: "float32" | "float64"): [Tensor, number[]] => {
      const a = c.tensor(Array.from({ length: r }, (_, i) => [i + 1]), { dtype });
      const b = c.tensor([Array.from({ length: k }, (_, j) => (j % 7) - 3)], { dtype });
      const want: number[] = [];
      for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) want.push((i + 1) * ((j % 7) - 3));
      return [c.mul(a, b), want];
    };
    const runs = [outer(300, 64, "float32"), outer(40, 16, "float32"), outer(50, 20, "float64"), outer(500, 96, "float32"), outer(3, 5, "float32")];
    // Checked after all of them ran: no result shares storage with the scratch or with another result.
    for (const [t, want] of runs) expect(Array.from(t.data)).toEqual(want);
    // A bias row added to [N, L, F] activations, as a linear layer does.
    const x = c.tensor(Array.from({ length: 2 }, (_, n) => Array.from({ length: 3 }, (_, l) => Array.from({ length: 4 }, (_, f) => 100 * n + 10 * l + f))));
    expect(c.add(x, c.tensor([0.5, 1.5, 2.5, 3.5])).toArray()).toEqual(
      Array.from({ length: 2 }, (_, n) => Array.from({ length: 3 }, (_, l) => Array.from({ length: 4 }, (_, f) => 100 * n + 10 * l + f + f + 0.5))),
    );
  });

  it("shape errors name the op and both shapes", () => {
    expect(() => c.add(c.zeros([2, 3]), c.zeros([4]))).toThrow("add: shapes cannot be broadcast together: [2,3] and [4]");
    expect(() => c.where(c.zeros([2], "bool"), c.zeros([3]), 0)).toThrow(/^where: shapes cannot be broadcast together: \[2\] and \[3\]/);
  });

  it("dtype promotion: int32 + float32 → float32, float32 + float64 → float64, numbers adopt the tensor's dtype", () => {
    expect(c.add(c.tensor([1], { dtype: "int32" }), c.tensor([1])).dtype).toBe("float32");
    expect(c.add(c.tensor([1]), f64([1])).dtype).toBe("float64");
    expect(c.add(c.tensor([1], { dtype: "int32" }), 2).dtype).toBe("int32");
    expect(c.add(c.tensor([1], { dtype: "int32" }), 2.5).dtype).toBe("float32");
    expect(c.mul(2, f64([3])).dtype).toBe("float64");
    expect(c.div(c.tensor([1], { dtype: "int32" }), c.tensor([2], { dtype: "int32" })).toArray()).toEqual([0.5]);
  });

  it("comparisons give bool and carry no gradient", () => {
    const x = f64([1, 2, 3]);
    expect(c.equal(x, 2).toArray()).toEqual([false, true, false]);
    expect(c.notEqual(x, 2).toArray()).toEqual([true, false, true]);
    expect(c.greater(x, 2).toArray()).toEqual([false, false, true]);
    expect(c.greaterEqual(x, 2).toArray()).toEqual([false, true, true]);
    expect(c.less(x, 2).toArray()).toEqual([true, false, false]);
    expect(c.lessEqual(x, 2).dtype).toBe("bool");
    expect(c.grad((t: Tensor) => c.sum(c.mul(c.cast(c.greater(t, 1.5), "float64"), t)))(x).toArray()).toEqual([0, 1, 1]);
  });

  it("stopGradient: the value passes, the derivative is 0 in both modes and at second order", () => {
    const f = (x: Tensor) => c.sum(c.mul(c.stopGradient(c.square(x)), x));
    const x = f64([1, 2]);
    expect(f(x).item()).toBe(9);
    expect(c.grad(f)(x).toArray()).toEqual([1, 4]); // only the unstopped factor
    expect(c.jvp(f, [x], [f64([1, 0])])[1].item()).toBe(1);
    expect(c.hessian(f)(x).toArray()).toEqual([[0, 0], [0, 0]]);
  });

  it("bool and int32 inputs cannot be differentiated: a clear DTypeError", () => {
    expect(() => c.grad((t: Tensor) => c.sum(t))(c.tensor([true, false]))).toThrow(/grad: cannot differentiate with respect to argument 0: it has dtype bool/);
    expect(() => c.jvp((t: Tensor) => t, [c.tensor([1], { dtype: "int32" })], [c.tensor([1], { dtype: "int32" })])).toThrow(c.DTypeError);
  });
});
