import { describe, expect, it } from "vitest";
import * as c from "../src/index.js";
import type { NestedArray } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { anywhere, awayFromZero, binarySpec, positive, propertyTable, unarySpec, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });
const inUnit = (v: number) => 0.9 * Math.tanh(v);

const unary: OpSpec[] = [
  unarySpec("round", c.round),
  unarySpec("floor", c.floor),
  unarySpec("ceil", c.ceil),
  unarySpec("trunc", c.trunc),
  unarySpec("floor inside a product (zero derivative composes)", (x) => c.mul(c.floor(c.mul(x, 3)), x)),
  unarySpec("log2", c.log2, positive),
  unarySpec("log10", c.log10, positive),
  unarySpec("exp2", c.exp2),
  unarySpec("asin", c.asin, inUnit),
  unarySpec("acos", c.acos, inUnit),
  unarySpec("atan", c.atan),
  unarySpec("sinh", c.sinh),
  unarySpec("cosh", c.cosh),
  unarySpec("asinh", c.asinh, (v) => 3 * v),
  unarySpec("acosh", c.acosh, (v) => 1.2 + Math.abs(v)),
  unarySpec("atanh", c.atanh, inUnit),
  unarySpec("nanToNum (finite values pass through)", (x) => c.mul(c.nanToNum(x), x)),
];

const binary: OpSpec[] = [
  binarySpec("remainder", c.remainder, anywhere, awayFromZero),
  binarySpec("logaddexp", c.logaddexp, (v) => 3 * v, (v) => 3 * v),
];

describe("elementwise math (issue 12): property table", () => {
  propertyTable(unary, { numRuns: 20 });
  propertyTable(binary, { numRuns: 20 });
});

describe("rounding", () => {
  it("round halves to even and keeps the sign of zero, as PyTorch and NumPy", () => {
    const r = c.round(f64([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.6, -2.6, 1e300, NaN, Infinity]));
    expect(Array.from(r.data)).toEqual([0, 2, 2, -0, -2, -2, 0, 3, -3, 1e300, NaN, Infinity]);
    expect(Object.is(r.data[3], -0)).toBe(true);
  });

  it("floor, ceil, trunc differ exactly on negative non-integers", () => {
    const x = f64([-2.5, -1, 0, 1.25, 3.999]);
    expect(Array.from(c.floor(x).data)).toEqual([-3, -1, 0, 1, 3]);
    expect(Array.from(c.ceil(x).data)).toEqual([-2, -1, 0, 2, 4]);
    expect(Array.from(c.trunc(x).data)).toEqual([-2, -1, 0, 1, 3]);
  });

  it("keep int dtypes and float32", () => {
    const i = c.tensor([3, -4], { dtype: "int32" });
    expect(c.floor(i).dtype).toBe("int32");
    expect(c.round(i).toArray()).toEqual([3, -4]);
    expect(c.ceil(c.tensor([1.2])).dtype).toBe("float32");
  });

  it("have zero derivative in both modes, also at the jumps", () => {
    for (const op of [c.round, c.floor, c.ceil, c.trunc]) {
      expect(c.grad((x: c.Tensor) => c.sum(op(x)))(f64([0.5, 1, -2.3])).toArray()).toEqual([0, 0, 0]);
      expect(c.jvp((x: c.Tensor) => op(x), [f64([0.5, 2])], [f64([1, 1])])[1].toArray()).toEqual([0, 0]);
    }
  });
});

describe("remainder", () => {
  it("takes the sign of the divisor (Python's %, PyTorch's remainder)", () => {
    expect(c.remainder(f64([-7, 7, -7.5, 5.5, 6]), f64([3, -3, 2, -2, 3])).toArray()).toEqual([2, -2, 0.5, -0.5, 0]);
    expect(c.mod(c.tensor([-7, 7], { dtype: "int32" }), 3).toArray()).toEqual([2, 1]);
    expect(c.remainder(c.tensor([-7], { dtype: "int32" }), 3).dtype).toBe("int32");
  });

  it("is exact where a − b·floor(a/b) rounds: 1e17 mod 3 in float64", () => {
    // 1e17 = 33333333333333333·3 + 1 exactly; the naive formula loses it to rounding.
    expect(c.remainder(f64(1e17), f64(3)).item()).toBe(1);
  });

  it("float division by zero is NaN, integer division by zero an error naming the op", () => {
    expect(Number.isNaN(c.remainder(f64(1), f64(0)).item())).toBe(true);
    expect(() => c.remainder(c.tensor([1, 2], { dtype: "int32" }), c.tensor([1, 0], { dtype: "int32" }))).toThrow(/remainder: integer division by zero/);
  });

  it("gradients: 1 for a and −floor(a/b) for b (PyTorch)", () => {
    const [ga, gb] = c.grad((a: c.Tensor, b: c.Tensor) => c.sum(c.remainder(a, b)), { argnums: [0, 1] })(f64([7.5, -7.5]), f64([2, 2]));
    expect(ga!.toArray()).toEqual([1, 1]);
    expect(gb!.toArray()).toEqual([-3, 4]);
  });
});

describe("logarithms, powers, inverse trigonometric and hyperbolic functions: values", () => {
  it("match CPython's math module", () => {
    expectAllClose(c.log2(f64([8, 0.5, 1024])), [3, -1, 10], 0, 0);
    expectAllClose(c.log10(f64([1000, 0.01])), [3, -2], 0, 0);
    expectAllClose(c.exp2(f64([0.5, 10, -1])), [1.4142135623730951, 1024, 0.5], 1e-15, 0);
    expectAllClose(c.asin(f64(0.5)), 0.5235987755982989, 1e-15, 0);
    expectAllClose(c.acos(f64(-0.5)), 2.0943951023931957, 1e-15, 0);
    expectAllClose(c.atan(f64(2)), 1.1071487177940904, 1e-15, 0);
    expectAllClose(c.sinh(f64(1.5)), 2.1292794550948173, 1e-15, 0);
    expectAllClose(c.cosh(f64(-2)), 3.7621956910836314, 1e-15, 0);
    expectAllClose(c.asinh(f64(3)), 1.8184464592320668, 1e-15, 0);
    expectAllClose(c.acosh(f64(2.5)), 1.566799236972411, 1e-15, 0);
    expectAllClose(c.atanh(f64(-0.3)), -0.30951960420311175, 1e-15, 0);
  });

  it("float-only functions give float32 for int inputs; domain edges follow IEEE 754", () => {
    expect(c.log2(c.tensor([4], { dtype: "int32" })).dtype).toBe("float32");
    expect(c.asin(f64([2])).data[0]).toBeNaN();
    expect(c.atanh(f64([1, -1])).toArray()).toEqual([Infinity, -Infinity]);
    expect(c.grad((x: c.Tensor) => c.sum(c.asin(x)))(f64([1])).toArray()).toEqual([Infinity]);
  });

  it("derivatives at hand points: d asin(0.6) = 1.25, d acosh(1.25) = 4/3, d log2(4) = 1/(4 ln 2)", () => {
    expectAllClose(c.grad((x: c.Tensor) => c.sum(c.asin(x)))(f64([0.6])), [1.25], 1e-14, 0);
    expectAllClose(c.grad((x: c.Tensor) => c.sum(c.acosh(x)))(f64([1.25])), [4 / 3], 1e-14, 0);
    expectAllClose(c.grad((x: c.Tensor) => c.sum(c.log2(x)))(f64([4])), [1 / (4 * Math.LN2)], 1e-15, 0);
  });
});

describe("logaddexp", () => {
  it("is exact for large and far-apart inputs (NumPy's values)", () => {
    expectAllClose(c.logaddexp(f64([1000, -1e10, 0]), f64([999, 1, 0])), [1000.3132616875182, 1, Math.LN2], 1e-15, 0);
  });

  it("handles infinities as NumPy: (−∞, −∞) → −∞, (∞, x) → ∞, (−∞, x) → x", () => {
    expect(c.logaddexp(f64([-Infinity, Infinity, -Infinity]), f64([-Infinity, 3, 3])).toArray()).toEqual([-Infinity, Infinity, 3]);
  });

  it("splits the gradient evenly at ties and gives σ(a − b) elsewhere", () => {
    const [ga, gb] = c.grad((a: c.Tensor, b: c.Tensor) => c.sum(c.logaddexp(a, b)), { argnums: [0, 1] })(f64([2, 1]), f64([2, 0]));
    expectAllClose(ga!, [0.5, 1 / (1 + Math.exp(-1))], 1e-15, 0);
    expectAllClose(gb!, [0.5, 1 / (1 + Math.exp(1))], 1e-15, 0);
  });
});

describe("logical ops and value tests (bool results, no gradient)", () => {
  it("and, or, xor, not follow truth tables with NaN counted as true", () => {
    const a = c.tensor([true, true, false, false]);
    const b = c.tensor([true, false, true, false]);
    expect(c.logicalAnd(a, b).toArray()).toEqual([true, false, false, false]);
    expect(c.logicalOr(a, b).toArray()).toEqual([true, true, true, false]);
    expect(c.logicalXor(a, b).toArray()).toEqual([false, true, true, false]);
    expect(c.logicalNot(f64([0, 2, NaN, -0])).toArray()).toEqual([true, false, false, true]);
    expect(c.logicalAnd(f64([NaN, 0.5]), 3).dtype).toBe("bool");
  });

  it("isnan, isinf, isfinite", () => {
    const x = f64([1, NaN, Infinity, -Infinity, -0]);
    expect(c.isnan(x).toArray()).toEqual([false, true, false, false, false]);
    expect(c.isinf(x).toArray()).toEqual([false, false, true, true, false]);
    expect(c.isfinite(x).toArray()).toEqual([true, false, false, false, true]);
    expect(c.isfinite(c.tensor([3], { dtype: "int32" })).toArray()).toEqual([true]);
  });

  it("any and all reduce over axes; empty any is false and empty all is true", () => {
    const x = c.tensor([[0, 1, 0], [2, 3, NaN]]);
    expect(c.any(x).item()).toBe(1);
    expect(c.all(x).item()).toBe(0);
    expect(c.all(x, 1).toArray()).toEqual([false, true]);
    expect(c.any(x, 0, true).toArray()).toEqual([[true, true, true]]);
    expect(c.any(c.zeros([0])).toArray()).toEqual(false);
    expect(c.all(c.zeros([0])).toArray()).toEqual(true);
  });

  it("nanToNum replaces NaN and infinities and routes the gradient to kept values only", () => {
    const x = f64([1, NaN, Infinity, -Infinity]);
    expect(c.nanToNum(x).toArray()).toEqual([1, 0, Number.MAX_VALUE, -Number.MAX_VALUE]);
    expect(c.nanToNum(c.tensor([Infinity])).toArray()).toEqual([3.4028234663852886e38]);
    expect(c.nanToNum(x, { nan: -1, posinf: 9, neginf: -9 }).toArray()).toEqual([1, -1, 9, -9]);
    expect(c.grad((t: c.Tensor) => c.sum(c.nanToNum(t)))(x).toArray()).toEqual([1, 0, 0, 0]);
  });

  it("logical results carry no gradient", () => {
    const g = c.grad((t: c.Tensor) => c.sum(c.mul(t, c.cast(c.logicalAnd(c.greater(t, 0), c.isfinite(t)), "float64"))))(f64([1, -1]));
    expect(g.toArray()).toEqual([1, 0]);
  });
});
