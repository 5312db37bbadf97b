import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { broadcastShapes, constantLike, propertyTable, seedArb, shapeArb, values, type Case, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });

/** A spec whose case is built from a random shape plus extra random parameters. */
function shapedSpec<P>(
  name: string,
  shape: fc.Arbitrary<number[]>,
  params: (shape: number[]) => fc.Arbitrary<P>,
  make: (shape: number[], p: P, seed: number) => Omit<Case, "label">,
  extra: Partial<OpSpec> = {},
): OpSpec {
  return {
    ...extra,
    name,
    cases: shape.chain((s) =>
      fc.tuple(fc.constant(s), params(s), seedArb).map(([sh, p, seed]) => ({ ...make(sh, p, seed), label: `${name} shape ${JSON.stringify(sh)} params ${JSON.stringify(p)}` })),
    ),
  };
}

const permutation = (n: number) => fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n });
const bound = (n: number) => fc.option(fc.integer({ min: -n - 2, max: n + 2 }), { nil: null });

const specs: OpSpec[] = [
  shapedSpec("reshape", shapeArb(), () => fc.constant(null), (s, _p, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.sin(c.reshape(x, [...s].reverse())) })),
  {
    name: "broadcastTo",
    cases: fc.tuple(broadcastShapes(1), shapeArb({ maxRank: 1, minDim: 1 }), seedArb).map(([[from], lead, seed]) => {
      const target = [...lead, ...from!.map((d) => (d === 1 ? 2 : d))];
      return { args: [values(from!, seed)], fn: (x: Tensor) => c.mul(c.broadcastTo(x, target), constantLike(values(target, 7), x)), label: `broadcastTo ${JSON.stringify(from)} → ${JSON.stringify(target)}` };
    }),
  },
  shapedSpec("transpose / permute", shapeArb(), (s) => permutation(s.length), (s, perm, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.mul(c.permute(x, perm), constantLike(values(perm.map((p) => s[p]!), 3), x)) })),
  shapedSpec("expandDims", shapeArb(), (s) => fc.integer({ min: -s.length - 1, max: s.length }), (s, a, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.square(c.expandDims(x, a)) })),
  shapedSpec("squeeze", shapeArb({ minDim: 1, maxDim: 2 }), () => fc.constant(null), (s, _p, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.square(c.squeeze(x)) })),
  shapedSpec(
    "concat",
    shapeArb({ minRank: 1 }),
    (s) => fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })),
    (s, [axis, sizes], seed) => ({
      args: sizes.map((n, i) => values(s.map((d, k) => (k === axis ? n : d)), seed + i)),
      fn: (...xs: Tensor[]) => c.sin(c.concat(xs, axis)),
    }),
    { numRuns: 15 }, // up to three arguments: second order checks every pair
  ),
  shapedSpec("stack", shapeArb(), (s) => fc.tuple(fc.integer({ min: -s.length - 1, max: s.length }), fc.integer({ min: 1, max: 3 })), (s, [axis, k], seed) => ({
    args: Array.from({ length: k }, (_, i) => values(s, seed + i)),
    fn: (...xs: Tensor[]) => c.sin(c.stack(xs, axis)),
  }), { numRuns: 15 }),
  shapedSpec(
    "split",
    shapeArb({ minRank: 1 }),
    (s) => fc.integer({ min: 0, max: s.length - 1 }).chain((axis) => fc.tuple(fc.constant(axis), fc.array(fc.integer({ min: 0, max: s[axis]! }), { minLength: 1, maxLength: 3 }))),
    (s, [axis, cuts], seed) => {
      const n = s[axis]!;
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const sizes = [...points, n].map((p, i, arr) => p - (i === 0 ? 0 : arr[i - 1]!));
      return {
        args: [values(s, seed)],
        // Each part scaled differently and re-joined in reverse, so mixing parts up would show.
        fn: (x: Tensor) => c.concat(c.split(x, sizes, axis).map((p, i) => c.mul(p, i + 1)).reverse(), axis),
      };
    },
  ),
  shapedSpec(
    "slice (start/stop/step per axis, negative steps, clamping)",
    shapeArb({ minRank: 1 }),
    (s) => fc.tuple(fc.tuple(...s.map((n) => bound(n))), fc.tuple(...s.map((n) => bound(n))), fc.tuple(...s.map(() => fc.constantFrom(1, 2, -1, -2)))),
    (s, [start, stop, step], seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.square(c.slice(x, start, stop, step)) }),
  ),
  shapedSpec("pad", shapeArb(), (s) => fc.tuple(...s.map(() => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })))), (s, p, seed) => ({
    args: [values(s, seed)],
    fn: (x: Tensor) => c.sin(c.pad(x, p as [number, number][], 0.5)),
  })),
  shapedSpec("flip", shapeArb(), (s) => fc.subarray(Array.from({ length: s.length }, (_, i) => i)), (s, axes, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.mul(c.flip(x, axes), constantLike(values(s, 11), x)) })),
  shapedSpec("tile", shapeArb({ maxRank: 2 }), () => fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 3 }), (s, reps, seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.sin(c.tile(x, reps)) })),
  shapedSpec(
    "gather (repeated and negative indices accumulate)",
    shapeArb({ minRank: 1, minDim: 1 }),
    (s) => fc.integer({ min: 0, max: s.length - 1 }).chain((axis) => fc.tuple(fc.constant(axis), fc.array(fc.integer({ min: -s[axis]!, max: s[axis]! - 1 }), { maxLength: 4 }))),
    (s, [axis, idx], seed) => ({ args: [values(s, seed)], fn: (x: Tensor) => c.sin(c.gather(x, idx, axis)) }),
  ),
  shapedSpec("take (flattened)", shapeArb({ minDim: 1 }), (s) => fc.array(fc.integer({ min: 0, max: s.reduce((a, b) => a * b, 1) - 1 }), { minLength: 1, maxLength: 5 }), (s, idx, seed) => ({
    args: [values(s, seed)],
    fn: (x: Tensor) => c.square(c.take(x, idx)),
  })),
  shapedSpec(
    "scatterAdd (x and updates)",
    shapeArb({ minRank: 1, minDim: 1 }),
    (s) => fc.integer({ min: 0, max: s.length - 1 }).chain((axis) => fc.tuple(fc.constant(axis), fc.array(fc.integer({ min: 0, max: s[axis]! - 1 }), { maxLength: 4 }))),
    (s, [axis, idx], seed) => ({
      args: [values(s, seed), values([...s.slice(0, axis), idx.length, ...s.slice(axis + 1)], seed + 1)],
      fn: (x: Tensor, u: Tensor) => c.sin(c.scatterAdd(x, idx, u, axis)),
    }),
  ),
  {
    name: "matmul with broadcast batch dimensions and 1-D operands",
    cases: fc
      .tuple(broadcastShapes(2, { maxRank: 2, minDim: 1 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom("mm", "vm", "mv"), seedArb)
      .map(([[ba, bb], m, k, n, kind, seed]) => {
        const sa = kind === "vm" ? [k] : [...ba!, m, k];
        const sb = kind === "mv" ? [k] : [...bb!, k, n];
        return { args: [values(sa, seed), values(sb, seed + 1)], fn: (a: Tensor, b: Tensor) => c.matmul(a, b), label: `matmul ${JSON.stringify(sa)} @ ${JSON.stringify(sb)}` };
      }),
  },
  shapedSpec("dot and outer", shapeArb({ minRank: 1, maxRank: 1 }), () => fc.constant(null), (s, _p, seed) => ({
    args: [values(s, seed), values(s, seed + 1)],
    fn: (a: Tensor, b: Tensor) => c.mul(c.outer(a, b), c.dot(a, b)),
  }), { numRuns: 15 }),
];

describe("shape and indexing ops: property table", () => {
  propertyTable(specs, { numRuns: 25 });
});

describe("slice", () => {
  const fixture = JSON.parse(readFileSync(new URL("./fixtures/python-slices.json", import.meta.url), "utf8")) as { cases: [number | null, number | null, number | null, number[]][] };

  it(`matches Python's list slicing on all ${fixture.cases.length} start/stop/step combinations of the fixture`, () => {
    const x = c.arange(7, undefined, 1, "int32");
    for (const [start, stop, step, want] of fixture.cases) {
      expect(c.slice(x, start, stop, step ?? undefined).toArray(), `[${start}:${stop}:${step}]`).toEqual(want);
    }
  });

  it("per-axis arrays, missing trailing axes, negative steps; the gradient scatters back", () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    expect(c.slice(x, [1]).toArray()).toEqual([[4, 5, 6]]);
    expect(c.slice(x, [null, 2], [null, 0], [1, -1]).toArray()).toEqual([[3, 2], [6, 5]]);
    expect(x.slice([null, 0], null, [-1, 2]).toArray()).toEqual([[4, 6], [1, 3]]);
    expect(c.slice(x, [0, 5], [2, 9]).shape).toEqual([2, 0]);
    expect(c.grad((t: Tensor) => c.sum(c.slice(t, [null, null], [null, null], [1, 2])))(x).toArray()).toEqual([[1, 0, 1], [1, 0, 1]]);
  });

  it("errors", () => {
    expect(() => c.slice(f64([1, 2]), 0, 2, 0)).toThrow("slice: step for axis 0 must be a non-zero integer, got 0");
    expect(() => c.slice(f64([1, 2]), [0, 0])).toThrow("slice: start has 2 entries but the tensor has rank 1");
  });
});

describe("pad, flip, tile, concat, stack, split, expandDims, squeeze", () => {
  const x = f64([[1, 2], [3, 4]]);
  it("values", () => {
    expect(c.pad(x, [[0, 1], [1, 0]]).toArray()).toEqual([[0, 1, 2], [0, 3, 4], [0, 0, 0]]);
    expect(x.pad([[1, 0], [0, 0]], -1).toArray()).toEqual([[-1, -1], [1, 2], [3, 4]]);
    expect(c.flip(x).toArray()).toEqual([[4, 3], [2, 1]]);
    expect(x.flip(1).toArray()).toEqual([[2, 1], [4, 3]]);
    expect(c.tile(x, [1, 2]).toArray()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]);
    expect(c.tile(f64([1, 2]), [2, 1]).toArray()).toEqual([[1, 2], [1, 2]]);
    expect(x.tile([2]).toArray()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]);
    expect(c.concat([x, f64([[5, 6]])]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(c.concat([x, f64([[9], [9]])], -1).toArray()).toEqual([[1, 2, 9], [3, 4, 9]]);
    expect(c.concat([c.tensor([1], { dtype: "int32" }), f64([0.5])]).dtype).toBe("float64");
    expect(c.stack([f64([1, 2]), f64([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(c.split(f64([1, 2, 3, 4, 5, 6]), 3).map((t) => t.toArray())).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(x.split([1, -1], 1).map((t) => t.toArray())).toEqual([[[1], [3]], [[2], [4]]]);
    expect(c.expandDims(x, -1).shape).toEqual([2, 2, 1]);
    expect(x.expandDims().shape).toEqual([1, 2, 2]);
    expect(c.squeeze(c.zeros([1, 2, 1])).shape).toEqual([2]);
    expect(c.zeros([1, 2, 1]).squeeze(-1).shape).toEqual([1, 2]);
    expect(x.permute([1, 0]).toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it("shape errors name the op and both shapes", () => {
    expect(() => c.concat([c.zeros([2, 3]), c.zeros([4, 5])], 1)).toThrow("concat: shapes differ outside axis 1: input 0 is [2,3], input 1 is [4,5]");
    expect(() => c.stack([c.zeros([2]), c.zeros([3])])).toThrow("stack: shapes differ: input 0 is [2], input 1 is [3]");
    expect(() => c.split(c.zeros([5]), 2)).toThrow("split: cannot split axis 0 of [5] (length 5) into 2 equal parts");
    expect(() => c.split(c.zeros([5]), [2, 2])).toThrow("split: sizes [2,2] do not add up to length 5 of axis 0 of [5]");
    expect(() => c.squeeze(c.zeros([2, 3]), 1)).toThrow("squeeze: axis 1 of [2,3] has size 3, expected 1");
    expect(() => c.pad(c.zeros([2]), [[1, -1]])).toThrow(/^pad: paddings must be one \[before, after\] pair of non-negative integers per axis of \[2\]/);
    expect(() => c.concat([])).toThrow("concat: needs at least one tensor, got an empty list");
    expect(() => c.tile(c.zeros([2]), [-1])).toThrow("tile: reps must be non-negative integers, got [-1]");
  });
});

describe("gather, take, scatterAdd, oneHot", () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  it("values (TensorFlow.js's gather shape rule: x.shape[:axis] + indices.shape + x.shape[axis+1:])", () => {
    expect(c.gather(x, [1, 1, 0]).toArray()).toEqual([[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
    expect(c.gather(x, [[2], [-1]], 1).shape).toEqual([2, 2, 1]);
    expect(x.gather(c.tensor([2, 0], { dtype: "int32" }), 1).toArray()).toEqual([[3, 1], [6, 4]]);
    expect(c.gather(x, 1).toArray()).toEqual([4, 5, 6]);
    expect(c.take(x, [0, 5]).toArray()).toEqual([1, 6]);
    expect(x.take([1], 1).toArray()).toEqual([[2], [5]]);
    expect(c.scatterAdd(c.zeros([3]), [0, 2, 0], f64([1, 2, 3])).toArray()).toEqual([4, 0, 2]);
  });

  it("repeated indices accumulate their gradients (the VJP scatter-adds)", () => {
    const g = c.grad((t: Tensor) => c.sum(c.gather(t, [0, 2, 0, 0], 1)))(x);
    expect(g.toArray()).toEqual([[3, 0, 1], [3, 0, 1]]);
    const [gx, gu] = c.grad((t: Tensor, u: Tensor) => c.sum(c.mul(c.scatterAdd(t, [1, 1], u), f64([1, 10, 100]))), { argnums: [0, 1] })(f64([0, 0, 0]), f64([1, 1]));
    expect([gx.toArray(), gu.toArray()]).toEqual([[1, 10, 100], [10, 10]]);
  });

  it("oneHot: float32 by default, out-of-range rows all off, not differentiable", () => {
    expect(c.oneHot([1, 0, 3, -1], 3).toArray()).toEqual([[0, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]]);
    const h = c.oneHot(c.tensor([[2]], { dtype: "int32" }), 3, 5, -1, "int32");
    expect([h.dtype, h.shape, h.toArray()]).toEqual(["int32", [1, 1, 3], [[[-1, -1, 5]]]]);
  });

  it("errors", () => {
    expect(() => c.gather(x, [2])).toThrow("gather: index 2 is out of range for axis 0 of length 2; expected an integer in [-2, 1]");
    expect(() => c.gather(x, c.tensor([0]))).toThrow('gather: indices have dtype float32, expected int32 (cast with .astype("int32"))');
    expect(() => c.gather(x, [0.5])).toThrow("gather: indices must be integers, got 0.5");
    expect(() => c.scatterAdd(c.zeros([3]), [0], f64([1, 2]))).toThrow("scatterAdd: updates have shape [2], expected [1] (x is [3], indices are [1], axis 0)");
  });
});

describe("matmul, dot, outer", () => {
  it("batches with NumPy broadcasting of leading dims: [2,1,3,4] @ [5,4,2] → [2,5,3,2]", () => {
    const a = values([2, 1, 3, 4], 1), b = values([5, 4, 2], 2);
    const out = c.matmul(a, b);
    expect(out.shape).toEqual([2, 5, 3, 2]);
    const ad = a.data, bd = b.data, od = out.data;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 5; j++) for (let r = 0; r < 3; r++) for (let q = 0; q < 2; q++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += ad[i * 12 + r * 4 + k]! * bd[j * 8 + k * 2 + q]!;
      expect(od[((i * 5 + j) * 3 + r) * 2 + q]).toBeCloseTo(s, 12);
    }
    // The engine sums the gradient of the broadcast operand over the batch dims it was repeated along.
    const [ga, gb] = c.grad((p: Tensor, q: Tensor) => c.sum(c.matmul(p, q)), { argnums: [0, 1] })(a, b);
    expect([ga.shape, gb.shape]).toEqual([[2, 1, 3, 4], [5, 4, 2]]);
    expectAllClose(gb, c.mul(c.sum(a, [0, 1, 2]).reshape([4, 1]), c.ones([5, 4, 2], "float64")), 1e-12);
  });

  it("1-D operands: vector·matrix, matrix·vector, vector·vector", () => {
    const m = f64([[1, 2], [3, 4]]), v = f64([1, -1]);
    expect(c.matmul(v, m).toArray()).toEqual([-2, -2]);
    expect(c.matmul(m, v).toArray()).toEqual([-1, -1]);
    expect(c.matmul(v, v).toArray()).toEqual(2);
    expect(c.dot(v, f64([3, 4])).item()).toBe(-1);
    expect(c.outer(v, f64([1, 2, 3])).toArray()).toEqual([[1, 2, 3], [-1, -2, -3]]);
  });

  it("shape error text names the op and both shapes", () => {
    expect(() => c.matmul(c.zeros([2, 3]), c.zeros([4, 5]))).toThrow("matmul: inner dimensions differ: a is [2,3], b is [4,5]");
    expect(() => c.matmul(c.zeros([2, 2, 3]), c.zeros([3, 3, 1]))).toThrow(/^matmul: batch dimensions cannot be broadcast together: a is \[2,2,3\], b is \[3,3,1\]/);
    expect(() => c.dot(c.zeros([2]), c.zeros([3]))).toThrow("dot: lengths differ: a is [2], b is [3]");
  });
});
