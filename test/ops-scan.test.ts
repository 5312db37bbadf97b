import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { propertyTable, seedArb, shapeArb, values, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });

/** A scan spec: random shape of rank ≥ 1, random axis (maybe negative), values through `domain`. */
function scanSpec(name: string, fn: (x: Tensor, axis: number) => Tensor, domain: (v: number) => number = (v) => v): OpSpec {
  return {
    name,
    cases: fc
      .tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 }), seedArb)
      .chain(([shape, seed]) => fc.integer({ min: -shape.length, max: shape.length - 1 }).map((axis) => ({ shape, seed, axis })))
      .map(({ shape, seed, axis }) => ({
        args: [values(shape, seed, domain)],
        fn: (x: Tensor) => fn(x, axis),
        label: `${name} ${JSON.stringify(shape)} axis ${axis}`,
      })),
  };
}

// Every third value exactly 0: cumprod is a polynomial, so finite differences are exact there too and
// check the zero-handling rules at first and second order.
const someZeros = (v: number): number => (Math.abs(v) < 0.45 ? 0 : v);

const specs: OpSpec[] = [
  scanSpec("cumsum", (x, a) => c.cumsum(x, a)),
  scanSpec("cumsum reverse", (x, a) => c.cumsum(x, a, { reverse: true })),
  scanSpec("cumprod", (x, a) => c.cumprod(x, a)),
  scanSpec("cumprod with zeros", (x, a) => c.cumprod(x, a), someZeros),
  scanSpec("logcumsumexp", (x, a) => c.logcumsumexp(x, a), (v) => 3 * v),
];

describe("scans: property table", () => {
  propertyTable(specs, { numRuns: 20 });
});

describe("scans: values", () => {
  it("cumsum along axes, flattened without one, reverse, ints in int32", () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    expect(c.cumsum(x, 1).toArray()).toEqual([[1, 3, 6], [4, 9, 15]]);
    expect(c.cumsum(x, 0).toArray()).toEqual([[1, 2, 3], [5, 7, 9]]);
    expect(c.cumsum(x, -1, { reverse: true }).toArray()).toEqual([[6, 5, 3], [15, 11, 6]]);
    expect(c.cumsum(x).toArray()).toEqual([1, 3, 6, 10, 15, 21]);
    const b = c.cumsum(c.tensor([true, false, true]));
    expect([b.dtype, b.toArray()]).toEqual(["int32", [1, 1, 2]]);
    expect(c.cumsum(f64(5)).toArray()).toEqual(5);
    expect(() => c.cumsum(x, 2)).toThrow(/cumsum: axis 2 is out of range/);
  });

  it("cumprod values and its exact gradient with zeros (PyTorch's values)", () => {
    const x = f64([2, 0, 3, 0, 5]);
    expect(c.cumprod(x).toArray()).toEqual([2, 0, 0, 0, 0]);
    // d/dx_i Σ_j out_j: out = [x0, x0x1, x0x1x2, x0x1x2x3, …]; at x1 = 0 only terms through x1 count.
    // dx0 = 1 + x1 + … = 1; dx1 = x0 + x0x2 + x0x2x3 + x0x2x3x4 = 2 + 6 + 0 + 0 = 8; dx2 = x0x1 = 0 …
    expect(c.grad((t: Tensor) => c.sum(c.cumprod(t)))(x).toArray()).toEqual([1, 8, 0, 0, 0]);
    const [, tan] = c.jvp((t: Tensor) => c.cumprod(t), [x], [f64([0, 1, 0, 0, 0])]);
    expect(tan.toArray()).toEqual([0, 2, 6, 0, 0]);
    expect(c.grad((t: Tensor) => c.sum(c.cumprod(t)))(f64([0, 0, 4])).toArray()).toEqual([1, 0, 0]);
  });

  it("logcumsumexp is exact for far-apart inputs and keeps −∞ prefixes", () => {
    expectAllClose(c.logcumsumexp(f64([-1000, 0, 1000])), [-1000, 0, 1000], 1e-15, 0);
    expectAllClose(c.logcumsumexp(f64([0, 0, Math.log(2)])), [0, Math.LN2, Math.log(4)], 1e-15, 0);
    expect(c.logcumsumexp(f64([-Infinity, -Infinity, 1])).toArray()).toEqual([-Infinity, -Infinity, 1]);
    // Gradient of the last entry is the softmax of the inputs; no NaN from −∞ or far-apart inputs.
    const g = c.grad((t: Tensor) => c.sum(c.slice(c.logcumsumexp(t), [2], [3])))(f64([-1000, 0, 0]));
    expectAllClose(g, [0, 0.5, 0.5], 1e-15, 0);
  });

  it("logcumsumexp gradients with −∞ inputs and cotangents of both signs are finite and exact", () => {
    // g_i = Σ_{j ≥ i} w_j·exp(x_i − out_j) with out = [−∞, 0, log(1 + e)]
    const w = f64([1, -2, 3]);
    const g = c.grad((t: Tensor) => c.sum(c.mul(c.logcumsumexp(t), w)))(f64([-Infinity, 0, 1]));
    const e = Math.E;
    expectAllClose(g, [0, -2 + 3 / (1 + e), (3 * e) / (1 + e)], 1e-15, 0);
    const [, tangent] = c.jvp((t: Tensor) => c.logcumsumexp(t), [f64([-Infinity, 0, 1])], [f64([5, -1, 2])]);
    expectAllClose(tangent, [0, -1, (-1 + 2 * e) / (1 + e)], 1e-15, 0);
    // Second order: the last output's softmax weight of x₂ is σ(1), whose derivatives are ∓σ(1)(1 − σ(1)).
    const s = 1 / (1 + Math.exp(-1));
    const last = (u: Tensor) => c.sum(c.slice(c.logcumsumexp(u), [2], [3]));
    const h = c.grad((t: Tensor) => c.sum(c.slice(c.grad(last)(t), [2], [3])))(f64([-Infinity, 0, 1]));
    expectAllClose(h, [0, -s * (1 - s), s * (1 - s)], 1e-15, 1e-16);
  });
});
