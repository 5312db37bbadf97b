import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { propertyTable, seedArb, shapeArb, values, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });
const i32 = (v: NestedArray) => c.tensor(v, { dtype: "int32" });

/** Random shape of rank minRank..3 with an axis; `fn` gets the float64 values and the axis. */
function axisSpec(name: string, fn: (x: Tensor, axis: number) => Tensor, minRank = 1, minDim = 0): OpSpec {
  return {
    name,
    cases: fc
      .tuple(shapeArb({ minRank, maxRank: 3, maxDim: 4, minDim }), seedArb)
      .chain(([shape, seed]) => fc.integer({ min: -shape.length, max: shape.length - 1 }).map((axis) => ({ shape, seed, axis })))
      .map(({ shape, seed, axis }) => ({ args: [values(shape, seed)], fn: (x: Tensor) => fn(x, axis), label: `${name} ${JSON.stringify(shape)} axis ${axis}` })),
  };
}

const specs: OpSpec[] = [
  axisSpec("sort", (x, a) => c.mul(c.sort(x, a), c.sort(x, a, { descending: true }))),
  axisSpec("topk k=2 largest", (x, a) => c.topk(x, 2, { axis: a }).values, 1, 2),
  axisSpec("topk k=1 smallest, squared", (x, a) => c.square(c.topk(x, 1, { axis: a, largest: false }).values), 1, 1),
  axisSpec("diagonal offset 1 of axes (a, last)", (x, a) => c.diagonal(x, 1, a === -1 || a === x.rank - 1 ? 0 : a, -1), 2),
  axisSpec("diagonal offset −1", (x) => c.diagonal(c.sin(x), -1, 0, 1), 2),
  axisSpec("triu k=0 and tril k=−1", (x) => c.add(c.triu(x), c.mul(c.tril(x, -1), x)), 2),
  {
    name: "matrixTrace",
    cases: fc.tuple(shapeArb({ minRank: 2, maxRank: 2, maxDim: 4 }), seedArb).map(([shape, seed]) => ({ args: [values(shape, seed)], fn: (x: Tensor) => c.matrixTrace(c.mul(x, x)), label: `matrixTrace ${JSON.stringify(shape)}` })),
  },
];

describe("sort, topk, diagonal, triangles: property table", () => {
  propertyTable(specs, { numRuns: 20 });
});

describe("sort, argsort, topk", () => {
  it("sorts stably along an axis, NaN as the largest value (PyTorch, NumPy)", () => {
    const x = f64([[3, 1, 2, 1], [NaN, -1, 5, 0]]);
    expect(c.sort(x).toArray()).toEqual([[1, 1, 2, 3], [-1, 0, 5, NaN]]);
    expect(c.argsort(x).toArray()).toEqual([[1, 3, 2, 0], [1, 3, 2, 0]]);
    expect(c.argsort(x, -1, { descending: true }).toArray()).toEqual([[0, 2, 1, 3], [0, 2, 3, 1]]);
    expect(c.sort(x, 0).toArray()).toEqual([[3, -1, 2, 0], [NaN, 1, 5, 1]]);
    const s = c.sortWithIndices(f64([2, 2, 1]));
    expect([s.values.toArray(), s.indices.toArray()]).toEqual([[1, 2, 2], [2, 0, 1]]);
  });

  it("routes the gradient through the permutation: d/dx Σ w·sort(x) = w at the sorted positions", () => {
    const g = c.grad((x: Tensor) => c.sum(c.mul(c.sort(x), f64([1, 10, 100]))))(f64([5, -1, 2]));
    expect(g.toArray()).toEqual([100, 1, 10]);
  });

  it("topk returns the k largest (or smallest) with indices; ties go to the lower index", () => {
    const x = f64([[1, 4, 4, 2], [0, -3, 7, 7]]);
    const r = c.topk(x, 2);
    expect(r.values.toArray()).toEqual([[4, 4], [7, 7]]);
    expect(r.indices.toArray()).toEqual([[1, 2], [2, 3]]);
    expect(c.topk(x, 1, { largest: false }).indices.toArray()).toEqual([[0], [1]]);
    expect(c.topk(x, 1, { axis: 0 }).values.toArray()).toEqual([[1, 4, 7, 7]]);
    const g = c.grad((t: Tensor) => c.sum(c.topk(t, 2).values))(x);
    expect(g.toArray()).toEqual([[0, 1, 1, 0], [0, 0, 1, 1]]);
    expect(() => c.topk(x, 5)).toThrow(/topk: k must be an integer in \[0, 4\]/);
  });

  it("takeAlongAxis picks per row and checks indices per row", () => {
    const x = f64([[10, 20, 30], [40, 50, 60]]);
    expect(c.takeAlongAxis(x, i32([[2, 0], [-1, 1]]), 1).toArray()).toEqual([[30, 10], [60, 50]]);
    expect(c.takeAlongAxis(x, i32([[1, 0, 1]]), 0).toArray()).toEqual([[40, 20, 60]]);
    expect(() => c.takeAlongAxis(x, i32([[3], [0]]), 1)).toThrow(/takeAlongAxis: index 3 is out of range for axis 1 of length 3/);
    expect(() => c.takeAlongAxis(x, i32([1, 0]), 1)).toThrow(/takeAlongAxis: indices have shape \[2\]/);
  });
});

describe("diagonal, matrixTrace, triu, tril", () => {
  const m = f64([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);

  it("diagonal with offsets and axes, as PyTorch", () => {
    expect(c.diagonal(m).toArray()).toEqual([1, 5, 9]);
    expect(c.diagonal(m, 1).toArray()).toEqual([2, 6]);
    expect(c.diagonal(m, -1).toArray()).toEqual([4, 8, 12]);
    expect(c.diagonal(m, 5).toArray()).toEqual([]);
    const b = c.reshape(c.arange(0, 12, 1, "float64"), [2, 2, 3]);
    // torch.diagonal(b, 0, 1, 2) = [[0, 4], [6, 10]]; torch.diagonal(b, 0, 0, 2) = [[0, 7], [3, 10]]
    expect(c.diagonal(b, 0, 1, 2).toArray()).toEqual([[0, 4], [6, 10]]);
    expect(c.diagonal(b, 0, 0, 2).toArray()).toEqual([[0, 7], [3, 10]]);
    expect(() => c.diagonal(b, 0, 1, 1)).toThrow(/diagonal: axis1 and axis2 must differ/);
  });

  it("matrixTrace sums the diagonal and its gradient is the identity pattern", () => {
    expect(c.matrixTrace(m).item()).toBe(15);
    expect(c.grad((x: Tensor) => c.matrixTrace(x))(f64([[1, 2], [3, 4]])).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(() => c.matrixTrace(f64([1, 2]))).toThrow(/matrixTrace: expects a 2-D tensor, got shape \[2\]/);
  });

  it("triu and tril with offsets over batches", () => {
    expect(c.triu(m).toArray()).toEqual([[1, 2, 3], [0, 5, 6], [0, 0, 9], [0, 0, 0]]);
    expect(c.triu(m, 1).toArray()).toEqual([[0, 2, 3], [0, 0, 6], [0, 0, 0], [0, 0, 0]]);
    expect(c.tril(m, -1).toArray()).toEqual([[0, 0, 0], [4, 0, 0], [7, 8, 0], [10, 11, 12]]);
    expect(c.tril(c.stack([m, m])).shape).toEqual([2, 4, 3]);
    expect(c.grad((x: Tensor) => c.sum(c.tril(x)))(f64([[1, 2], [3, 4]])).toArray()).toEqual([[1, 0], [1, 1]]);
  });
});
