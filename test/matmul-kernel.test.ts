import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matmulInto } from "../src/kernels/matmul.js";
import { availableBackends, checkGrads, getBackend, grad, matmul, mul, randn, setBackend, sum, tanh, tensor, type BackendName, type Tensor } from "../src/index.js";
import { Rng } from "../src/core/random.js";

type Arr = Float32Array | Float64Array;

/** Reference: the plain triple loop in float64 over op(A)[m,k] · op(B)[k,n]. */
function naive(a: Arr, b: Arr, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      c[i * n + j] = s;
    }
  return c;
}

/** Σ_p |op(A)[i,p]·op(B)[p,j]| per element: the scale of a product's rounding error. */
function naiveAbs(a: Arr, b: Arr, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const abs = (x: Arr): Float64Array => Float64Array.from(x, Math.abs);
  return naive(abs(a), abs(b), m, k, n, transA, transB);
}

function filled(ctor: typeof Float32Array | typeof Float64Array, len: number, rng: Rng): Arr {
  const x = new ctor(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal();
  return x;
}

/**
 * `scale` (from naiveAbs) switches to the float32-accumulation bound of a backend that sums in float32
 * (BLAS, wasm): |got − exact| ≤ (k + 2)·u·Σ|a·b| with u = 2⁻²⁴, the standard bound γ_k for a sum of k
 * products (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.1) plus the final store.
 */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, where: string, scale?: { abs: ArrayLike<number>; k: number }): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) expect.fail(`${where}: element ${i} is ${g}, expected NaN`);
      continue;
    }
    if (g === w) continue; // also ±Infinity
    const tol = scale ? (scale.k + 2) * 2 ** -24 * scale.abs[i]! : rtol * (1 + Math.abs(w));
    if (!(Math.abs(g - w) <= tol)) expect.fail(`${where}: element ${i} is ${g}, expected ${w}`);
  }
}

// Sizes around the kernel's edges: 1×1, odd sizes smaller than a 4×4 tile, sizes past the 16³ direct
// path, depth past one 256-deep block, rows past one 64-row block, and columns past one 1024-column block.
const SIZES: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [1, 300, 1], [5, 1, 6], [4, 4, 4], [17, 17, 17],
  [67, 129, 33], [130, 20, 9], [9, 600, 13], [6, 10, 1030], [3, 70, 90],
];

describe.each(availableBackends())("matmulInto on the %s backend", (backend: BackendName) => {
  let before: BackendName;
  beforeAll(() => { before = getBackend().name; setBackend(backend); });
  afterAll(() => setBackend(before));
  // The js kernel accumulates float32 products in float64; BLAS and wasm accumulate in float32, as PyTorch does.
  const f32Scale = (a: Arr, b: Arr, m: number, k: number, n: number, tA = false, tB = false) =>
    backend === "js" ? undefined : { abs: naiveAbs(a, b, m, k, n, tA, tB), k };
  for (const ctor of [Float32Array, Float64Array]) {
    const rtol = ctor === Float32Array ? 2e-6 : 1e-12;
    for (const [m, k, n] of SIZES) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it(`${ctor.name} ${m}×${k}·${k}×${n}${tA ? " Aᵀ" : ""}${tB ? " Bᵀ" : ""} matches the triple loop`, () => {
          const rng = new Rng(m * 1000 + k * 10 + n);
          const a = filled(ctor, m * k, rng), b = filled(ctor, k * n, rng);
          const c = new ctor(m * n).fill(12345); // stale values must be overwritten
          matmulInto(a, 0, b, 0, c, 0, m, k, n, tA, tB);
          // Round the reference to the output type, as the kernel does when it stores.
          expectClose(c, ctor.from(naive(a, b, m, k, n, tA, tB)), rtol, `${m}×${k}·${k}×${n}`, ctor === Float32Array ? f32Scale(a, b, m, k, n, tA, tB) : undefined);
        });
      }
    }
  }

  it("reads and writes at offsets without touching neighbouring storage", () => {
    const m = 67, k = 129, n = 33, off = 7;
    const rng = new Rng(3);
    const a = filled(Float32Array, off + m * k + 5, rng), b = filled(Float32Array, off + 2 + k * n, rng);
    const c = new Float32Array(off + 3 + m * n + 4).fill(-1);
    matmulInto(a, off, b, off + 2, c, off + 3, m, k, n);
    const want = naive(a.subarray(off, off + m * k), b.subarray(off + 2, off + 2 + k * n), m, k, n);
    const sa = a.subarray(off, off + m * k), sb = b.subarray(off + 2, off + 2 + k * n);
    expectClose(c.subarray(off + 3, off + 3 + m * n), Float32Array.from(want), 2e-6, "offset", f32Scale(sa, sb, m, k, n));
    expect(Array.from(c.subarray(0, off + 3))).toEqual(new Array(off + 3).fill(-1));
    expect(Array.from(c.subarray(off + 3 + m * n))).toEqual([-1, -1, -1, -1]);
  });

  it("propagates NaN and Infinity like the triple loop (no zero-skipping)", () => {
    for (const [m, k, n] of [[3, 5, 7], [67, 129, 33]] as const) {
      const a = new Float64Array(m * k).fill(0);
      const b = new Float64Array(k * n).fill(1);
      a[1 * k + 2] = NaN; // row 1 of C becomes NaN
      a[2 * k + 0] = Infinity; // row 2: +Infinity where B[0,j] > 0 ...
      b[0 * n + 3] = 0; // ... and Infinity·0 = NaN at column 3
      b[4 * n + 5] = NaN; // column 5 is NaN even where A is 0 (0·NaN = NaN)
      const c = new Float64Array(m * n);
      matmulInto(a, 0, b, 0, c, 0, m, k, n);
      const want = naive(a, b, m, k, n);
      expect(Number.isNaN(want[1 * n]!) && want[2 * n] === Infinity && Number.isNaN(want[2 * n + 3]!) && Number.isNaN(want[5]!)).toBe(true);
      expectClose(c, want, 0, `NaN ${m}×${k}·${k}×${n}`);
    }
  });

  it("gives zeros for an empty inner dimension and does nothing for an empty output", () => {
    const c = new Float32Array(6).fill(9);
    matmulInto(new Float32Array(0), 0, new Float32Array(0), 0, c, 0, 2, 0, 3);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
    const d = new Float32Array(2).fill(9);
    matmulInto(new Float32Array(0), 0, new Float32Array(4), 0, d, 0, 0, 2, 2);
    expect(Array.from(d)).toEqual([9, 9]);
  });

  it("backs the public matmul, batched", () => {
    const rng = new Rng(11);
    const a = filled(Float32Array, 2 * 67 * 129, rng), b = filled(Float32Array, 129 * 33, rng);
    const out = matmul(tensor(a, { shape: [2, 67, 129] }), tensor(b, { shape: [129, 33] }));
    expect(out.shape).toEqual([2, 67, 33]);
    const want = new Float64Array(2 * 67 * 33);
    want.set(naive(a.subarray(0, 67 * 129), b, 67, 129, 33), 0);
    want.set(naive(a.subarray(67 * 129), b, 67, 129, 33), 67 * 33);
    const abs = new Float64Array(2 * 67 * 33);
    abs.set(naiveAbs(a.subarray(0, 67 * 129), b, 67, 129, 33), 0);
    abs.set(naiveAbs(a.subarray(67 * 129), b, 67, 129, 33), 67 * 33);
    expectClose(out.data, Float32Array.from(want), 2e-6, "batched", backend === "js" ? undefined : { abs, k: 129 });
  });
});

describe("matmul rules read transposed operands through strides", () => {
  // Shapes with broadcast batch dimensions, so the rules' cotangents (products with one operand read
  // transposed) are summed back over the batch by the engine; order 3 reaches rules of rules of rules,
  // where both operands are read transposed.
  const shapes: [number[], number[]][] = [[[3, 4], [4, 5]], [[2, 3, 4], [4, 2]], [[3, 4], [2, 4, 5]], [[2, 1, 3, 4], [3, 4, 2]]];
  it.each(shapes)("A %j @ B %j: derivatives to third order agree with finite differences", (sa, sb) => {
    const a = randn(sa, { seed: 11, dtype: "float64" }), b = randn(sb, { seed: 12, dtype: "float64" });
    expect(() => checkGrads((x: Tensor, y: Tensor) => sum(tanh(mul(matmul(x, y), 0.5))), [a, b], { order: 3 })).not.toThrow();
  });

  it("the gradient of sum(A @ B) is exact: row sums of B and column sums of A", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]), b = tensor([[1, -1], [2, 0.5], [0, 3]]);
    const [ga, gb] = grad((x: Tensor, y: Tensor) => sum(matmul(x, y)), { argnums: [0, 1] })(a, b) as [Tensor, Tensor];
    expect(ga.toArray()).toEqual([[0, 2.5, 3], [0, 2.5, 3]]);
    expect(gb.toArray()).toEqual([[5, 5], [7, 7], [9, 9]]);
  });
});
