// inv, solve, det, slogdet, cholesky: the property table (first and second order, both modes, finite
// differences, duality, every backend), PyTorch's values and gradients (test/fixtures/pytorch-linalg.json,
// written by tools/pytorch-linalg.py), hand values, batching, float32, and the errors for singular and
// non-positive-definite input.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import * as c from "../src/index.js";
import { DTypeError, ShapeError, ValueError, type Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { constantLike, propertyTable, seedArb, shapeArb, values, type OpSpec } from "./helpers/op-table.js";

const f64 = (v: c.NestedArray) => c.tensor(v, { dtype: "float64" });
const mT = (x: Tensor) => c.transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2]);

/** Random batched n×n matrices with n + 1 added to the diagonal: nonsingular and well conditioned. */
function wellConditioned(batch: number[], n: number, seed: number): Tensor {
  const x = values([...batch, n, n], seed);
  return c.add(x, c.mul(c.eye(n, n, "float64"), n + 1));
}

/** Cases of a one-matrix op: a batch of 0–2 dimensions (maybe empty), n from 0 to 3. */
function matrixSpec(name: string, fn: (a: Tensor) => Tensor, make = wellConditioned, extra: Partial<OpSpec> = {}): OpSpec {
  return {
    name,
    cases: fc.tuple(shapeArb({ maxRank: 2, maxDim: 2 }), fc.integer({ min: 0, max: 3 }), seedArb).map(([batch, n, seed]) => ({
      args: [make(batch, n, seed)],
      fn,
      label: `${name} batch ${JSON.stringify(batch)} n ${n}`,
    })),
    ...extra,
  };
}

const specs: OpSpec[] = [
  matrixSpec("inv", (a) => c.inv(a)),
  matrixSpec("det", (a) => c.det(a)),
  // Any nonsingular matrix, negative determinants included: random entries, no diagonal boost.
  matrixSpec("det of a random matrix", (a) => c.det(a), (batch, n, seed) => values([...batch, n, n], seed)),
  matrixSpec("slogdet (logabsdet)", (a) => c.slogdet(a)[1], (batch, n, seed) => values([...batch, n, n], seed)),
  // cholesky reads the lower triangle, so its input is made symmetric first: finite differences then move
  // along symmetric directions, the ones its derivative is defined for (as PyTorch's).
  matrixSpec("cholesky of (A + Aᵀ)/2", (a) => c.cholesky(c.mul(c.add(a, mT(a)), 0.5))),
  matrixSpec("cholesky of X·Xᵀ + I, upper", (x) => c.cholesky(c.add(c.matmul(x, mT(x)), constantLike(c.eye(x.shape[x.rank - 1]!, undefined, "float64"), x)), { upper: true }), (b, n, s) => values([...b, n, n], s)),
  {
    name: "solve (matrix right-hand side, broadcast batch)",
    cases: fc.tuple(shapeArb({ maxRank: 2, maxDim: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), seedArb).map(([batch, n, k, dropA, seed]) => ({
      args: [wellConditioned(dropA ? batch.slice(1) : batch.map((d, i) => (i === 0 ? 1 : d)), n, seed), values([...batch, n, k], seed + 1)],
      fn: (a: Tensor, b: Tensor) => c.solve(a, b),
      label: `solve batch ${JSON.stringify(batch)} n ${n} k ${k} dropA ${dropA}`,
    })),
  },
  {
    name: "solve (vector right-hand side)",
    cases: fc.tuple(shapeArb({ maxRank: 1, maxDim: 2 }), fc.integer({ min: 1, max: 3 }), seedArb).map(([batch, n, seed]) => ({
      args: [wellConditioned(batch, n, seed), values([...batch, n], seed + 1)],
      fn: (a: Tensor, b: Tensor) => c.solve(a, b),
      label: `solve vector batch ${JSON.stringify(batch)} n ${n}`,
    })),
  },
];

describe("linear algebra: property table", () => {
  propertyTable(specs, { numRuns: 15 });
});

interface Golden {
  torch: string;
  cases: { name: string; inputs: { shape: number[]; data: number[] }[]; output: { shape: number[]; data: number[] }; weight: number[]; grads: (number[] | null)[] }[];
}
const golden = JSON.parse(readFileSync(new URL("./fixtures/pytorch-linalg.json", import.meta.url), "utf8")) as Golden;
const impl: Record<string, (...x: Tensor[]) => Tensor> = {
  inv: (a) => c.inv(a),
  inv_batched: (a) => c.inv(a),
  solve_matrix: (a, b) => c.solve(a, b!),
  solve_vector: (a, b) => c.solve(a, b!),
  solve_broadcast: (a, b) => c.solve(a, b!),
  det: (a) => c.det(a),
  det_batched: (a) => c.det(a),
  slogdet_logabsdet: (a) => c.slogdet(a)[1],
  slogdet_sign: (a) => c.slogdet(a)[0],
  cholesky: (a) => c.cholesky(a),
  cholesky_batched_upper: (a) => c.cholesky(a, { upper: true }),
};

describe(`linear algebra against PyTorch ${golden.torch} (float64, 1e-6)`, () => {
  it("every fixture case has an implementation", () => expect(golden.cases.map((k) => k.name).sort()).toEqual(Object.keys(impl).sort()));
  for (const k of golden.cases) {
    it(`${k.name}: value and gradient of Σ f·W`, () => {
      const xs = k.inputs.map((i) => c.tensor(Float64Array.from(i.data), { shape: i.shape }));
      const f = impl[k.name]!;
      const y = f(...xs);
      expect(y.shape).toEqual(k.output.shape);
      expectAllClose(y, k.output.data, 1e-6, 1e-9);
      const w = c.tensor(Float64Array.from(k.weight), { shape: k.output.shape });
      const grads = c.grad((...a: Tensor[]) => c.sum(c.mul(f(...a), w)), { argnums: xs.map((_, i) => i) })(...xs) as Tensor[];
      k.grads.forEach((g, i) => {
        if (g === null) expect(Array.from(grads[i]!.data).every((v) => v === 0)).toBe(true); // sign: no derivative
        else expectAllClose(grads[i]!, g, 1e-6, 1e-9);
      });
    });
  }
});

describe("linear algebra: hand values", () => {
  it("2×2 inverse, determinant and solve", () => {
    const a = f64([[4, 7], [2, 6]]);
    expectAllClose(c.inv(a), [0.6, -0.7, -0.2, 0.4], 1e-12);
    expect(c.det(a).item()).toBeCloseTo(10, 12);
    expectAllClose(c.solve(a, f64([1, 2])), [-0.8, 0.6], 1e-12); // 4x + 7y = 1, 2x + 6y = 2
    const [sign, logabs] = c.slogdet(f64([[0, 1], [1, 0]]));
    expect([sign.item(), logabs.item()]).toEqual([-1, 0]); // a row swap: det −1
  });

  it("partial pivoting: a zero in the corner needs a row swap, and the determinant's sign follows it", () => {
    const a = f64([[0, 2, 1], [1, 1, 1], [2, 1, 0]]);
    expect(c.det(a).item()).toBeCloseTo(0 * (0 - 1) - 2 * (0 - 2) + 1 * (1 - 2), 12); // cofactor expansion: 3
    expectAllClose(c.matmul(a, c.inv(a)), [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 1e-14);
  });

  it("Cholesky of a known matrix, and the gradient of log det A = 2 Σ log Lᵢᵢ is A⁻¹ (symmetric)", () => {
    const a = f64([[4, 2, -2], [2, 10, 2], [-2, 2, 5]]);
    expectAllClose(c.cholesky(a), [2, 0, 0, 1, 3, 0, -1, 1, Math.sqrt(3)], 1e-12);
    expectAllClose(c.cholesky(a, { upper: true }), [2, 1, -1, 0, 3, 1, 0, 0, Math.sqrt(3)], 1e-12);
    const logdet = (m: Tensor) => c.mul(c.sum(c.log(c.sum(c.mul(c.cholesky(m), c.eye(3, 3, "float64")), -1))), 2);
    expect(logdet(a).item()).toBeCloseTo(c.slogdet(a)[1].item(), 12);
    expectAllClose(c.grad(logdet)(a), c.inv(a), 1e-10);
    expectAllClose(c.grad((m: Tensor) => c.slogdet(m)[1])(a), mT(c.inv(a)), 1e-12);
  });

  it("Jacobi's formula: the gradient of det is det · A⁻ᵀ, and forward mode gives det · tr(A⁻¹ V)", () => {
    const a = f64([[2, -1, 0], [1, 3, 1], [0, 1, 4]]);
    const d = c.det(a).item();
    expectAllClose(c.grad((m: Tensor) => c.det(m))(a), c.mul(mT(c.inv(a)), d), 1e-12);
    const v = f64([[0, 1, 0], [0, 0, 0], [1, 0, 0]]);
    const [, tangent] = c.jvp((m: Tensor) => c.det(m), [a], [v]);
    const invA = c.inv(a).toArray() as number[][];
    expect(tangent.item()).toBeCloseTo(d * (invA[1]![0]! + invA[0]![2]!), 10); // tr(A⁻¹V) = (A⁻¹)₁₀ + (A⁻¹)₀₂
  });

  it("batches are the matrices one by one; float32 agrees with float64 to float32 rounding", () => {
    const batch = wellConditioned([2, 3], 4, 5);
    const inv = c.inv(batch);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const one = c.slice(batch, [i, j, 0, 0], [i + 1, j + 1, 4, 4]).reshape([4, 4]);
        expectAllClose(c.slice(inv, [i, j, 0, 0], [i + 1, j + 1, 4, 4]).reshape([4, 4]), c.inv(one), 0, 0);
      }
    }
    for (const f of [c.inv, c.det, (m: Tensor) => c.slogdet(m)[1], (m: Tensor) => c.cholesky(c.matmul(m, mT(m)))]) {
      const lo = f(batch.astype("float32"));
      expect(lo.dtype).toBe("float32");
      expectAllClose(lo.astype("float64"), f(c.cast(batch.astype("float32"), "float64")), 1e-6, 1e-6);
    }
    expect(c.solve(batch.astype("float32"), values([4], 1)).dtype).toBe("float64"); // promoted, as matmul
  });

  it("empty matrices and empty batches: det of a 0×0 matrix is 1", () => {
    expect(c.det(c.zeros([0, 0], "float64")).item()).toBe(1);
    expect(c.inv(c.zeros([2, 0, 0])).shape).toEqual([2, 0, 0]);
    expect(c.det(c.zeros([0, 3, 3])).shape).toEqual([0]);
    expect(c.cholesky(c.zeros([0, 2, 2])).shape).toEqual([0, 2, 2]);
  });
});

describe("linear algebra: errors name the op", () => {
  const singular = f64([[1, 2], [2, 4]]);
  it("singular input to inv and solve is a ValueError, not a silent ∞", () => {
    expect(() => c.inv(singular)).toThrow(ValueError);
    expect(() => c.inv(singular)).toThrow(/^inv: matrix is singular: pivot 2 of 2 is exactly 0 after partial pivoting; got shape \[2,2\]/);
    expect(() => c.solve(singular, f64([1, 1]))).toThrow(/^solve: matrix is singular: pivot 2 of 2/);
    const batch = c.stack([f64([[1, 0], [0, 1]]), f64([[2, 0], [0, 3]]), c.zeros([2, 2], "float64")]).reshape([3, 1, 2, 2]);
    expect(() => c.inv(batch)).toThrow(/^inv: matrix is singular \(batch index \[2,0\]\): pivot 1 of 2/);
  });

  it("det of a singular matrix is 0; its derivative there is refused by name", () => {
    expect(c.det(singular).item()).toBe(0);
    expect(Object.is(c.det(f64([[0, 0], [1, 1]])).item(), 0)).toBe(true); // +0 even after a row swap
    expect(() => c.grad((m: Tensor) => c.det(m))(singular)).toThrow(/^det: matrix is singular: .*the derivative of det at a singular matrix \(its adjugate\) is not computed/);
  });

  it("slogdet of a singular matrix is sign 0, logabsdet −∞ (NumPy, PyTorch); its derivative there is refused by name", () => {
    const [sign, logabs] = c.slogdet(singular);
    expect([sign.item(), logabs.item()]).toEqual([0, -Infinity]);
    // a batch: only the singular matrix gets 0, −∞ (a zero first pivot: LU goes on past it, as LAPACK)
    const batch = c.stack([f64([[2, 0], [0, 3]]), c.zeros([2, 2], "float64"), f64([[0, 1], [1, 0]])]);
    const [s, l] = c.slogdet(batch);
    expect(Array.from(s.data)).toEqual([1, 0, -1]);
    expect(Array.from(l.data)).toEqual([Math.log(6), -Infinity, 0]);
    expect(() => c.grad((m: Tensor) => c.slogdet(m)[1])(singular)).toThrow(/^slogdet: matrix is singular: .*the derivative of logabsdet at a singular matrix \(A⁻ᵀ\) does not exist/);
    expect(() => c.jvp((m: Tensor) => c.slogdet(m)[1], [singular], [f64([[1, 0], [0, 1]])])).toThrow(/^slogdet: matrix is singular/);
  });

  it("cholesky of a matrix that is not positive definite names the batch index and the failing minor", () => {
    expect(() => c.cholesky(f64([[1, 2], [2, 1]]))).toThrow(/^cholesky: matrix is not positive definite: its leading minor of order 2 is not positive; got shape \[2,2\]/);
    expect(() => c.cholesky(c.stack([f64([[1, 0], [0, 1]]), f64([[-1, 0], [0, 1]])]))).toThrow(/\(batch index \[1\]\): its leading minor of order 1/);
  });

  it("cholesky passes a NaN on, as PyTorch 1.13 (LAPACK's potrf does not stop at a NaN pivot): values by hand", () => {
    const list = (t: Tensor) => Array.from(t.data);
    expect(list(c.cholesky(f64([[NaN, 0], [0, 1]])))).toEqual([NaN, 0, NaN, NaN]);
    expect(list(c.cholesky(f64([[4, 2], [2, NaN]])))).toEqual([2, 0, 1, NaN]);
    expect(list(c.cholesky(f64([[1, NaN], [NaN, 1]])))).toEqual([1, 0, NaN, NaN]); // only the lower triangle is read
    expect(list(c.cholesky(f64([[4, 2], [2, NaN]]), { upper: true }))).toEqual([2, 1, 0, NaN]);
    // and its gradient is NaN, not an error
    expect(list(c.grad((m: Tensor) => c.sum(c.cholesky(m)))(f64([[NaN, 0], [0, 1]]))).every(Number.isNaN)).toBe(true);
  });

  it("shapes and dtypes", () => {
    expect(() => c.inv(f64([[1, 2, 3], [4, 5, 6]]))).toThrow(ShapeError);
    expect(() => c.inv(f64([[1, 2, 3], [4, 5, 6]]))).toThrow(/^inv: argument must be a square matrix or a batch of them, shape \[\.\.\., n, n\]; got \[2,3\]/);
    expect(() => c.det(f64([1, 2]))).toThrow(/^det: argument must be a square matrix/);
    expect(() => c.inv(c.tensor([[1, 0], [0, 1]], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => c.solve(c.eye(3, 3, "float64"), f64([1, 2]))).toThrow(/^solve: b must have 3 rows to match a: a is \[3,3\], b is \[2\]/);
    expect(() => c.solve(c.zeros([2, 3, 3]), c.zeros([4, 3, 1]))).toThrow(/^solve: batch dimensions cannot be broadcast together: a is \[2,3,3\], b is \[4,3,1\]/);
  });
});
