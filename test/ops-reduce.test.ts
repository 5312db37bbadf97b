import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { axisArb, propertyTable, seedArb, shapeArb, values, type OpSpec, type ShapeOptions } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });
type Axis = number | number[] | undefined;

/** A reduction spec: random shape, axis (none, one — maybe negative — or a list) and keepDims. */
function reduceSpec(
  name: string,
  fn: (x: Tensor, axis: Axis, keepDims: boolean) => Tensor,
  shapes: ShapeOptions = {},
  extra: Partial<OpSpec> = {},
  accept: (shape: number[], axis: Axis) => boolean = () => true,
): OpSpec {
  return {
    name,
    // `accept` filters whole cases (shape and axis together): a filter inside `chain` would spin forever on
    // a shape for which no axis passes.
    cases: shapeArb(shapes)
      .chain((shape) => fc.tuple(fc.constant(shape), axisArb(shape.length), fc.boolean(), seedArb))
      .filter(([s, axis]) => accept(s, axis))
      .map(([s, axis, keep, seed]) => ({
        args: [values(s, seed)],
        fn: (x: Tensor) => fn(x, axis, keep),
        label: `${name} shape ${JSON.stringify(s)} axis ${JSON.stringify(axis)} keepDims ${keep}`,
      })),
    ...extra,
  };
}

/** Ops along one axis (softmax family). */
function axisSpec(name: string, fn: (x: Tensor, axis: number) => Tensor): OpSpec {
  return {
    name,
    cases: shapeArb({ minRank: 1, minDim: 1 }).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }), seedArb).map(([s, axis, seed]) => ({
        args: [values(s, seed)],
        fn: (x: Tensor) => fn(x, axis),
        label: `${name} shape ${JSON.stringify(s)} axis ${axis}`,
      })),
    ),
  };
}

/** How many elements each output of a reduction over `axis` sums (all axes when undefined). */
function reducedCount(shape: number[], axis: Axis): number {
  const axes = axis === undefined ? shape.map((_, i) => i) : typeof axis === "number" ? [axis] : axis;
  return axes.reduce((n, a) => n * shape[a < 0 ? a + shape.length : a]!, 1);
}

// Reductions whose value over an empty axis is not a finite constant (mean → NaN, max → −∞) get
// non-empty dimensions; sum, prod and the 2-norm also run on size-0 dimensions.
const nonEmpty: ShapeOptions = { minDim: 1 };

const specs: OpSpec[] = [
  reduceSpec("sum", (x, a, k) => c.sum(x, a, k)),
  reduceSpec("mean", (x, a, k) => c.mean(x, a, k), nonEmpty),
  reduceSpec("max", (x, a, k) => c.max(x, a, k), nonEmpty),
  reduceSpec("min", (x, a, k) => c.min(x, a, k), nonEmpty),
  reduceSpec("prod", (x, a, k) => c.prod(x, a, k)),
  reduceSpec("variance", (x, a, k) => c.variance(x, a, k), nonEmpty),
  // Correction 1 divides by n − 1: its domain is n ≥ 2 reduced elements (at n = 1 it is 0/0 everywhere).
  reduceSpec("variance correction 1", (x, a, k) => c.variance(x, a, k, { correction: 1 }), { minDim: 2 }, {}, (s, a) => reducedCount(s, a) >= 2),
  reduceSpec("std", (x, a, k) => c.std(x, a, k), nonEmpty),
  reduceSpec("norm 2", (x, a, k) => c.norm(x, 2, a, k)),
  reduceSpec("norm 1", (x, a, k) => c.norm(x, 1, typeof a === "object" ? a.slice(0, 1) : a, k)),
  reduceSpec("norm Infinity", (x, a, k) => c.norm(x, Infinity, typeof a === "object" ? a.slice(0, 1) : a, k), nonEmpty),
  reduceSpec("norm -Infinity", (x, a, k) => c.norm(x, -Infinity, typeof a === "object" ? a.slice(0, 1) : a, k), nonEmpty),
  reduceSpec("logsumexp (nn)", (x, a, k) => c.nn.logsumexp(x, a, k), nonEmpty),
  reduceSpec("Tensor methods: x.prod().mul(x.sum())", (x, a, k) => x.prod(a, k).mul(x.sum(a, k))),
  axisSpec("softmax (nn)", (x, a) => c.nn.softmax(x, a)),
  axisSpec("logSoftmax (nn)", (x, a) => c.nn.logSoftmax(x, a)),
];

describe("reductions: property table (random shapes, axes incl. negative and lists, keepDims)", () => {
  propertyTable(specs, { numRuns: 25 });
});

describe("prod", () => {
  it("values, axes, keepDims; empty product is 1; ints stay int32", () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    expect(c.prod(x).item()).toBe(720);
    expect(c.prod(x, 1).toArray()).toEqual([6, 120]);
    expect(c.prod(x, -2, true).toArray()).toEqual([[4, 10, 18]]);
    expect(c.prod(c.zeros([2, 0])).toArray()).toEqual(1);
    expect(c.prod(c.zeros([2, 0]), 1).toArray()).toEqual([1, 1]);
    const i = c.prod(c.tensor([2, 3], { dtype: "int32" }));
    expect([i.dtype, i.item()]).toEqual(["int32", 6]);
    expect(x.prod(0).toArray()).toEqual([4, 10, 18]);
  });

  it("gradient is the product of the others, exactly, with zero, one or two zeros per slice", () => {
    const g = c.grad((t: Tensor) => c.sum(c.prod(t, 1)));
    expect(g(f64([[2, 3, 4], [2, 0, 5], [0, 3, 0]])).toArray()).toEqual([[12, 8, 6], [0, 10, 0], [0, 0, 0]]);
    const [, t] = c.jvp((u: Tensor) => c.prod(u), [f64([2, 0, 5])], [f64([1, 1, 1])]);
    expect(t.item()).toBe(10);
  });

  it("second derivatives at one or two zeros are exact (∂²/∂xᵢ∂xⱼ = product of the rest)", () => {
    // prod([a, 0, c]) — Hessian [[0, c, 0], [c, 0, a], [0, a, 0]]
    expect(c.hessian((t: Tensor) => c.prod(t))(f64([2, 0, 5])).toArray()).toEqual([[0, 5, 0], [5, 0, 2], [0, 2, 0]]);
    // Two zeros: only the pair of zeros has a non-zero second derivative (the product of the rest).
    expect(c.hessian((t: Tensor) => c.prod(t))(f64([2, 0, 0])).toArray()).toEqual([[0, 0, 0], [0, 0, 2], [0, 2, 0]]);
    expect(c.jacrev(c.jacrev((t: Tensor) => c.prod(t)))(f64([0, 3, 0, 5])).toArray()).toEqual([[0, 0, 15, 0], [0, 0, 0, 0], [15, 0, 0, 0], [0, 0, 0, 0]]);
    expect(c.hessian((t: Tensor) => c.prod(t))(f64([0, 0, 0])).toArray()).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    // Without zeros the rule is out/x, so the diagonal is 0 up to rounding.
    expectAllClose(c.hessian((t: Tensor) => c.prod(t))(f64([2, 3, 5])), [0, 5, 3, 5, 0, 2, 3, 2, 0], 1e-15, 1e-15);
  });
});

describe("argmax / argmin", () => {
  const x = f64([[1, 9, 3], [7, 2, 7]]);
  it("flattened by default (NumPy/PyTorch), per axis, negative axes, keepDims, int32", () => {
    const a = c.argmax(x);
    expect([a.dtype, a.shape, a.item()]).toEqual(["int32", [], 1]);
    expect(c.argmax(x, 0).toArray()).toEqual([1, 0, 1]);
    expect(c.argmax(x, -1).toArray()).toEqual([1, 0]);
    expect(c.argmin(x, 1, true).toArray()).toEqual([[0], [1]]);
    expect(c.argmin(x).item()).toBe(0);
    expect(x.argmax(1).toArray()).toEqual([1, 0]);
    expect(x.argmin(0).toArray()).toEqual([0, 1, 0]);
  });

  it("several axes index row-major within those axes", () => {
    const t = c.tensor([[[1, 2], [3, 0]], [[5, 9], [4, 8]]], { dtype: "float64" }); // [2,2,2]
    expect(c.argmax(t, [1, 2]).toArray()).toEqual([2, 1]);
    expect(c.argmax(t, [0, 2]).toArray()).toEqual([3, 3]);
  });

  it("ties give the first occurrence; NaN counts as the largest", () => {
    expect(c.argmax(f64([3, 1, 3])).item()).toBe(0);
    expect(c.argmin(f64([1, 0, 0])).item()).toBe(1);
    expect(c.argmax(f64([1, NaN, 5, NaN])).item()).toBe(1);
    expect(c.argmin(f64([1, NaN, -5])).item()).toBe(1);
  });

  it("not differentiable, usable inside transforms; an empty axis is an error", () => {
    const g = c.grad((t: Tensor) => c.sum(c.gather(t, c.argmax(t))))(f64([1, 5, 2]));
    expect(g.toArray()).toEqual([0, 1, 0]);
    expect(() => c.argmax(c.zeros([2, 0]), 1)).toThrow("argmax: cannot take the argmax over an empty axis");
    expect(c.argmax(c.zeros([0, 3]), 1).shape).toEqual([0]);
  });
});

describe("variance, std, norm", () => {
  const x = f64([[1, 2, 3, 4], [2, 2, 2, 2]]);
  it("population by default (NumPy/JAX/TF.js); correction 1 is PyTorch's default", () => {
    expect(c.variance(x, 1).toArray()).toEqual([1.25, 0]);
    expectAllClose(c.variance(x, 1, false, { correction: 1 }), [5 / 3, 0]);
    expectAllClose(c.std(x, 1), [Math.sqrt(1.25), 0]);
    expectAllClose(c.std(x, -1, true, { correction: 1 }), [Math.sqrt(5 / 3), 0]);
    expect(c.std(x, 1, true).shape).toEqual([2, 1]);
    expectAllClose(c.variance(x), 0.6875); // mean 2.25, Σ(x−mean)² = 5.5 over 8
    expect(c.variance(c.tensor([1, 2], { dtype: "int32" })).dtype).toBe("float32");
    expect(x.variance(1).toArray()).toEqual([1.25, 0]);
    expect(x.std(1).toArray()).toEqual(c.std(x, 1).toArray());
  });

  it("std of a constant slice has gradient 0, not NaN", () => {
    expect((c.grad((t: Tensor) => c.sum(c.std(t, 1)))(x).toArray() as number[][])[1]).toEqual([0, 0, 0, 0]);
  });

  it("norm: 2 (default, 'euclidean', 'fro'), 1, ±Infinity, over axes", () => {
    const v = f64([[3, -4], [0, 0]]);
    expect(c.norm(v).item()).toBe(5);
    expect(c.norm(v, "fro").item()).toBe(5);
    expect(c.norm(v, 2, 1).toArray()).toEqual([5, 0]);
    expect(c.norm(v, 1, -1, true).toArray()).toEqual([[7], [0]]);
    expect(c.norm(v, Infinity, 1).toArray()).toEqual([4, 0]);
    expect(c.norm(v, -Infinity, 1).toArray()).toEqual([3, 0]);
    expect(v.norm().item()).toBe(5);
    expect(() => c.norm(v, 1, [0, 1])).toThrow("norm: ord 1 over 2 axes would be a matrix norm, which is not provided");
    expect(() => c.norm(v, 3 as 2)).toThrow(/norm: ord must be 1, 2/);
  });
});

describe("sum, mean, max, min", () => {
  it("axes, keepDims, dtypes", () => {
    const x = f64([[1, 5], [7, 3]]);
    expect(c.sum(x, 0).toArray()).toEqual([8, 8]);
    expect(c.mean(x, [0, 1], true).toArray()).toEqual([[4]]);
    expect(c.max(x, -1).toArray()).toEqual([5, 7]);
    expect(c.min(x).item()).toBe(1);
    expect(x.max(0).toArray()).toEqual([7, 5]);
    expect(x.min(1, true).toArray()).toEqual([[1], [3]]);
    expect(c.sum(c.tensor([true, true, false])).toArray()).toEqual(2);
    expect(c.mean(c.tensor([1, 2], { dtype: "int32" })).dtype).toBe("float32");
  });

  it("errors name the op and the axis", () => {
    expect(() => c.sum(c.zeros([2, 3]), 2)).toThrow("sum: axis 2 is out of range for a tensor of rank 2; expected an integer in [-2, 1]");
    expect(() => c.prod(c.zeros([2, 3]), [0, 0])).toThrow("prod: axis 0 is repeated in [0,0]");
    expect(() => c.argmax(c.zeros([2]), 1)).toThrow(/^argmax: axis 1 is out of range/);
  });
});
