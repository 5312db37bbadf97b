import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { propertyTable, seedArb, values, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });
const dim = fc.integer({ min: 1, max: 3 });

/** An einsum spec: operand shapes from the letters' random sizes (0 allowed for some), values normal. */
function einsumSpec(subscripts: string, shapes: (sizes: Record<string, number>) => number[][]): OpSpec {
  return {
    name: `einsum ${subscripts}`,
    cases: fc.tuple(fc.record({ i: dim, j: dim, k: dim, l: fc.integer({ min: 0, max: 2 }), b: dim }), seedArb).map(([sz, seed]) => {
      const ss = shapes(sz);
      return {
        args: ss.map((s, n) => values(s, seed + n)),
        fn: (...xs: Tensor[]) => c.einsum(subscripts, ...xs),
        label: `einsum ${subscripts} ${JSON.stringify(ss)}`,
      };
    }),
  };
}

const specs: OpSpec[] = [
  einsumSpec("ij,jk->ik", (s) => [[s.i!, s.j!], [s.j!, s.k!]]),
  einsumSpec("bij,bjk->bik", (s) => [[s.b!, s.i!, s.j!], [s.b!, s.j!, s.k!]]),
  einsumSpec("...ij,...jk", (s) => [[s.b!, 1, s.i!, s.j!], [s.k!, s.j!, s.l!]]),
  einsumSpec("ii->i", (s) => [[s.i!, s.i!]]),
  einsumSpec("ii", (s) => [[s.j!, s.j!]]),
  einsumSpec("i,j", (s) => [[s.i!], [s.l!]]),
  einsumSpec("ij,jk,kl->li", (s) => [[s.i!, s.j!], [s.j!, s.k!], [s.k!, s.l!]]),
  einsumSpec("iij,jk->ki", (s) => [[s.i!, s.i!, s.j!], [s.j!, s.k!]]),
  einsumSpec("ij,ij->", (s) => [[s.i!, s.j!], [s.i!, s.j!]]),
  einsumSpec("ijk->kj", (s) => [[s.i!, s.j!, s.k!]]),
  {
    name: "tensordot axes 1 and [[0, 2], [1, 0]]",
    cases: fc.tuple(dim, dim, dim, dim, seedArb).map(([i, j, k, l, seed]) => ({
      args: [values([i, j, k], seed), values([k, l], seed + 1), values([k, i, l], seed + 2)],
      fn: (a: Tensor, b: Tensor, d: Tensor) => c.add(c.sum(c.tensordot(a, b, 1)), c.sum(c.tensordot(a, d, [[0, 2], [1, 0]]))),
      label: `tensordot ${JSON.stringify([i, j, k, l])}`,
    })),
  },
];

describe("einsum and tensordot: property table", () => {
  propertyTable(specs, { numRuns: 15 });
});

describe("einsum: values against the ops it stands for", () => {
  const a = values([2, 3], 1), b = values([3, 4], 2), sq = values([3, 3], 3), batch = values([5, 2, 3], 4);

  it("products, traces, diagonals, transposes, outer products (NumPy's meanings)", () => {
    expectAllClose(c.einsum("ij,jk->ik", a, b), c.matmul(a, b), 1e-14, 1e-15);
    expectAllClose(c.einsum("ij,jk", a, b), c.matmul(a, b), 1e-14, 1e-15);
    expectAllClose(c.einsum("ii", sq), c.matrixTrace(sq), 1e-14, 1e-15);
    expectAllClose(c.einsum("ii->i", sq), c.diagonal(sq), 0, 0);
    expectAllClose(c.einsum("ij->ji", a), c.transpose(a), 0, 0);
    expectAllClose(c.einsum("ji", a), c.transpose(a), 0, 0); // implicit output is alphabetical: "ij"
    expectAllClose(c.einsum("i,j", c.diagonal(sq), f64([1, 2])), c.outer(c.diagonal(sq), f64([1, 2])), 0, 0);
    expectAllClose(c.einsum("bij,jk->bik", batch, b), c.matmul(batch, b), 1e-14, 1e-15);
    expectAllClose(c.einsum("ij->", a), c.sum(a), 1e-14, 1e-15);
    expect(c.einsum("ij,ij->ij", a, a).shape).toEqual([2, 3]);
  });

  it("ellipsis broadcasts leading dimensions, as NumPy's matmul would", () => {
    const x = values([4, 1, 2, 3], 5), y = values([6, 3, 2], 6);
    const got = c.einsum("...ij,...jk->...ik", x, y);
    expect(got.shape).toEqual([4, 6, 2, 2]);
    expectAllClose(got, c.matmul(x, y), 1e-14, 1e-15);
    expectAllClose(c.einsum("...ii->...i", values([2, 3, 3], 7)), c.diagonal(values([2, 3, 3], 7), 0, 1, 2), 0, 0);
  });

  it("a three-operand chain equals the two matmuls", () => {
    const d = values([4, 2], 8);
    expectAllClose(c.einsum("ij,jk,kl->il", a, b, d), c.matmul(c.matmul(a, b), d), 1e-13, 1e-14);
  });

  it("errors name einsum and what is wrong", () => {
    expect(() => c.einsum("ij,jk->ik", a)).toThrow(/einsum: "ij,jk->ik" has 2 operand term\(s\) but 1 tensor/);
    expect(() => c.einsum("ij,jk->ik", a, a)).toThrow(/einsum: subscript "j" has size 2 in operand 1/);
    expect(() => c.einsum("ijk->i", a)).toThrow(/einsum: operand 0 has rank 2 but its subscripts "ijk" name 3 dimensions/);
    expect(() => c.einsum("ij->iz", a)).toThrow(/einsum: output subscript "z" does not appear/);
    expect(() => c.einsum("ij->ii", a)).toThrow(/einsum: output subscript "i" appears more than once/);
    expect(() => c.einsum("i1", a)).toThrow(/einsum: invalid character "1"/);
  });
});

describe("tensordot", () => {
  it("contracts the last N of a with the first N of b, or listed axis pairs (NumPy's values)", () => {
    const a = c.reshape(c.arange(0, 24, 1, "float64"), [2, 3, 4]);
    const b = c.reshape(c.arange(0, 12, 1, "float64"), [3, 4]);
    // numpy.tensordot(arange(24).reshape(2,3,4), arange(12).reshape(3,4)) = [ 506, 1298]
    expect(c.tensordot(a, b).toArray()).toEqual([506, 1298]);
    expect(c.tensordot(a, b, 0).shape).toEqual([2, 3, 4, 3, 4]);
    // numpy.tensordot(a, b, axes=([1, 2], [0, 1])) is the same contraction
    expect(c.tensordot(a, b, [[1, 2], [0, 1]]).toArray()).toEqual([506, 1298]);
    expectAllClose(c.tensordot(a, b, [[1], [0]]), c.einsum("ijk,jl->ikl", a, b), 0, 0);
    expect(() => c.tensordot(a, b, [[0], [0]])).toThrow(/tensordot: axis 0 of a \(size 2/);
  });
});
