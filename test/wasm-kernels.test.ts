// The wasm backend's kernels (src/kernels/wasm): GEMM against a float64 triple loop, float32 unary functions
// within 2 ulp of the correctly rounded value over 1M points each, exact agreement with the js kernels where
// the operation is exact, and the fallbacks (other dtypes, tiny arrays) giving the js results.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { TypedArray } from "../src/core/dtype.js";
import { Rng } from "../src/core/random.js";
import type { Backend, KernelTable } from "../src/kernels/backend.js";
import { binaryKernels } from "../src/kernels/binary.js";
import { fusedGradKernels, SATURATION, saturatingGradKernels } from "../src/kernels/fused.js";
import { gemmSerial } from "../src/kernels/gemm-core.js";
import { reduceInto } from "../src/kernels/layout.js";
import { erfScalar } from "../src/kernels/special.js";
import { unaryKernels } from "../src/kernels/unary.js";
import { adamUpdate } from "../src/kernels/optim.js";
import { softmaxCrossEntropyRows } from "../src/kernels/losses.js";
import { createWasmBackend, wasmGemmSerial } from "../src/kernels/wasm/backend.js";
import { getWasm, reserve } from "../src/kernels/wasm/instance.js";
import { requestingNaNMarks, takeNaNFreeMark, takeZeroFreeMark } from "../src/kernels/nan-marks.js";

let backend: Backend;
let k: Partial<KernelTable>;
beforeAll(() => {
  const b = createWasmBackend();
  if (b === null) throw new Error("this Node has no WebAssembly SIMD");
  backend = b;
  k = b.kernels as Partial<KernelTable>;
  // Node compiles synchronously: the module is ready, so the kernels below run in wasm, not their js fallbacks.
  expect(getWasm()).not.toBeNull();
});

type Float = Float32Array | Float64Array;

/** The triple loop in float64: element (i,p) of A at a[ao + i·ars + p·acs], (p,j) of B at b[bo + p·brs + j·bcs]. */
function reference(a: Float, ao: number, ars: number, acs: number, b: Float, bo: number, brs: number, bcs: number, m: number, k: number, n: number, abs = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const t = a[ao + i * ars + p * acs]! * b[bo + p * brs + j * bcs]!;
        s += abs ? Math.abs(t) : t;
      }
      c[i * n + j] = s;
    }
  return c;
}

function randomArray(ctor: typeof Float32Array | typeof Float64Array, len: number, rng: Rng): Float {
  const x = new ctor(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal();
  return x;
}

/**
 * Checks C's m×n block (row stride ldc from co) against the triple loop: within (k + 2)·u·Σ|a·b| (Higham's γ_k
 * for a k-term sum, u = 2⁻²⁴ for float32 sums, 2⁻⁵³ for float64), NaN where the reference is NaN, the same
 * infinity where it is infinite; and that nothing outside the block changed.
 */
function checkGemm(c: Float, before: Float, co: number, ldc: number, want: Float64Array, scale: Float64Array, m: number, k: number, n: number, what: string): void {
  const u = c instanceof Float32Array ? 2 ** -24 : 2 ** -53;
  const inBlock = new Set<number>();
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      const at = co + i * ldc + j;
      inBlock.add(at);
      const g = c[at]!, w = want[i * n + j]!;
      if (Number.isNaN(w) || !Number.isFinite(w)) {
        if (!Object.is(g, w)) expect.fail(`${what}: C[${i},${j}] = ${g}, expected ${w}`);
        continue;
      }
      const tol = (k + 2) * u * scale[i * n + j]! + (c instanceof Float32Array ? 1e-37 : 1e-300);
      if (!(Math.abs(g - w) <= tol)) expect.fail(`${what}: C[${i},${j}] = ${g}, expected ${w} ± ${tol}`);
    }
  for (let i = 0; i < c.length; i++) if (!inBlock.has(i) && !Object.is(c[i], before[i])) expect.fail(`${what}: C[${i}] outside the block changed`);
}

describe("wasm gemm", () => {
  for (const ctor of [Float32Array, Float64Array]) {
    it(`${ctor.name}: odd sizes 1..70, all transpose combinations, offsets, padded ldc, accumulate`, () => {
      const rng = new Rng(7);
      const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 31, 33, 63, 65, 70];
      let cases = 0;
      for (const m of sizes)
        for (const n of sizes)
          for (const kk of [1, 3, 9, 17, 70]) {
            if ((m * 31 + n * 7 + kk) % 5 !== 0 && !(m === 70 && n === 70)) continue; // a spread-out fifth of the grid
            const transA = (m + n) % 2 === 1, transB = (n + kk) % 2 === 1, accumulate = (m + kk) % 3 === 0;
            const ao = 3, bo = 5, co = 2, ldc = n + (m % 3);
            const a = randomArray(ctor, ao + m * kk + 2, rng), b = randomArray(ctor, bo + kk * n + 1, rng);
            const [ars, acs] = transA ? [1, m] : [kk, 1];
            const [brs, bcs] = transB ? [1, kk] : [n, 1];
            const c = randomArray(ctor, co + (m - 1) * ldc + n + 3, rng);
            const before = c.slice();
            const want = reference(a, ao, ars, acs, b, bo, brs, bcs, m, kk, n);
            const scale = reference(a, ao, ars, acs, b, bo, brs, bcs, m, kk, n, true);
            if (accumulate)
              for (let i = 0; i < m; i++)
                for (let j = 0; j < n; j++) {
                  want[i * n + j] += before[co + i * ldc + j]!;
                  scale[i * n + j] += Math.abs(before[co + i * ldc + j]!);
                }
            wasmGemmSerial(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, kk, n, accumulate);
            checkGemm(c, before, co, ldc, want, scale, m, kk, n, `${ctor.name} m=${m} k=${kk} n=${n} transA=${transA} transB=${transB} accumulate=${accumulate}`);
            cases++;
          }
      expect(cases).toBeGreaterThan(150);
    });

    it(`${ctor.name}: every transpose combination at 37×29×45 and a depth over several blocks (k = 600)`, () => {
      const rng = new Rng(11);
      for (const [m, kk, n] of [[37, 29, 45], [9, 600, 11]] as const)
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            const a = randomArray(ctor, m * kk, rng), b = randomArray(ctor, kk * n, rng), c = new ctor(m * n);
            const [ars, acs] = transA ? [1, m] : [kk, 1];
            const [brs, bcs] = transB ? [1, kk] : [n, 1];
            wasmGemmSerial(a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, m, kk, n, false);
            checkGemm(c, c.slice().fill(0), 0, n, reference(a, 0, ars, acs, b, 0, brs, bcs, m, kk, n), reference(a, 0, ars, acs, b, 0, brs, bcs, m, kk, n, true), m, kk, n, `${ctor.name} ${m}×${kk}×${n} transA=${transA} transB=${transB}`);
          }
    });

    it(`${ctor.name}: NaN and ±Infinity propagate as in the triple loop (no zero-skipping)`, () => {
      const m = 9, kk = 7, n = 10;
      const a = new ctor(m * kk).fill(1), b = new ctor(kk * n).fill(0);
      a[2 * kk + 3] = NaN; // row 2 of C: NaN everywhere (NaN · 0)
      a[5 * kk + 1] = Infinity; // row 5: Inf · 0 = NaN
      b[4 * n + 6] = -Infinity; // column 6: 1 · −Inf = −Inf, except rows with NaN
      b[4 * n + 8] = Infinity;
      b[6 * n + 8] = -Infinity; // column 8: Inf − Inf = NaN
      const c = new ctor(m * n);
      wasmGemmSerial(a, 0, kk, 1, b, 0, n, 1, c, 0, n, m, kk, n, false);
      const want = reference(a, 0, kk, 1, b, 0, n, 1, m, kk, n);
      for (let i = 0; i < m * n; i++) expect(c[i], `C[${Math.floor(i / n)},${i % n}]`).toBe(want[i]);
      expect(Number.isNaN(c[2 * n]!) && Number.isNaN(c[5 * n]!) && c[0 * n + 6] === -Infinity && Number.isNaN(c[8])).toBe(true);
    });

    it(`${ctor.name}: a product split by rows (down to single rows) or columns gives the same bits as one call (as threads split it)`, () => {
      const rng = new Rng(3);
      const m = 53, kk = 300, n = 47;
      const a = randomArray(ctor, m * kk, rng), b = randomArray(ctor, kk * n, rng);
      const whole = new ctor(m * n), parts = new ctor(m * n);
      wasmGemmSerial(a, 0, kk, 1, b, 0, n, 1, whole, 0, n, m, kk, n, false);
      // Parts of 20, 30, 2 and 1 rows: the last two take the unpacked path for fewer rows than a micro-tile.
      for (const [from, to] of [[0, 20], [20, 50], [50, 52], [52, 53]] as const) {
        wasmGemmSerial(a, from * kk, kk, 1, b, 0, n, 1, parts, from * n, n, to - from, kk, n, false);
      }
      expect(parts).toEqual(whole);
      const cols = new ctor(m * n);
      wasmGemmSerial(a, 0, kk, 1, b, 0, n, 1, cols, 0, n, m, kk, 13, false);
      wasmGemmSerial(a, 0, kk, 1, b, 13, n, 1, cols, 13, n, m, kk, n - 13, false);
      expect(cols).toEqual(whole);
    });
  }

  it("k = 0 stores zeros (or leaves C with accumulate); m or n = 0 touches nothing", () => {
    const c = new Float32Array([1, 2, 3, 4]);
    wasmGemmSerial(new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 0, 2, 2, 0, 2, true);
    expect(Array.from(c)).toEqual([1, 2, 3, 4]);
    wasmGemmSerial(new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 0, 2, 2, 0, 2, false);
    expect(Array.from(c)).toEqual([0, 0, 0, 0]);
  });

  it("other array types run gemmSerial; the backend's gemm takes views and small products run the js loop", () => {
    const a = Int32Array.from({ length: 12 }, (_, i) => i - 5), b = Int32Array.from({ length: 12 }, (_, i) => 2 * i - 7);
    const c1 = new Int32Array(9), c2 = new Int32Array(9);
    wasmGemmSerial(a, 0, 4, 1, b, 0, 3, 1, c1, 0, 3, 3, 4, 3, false);
    gemmSerial(a, 0, 4, 1, b, 0, 3, 1, c2, 0, 3, 3, 4, 3, false);
    expect(c1).toEqual(c2);
    const x = new Float32Array([1, 2, 3, 4]), y = new Float32Array([5, 6, 7, 8]), z = new Float32Array(4);
    k.gemm!(2, 2, 2, { data: x, offset: 0, rowStride: 2, colStride: 1 }, { data: y, offset: 0, rowStride: 2, colStride: 1 }, z, 0, 2, false);
    expect(Array.from(z)).toEqual([19, 22, 43, 50]);
  });
});

// --- float32 unary functions ---

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Position of a float32 on the line of all float32 values (±0 both at 0), so that ulp distance is a difference. */
function ordinal(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  return bits >= 0x80000000 ? -(bits - 0x80000000) : bits;
}

/** ulp distance between float32 values; 0 for two NaNs, Infinity when only one is NaN. */
function ulps(got: number, want: number): number {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity;
  return Math.abs(ordinal(got) - ordinal(want));
}

/** 1M float32 points: every special value, random bit patterns (all magnitudes, subnormals, NaN, ±Infinity) and a dense range. */
function points(lo: number, hi: number, extra: readonly number[]): Float32Array {
  const n = 1 << 20;
  const x = new Float32Array(n);
  const rng = new Rng(1234);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, -(2 ** -126), 1.1754942e-38, 3.4028235e38, -3.4028235e38, 1e-7, -1e-7, 0.5, -0.5, ...extra];
  x.set(specials);
  const bits = new Uint32Array(x.buffer);
  const third = Math.floor(n / 3);
  for (let i = specials.length; i < third; i++) bits[i] = Math.floor(rng.next() * 2 ** 32);
  for (let i = third; i < n; i++) x[i] = lo + (hi - lo) * rng.next();
  return x;
}

function sigmoidRef(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

const UNARY: { name: string; ref: (x: number) => number; lo: number; hi: number; extra: number[]; group: "unary" | "special" }[] = [
  { name: "exp", ref: Math.exp, lo: -110, hi: 95, extra: [88.72, 88.73, 89, -87.3, -88, -103, -103.9, -104, -110, 1e-30], group: "unary" },
  { name: "expm1", ref: Math.expm1, lo: -20, hi: 20, extra: [1e-10, -1e-10, 88.7, 89, -17, -100, 2 ** -149], group: "unary" },
  { name: "log", ref: Math.log, lo: 0, hi: 4, extra: [-1, -0, 1 + 2 ** -23, 1 - 2 ** -24, 0.7071067, 1e-45, 2 ** -140], group: "unary" },
  { name: "log1p", ref: Math.log1p, lo: -1, hi: 3, extra: [-1, -1.0000001, -0.9999999, 1e-10, -1e-10, 2 ** -149, 1e30], group: "unary" },
  { name: "tanh", ref: Math.tanh, lo: -10, hi: 10, extra: [20, -20, 9.01, -9.01, 1e-5, -1e-5, 0.55, 2 ** -149], group: "unary" },
  { name: "sigmoid", ref: sigmoidRef, lo: -110, hi: 30, extra: [-100, 100, -87, -103.3, -104, -104.5, 16.6, 17.4], group: "unary" },
  { name: "erf", ref: erfScalar, lo: -5, hi: 5, extra: [0.46875, -0.46875, 0.4687501, 3.92, 4, 4.1, 1e-30, 2 ** -149], group: "special" },
  { name: "sqrt", ref: Math.sqrt, lo: 0, hi: 1e6, extra: [-1, -0], group: "unary" },
  { name: "rsqrt", ref: (v) => 1 / Math.sqrt(v), lo: 0, hi: 100, extra: [-1, -0], group: "unary" },
];

describe("wasm float32 unary functions: within 2 ulp of the correctly rounded value over 1M points", () => {
  for (const { name, ref, lo, hi, extra, group } of UNARY) {
    it(name, () => {
      const x = points(lo, hi, extra);
      const got = new Float32Array(x.length);
      const kernel = (group === "unary" ? k.unary : k.special) as Record<string, (a: TypedArray, o: TypedArray) => void>;
      kernel[name]!(x, got);
      let worst = 0, at = 0;
      for (let i = 0; i < x.length; i++) {
        const d = ulps(got[i]!, Math.fround(ref(x[i]!)));
        if (d > worst) { worst = d; at = i; }
      }
      if (worst > 2) expect.fail(`${name}(${x[at]}) = ${got[at]}, expected ${Math.fround(ref(x[at]!))} (${worst} ulp)`);
      // Signed zeros and specials exactly.
      for (const v of [0, -0, Infinity, -Infinity, NaN]) {
        const o = new Float32Array(1024);
        kernel[name]!(new Float32Array(1024).fill(v), o);
        expect(o[0], `${name}(${Object.is(v, -0) ? "-0" : v})`).toBe(Math.fround(ref(v)));
      }
      console.log(`wasm ${name}: max error ${worst} ulp over ${x.length} points`);
    });
  }

  it("saturating and tiny results", () => {
    const run = (name: string, v: number): number => {
      const o = new Float32Array(1024);
      (k.unary as Record<string, (a: TypedArray, o: TypedArray) => void>)[name]!(new Float32Array(1024).fill(v), o);
      return o[0]!;
    };
    expect(run("exp", 89)).toBe(Infinity);
    expect(run("exp", -104)).toBe(Math.fround(Math.exp(-104))); // 0 or the nearest subnormal
    expect(run("exp", -103)).toBe(Math.fround(Math.exp(-103)));
    expect(run("tanh", 20)).toBe(1);
    expect(run("tanh", -20)).toBe(-1);
    expect(run("sigmoid", -100)).toBe(Math.fround(sigmoidRef(-100)));
    expect(run("sigmoid", -100)).toBeGreaterThan(0);
    expect(run("log", 0)).toBe(-Infinity);
    expect(run("log", -1)).toBeNaN();
    expect(run("log1p", -1)).toBe(-Infinity);
    expect(run("log1p", -2)).toBeNaN();
  });
});

describe("wasm float32 kernels that are exact: identical to the js kernels", () => {
  const x = points(-50, 50, []);
  const y = points(-3, 3, [0, -0, 1e-40]).reverse();
  const same = (got: Float32Array, want: Float32Array, what: string): void => {
    for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i} (${x[i]}, ${y[i]}) is ${got[i]}, js gives ${want[i]}`);
  };
  for (const name of ["neg", "abs", "sqrt", "square", "relu", "reciprocal", "rsqrt"] as const) {
    it(`unary ${name}`, () => {
      const got = new Float32Array(x.length), want = new Float32Array(x.length);
      k.unary![name]!(x, got);
      unaryKernels[name](x, want);
      same(got, want, name);
    });
  }
  for (const name of ["add", "sub", "mul", "div", "maximum", "minimum"] as const) {
    it(`binary ${name}, modes 0, 1 and 2`, () => {
      for (const mode of [0, 1, 2] as const) {
        const a = mode === 2 ? new Float32Array([x[7]!]) : x, b = mode === 1 ? new Float32Array([-0.75]) : y;
        const got = new Float32Array(x.length), want = new Float32Array(x.length);
        k.binary![name]!(a, b, got, mode);
        binaryKernels[name](a, b, want, mode);
        same(got, want, `${name} mode ${mode}`);
      }
      const nan = new Float32Array(2048).fill(NaN), ones = new Float32Array(2048).fill(1), o = new Float32Array(2048);
      k.binary![name]!(ones, nan, o, 0);
      expect(o[5]).toBeNaN();
    });
  }
  for (const name of ["reluGrad", "squareGrad"] as const) {
    it(`fused ${name}`, () => {
      const got = new Float32Array(x.length), want = new Float32Array(x.length);
      k.fusedGrad![name]!(y, x, got);
      fusedGradKernels[name](y, x, want);
      same(got, want, name);
    });
  }
});

describe("wasm tanh and sigmoid cotangents (saturatingGrad)", () => {
  const x = points(-50, 50, [0, -0, 9, 12, 40, -40, Infinity, -Infinity, NaN]);
  const ct = points(-3, 3, [1, 1, 1, 1, 1, 1, 1, 1, 1]).reverse();
  const cases = [
    { name: "tanhGrad", f: unaryKernels.tanh, saturated: (v: number) => Math.abs(v) > SATURATION, slope: (v: number) => 1 / Math.cosh(v) ** 2, rounded: 12 },
    { name: "sigmoidGrad", f: unaryKernels.sigmoid, saturated: (v: number) => v > SATURATION, slope: (v: number) => sigmoidRef(v) * sigmoidRef(-v), rounded: 40 },
  ] as const;
  for (const { name, f, saturated, slope, rounded } of cases) {
    it(`${name}: identical to js from the output, within 1 ulp from the input, within 2 ulp of ct·f'(x)`, () => {
      const y = new Float32Array(x.length);
      f(x, y);
      const got = new Float32Array(x.length), want = new Float32Array(x.length);
      k.saturatingGrad![name]!(x, y, ct, got);
      saturatingGradKernels[name](x, y, ct, want);
      let fromInput = 0;
      for (let i = 0; i < x.length; i++) {
        if (saturated(y[i]!)) {
          fromInput++;
          if (ulps(got[i]!, want[i]!) > 1) expect.fail(`${name}(${x[i]}): wasm ${got[i]}, js ${want[i]}`);
        } else if (!Object.is(got[i], want[i])) expect.fail(`${name}(${x[i]}): wasm ${got[i]}, js ${want[i]} (output-based, should be identical)`);
        // Against the float64 truth: within 2 ulp where the input-based formula runs (the reason these kernels
        // exist), and within the documented bound below SATURATION (y's rounding amplified by under 32, plus rounding).
        const exact = Math.fround(ct[i]! * slope(x[i]!));
        if (Number.isFinite(x[i]!) && Math.abs(exact) >= 2 ** -126 && Number.isFinite(exact)) {
          if (saturated(y[i]!) ? ulps(want[i]!, exact) > 2 : Math.abs(want[i]! - exact) > 2.5e-6 * Math.abs(exact)) {
            expect.fail(`${name}(${x[i]}) = ${want[i]}, exact ${exact}`);
          }
        }
      }
      expect(fromInput).toBeGreaterThan(x.length / 4);
      // Past the point where y rounds to 1 the derivative is still positive, not 0.
      const at = x.indexOf(rounded);
      expect(y[at]).toBe(1);
      expect(want[at]! / ct[at]!).toBeGreaterThan(0);
      expect(got[x.findIndex(Number.isNaN)]).toBeNaN();
      expect(Math.abs(got[x.indexOf(Infinity)]!)).toBe(0);
    });
  }
});

describe("NaN marks for the strong-zero check (anyNaNF32 and the wrappers)", () => {
  it("anyNaNF32 reads exactly n values: a NaN at n − 1 counts, one just past n does not, for every tail length", () => {
    const w = getWasm()!;
    const at = reserve(w, 64 * 4);
    for (let n = 0; n <= 19; n++) {
      w.f32.fill(1, at >> 2, (at >> 2) + 64);
      w.f32[(at >> 2) + n] = NaN; // past the end: an earlier chunk's leftovers
      expect(w.exports.anyNaNF32(at, n)).toBe(0);
      if (n > 0) {
        w.f32[(at >> 2) + n - 1] = NaN;
        expect(w.exports.anyNaNF32(at, n)).toBe(1);
      }
    }
  });

  it("binary, fused and saturating kernels mark a NaN-free output only when asked, never one holding a NaN (in any chunk)", () => {
    const n = 8192 * 2 + 3; // two whole chunks and a tail
    const a = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
    const b = Float32Array.from({ length: n }, (_, i) => 0.5 - (i % 3));
    const mul = k.binary!.mul!;
    const run = (x: Float32Array, y: Float32Array) => { const o = new Float32Array(n); mul(x, y, o, 0); return o; };
    expect(takeNaNFreeMark(run(a, b))).toBe(false); // not requested: no check, no mark
    const clean = requestingNaNMarks(() => run(a, b));
    expect(takeNaNFreeMark(clean)).toBe(true);
    expect(takeNaNFreeMark(clean)).toBe(false); // consumed
    for (const at of [0, 8191, 8192, n - 1]) {
      const bad = Float32Array.from(b);
      bad[at] = NaN;
      expect(takeNaNFreeMark(requestingNaNMarks(() => run(a, bad)))).toBe(false);
      const inf = Float32Array.from(a);
      inf[at] = Infinity;
      const zero = Float32Array.from(b);
      zero[at] = 0; // ∞·0 = NaN, made by the kernel itself
      expect(takeNaNFreeMark(requestingNaNMarks(() => run(inf, zero)))).toBe(false);
    }
    const o = new Float32Array(n);
    requestingNaNMarks(() => k.fusedGrad!.squareGrad!(a, b, o));
    expect(takeNaNFreeMark(o)).toBe(true);
    const y = new Float32Array(n);
    unaryKernels.tanh(a, y);
    const ct = Float32Array.from(b);
    requestingNaNMarks(() => k.saturatingGrad!.tanhGrad!(a, y, ct, o));
    expect(takeNaNFreeMark(o)).toBe(true);
    ct[n - 1] = NaN;
    requestingNaNMarks(() => k.saturatingGrad!.tanhGrad!(a, y, ct, o));
    expect(takeNaNFreeMark(o)).toBe(false);
  });
});

describe("zero marks for structural zeros (anyZeroF32 and the wrappers)", () => {
  it("anyZeroF32 finds +0 and −0 among exactly n values, for every tail length", () => {
    const w = getWasm()!;
    const at = reserve(w, 64 * 4);
    for (let n = 0; n <= 19; n++) {
      w.f32.fill(1e-30, at >> 2, (at >> 2) + 64); // tiny but not zero
      w.f32[(at >> 2) + n] = 0; // past the end
      expect(w.exports.anyZeroF32(at, n)).toBe(0);
      if (n > 0) {
        w.f32[(at >> 2) + n - 1] = -0;
        expect(w.exports.anyZeroF32(at, n)).toBe(1);
      }
    }
  });

  it("binary, fused and saturating kernels mark a zero-free output only when asked, never one holding a zero (in any chunk)", () => {
    const n = 8192 * 2 + 3;
    const a = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
    const b = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 3));
    const mul = k.binary!.mul!;
    const run = (x: Float32Array, y: Float32Array) => { const o = new Float32Array(n); mul(x, y, o, 0); return o; };
    expect(takeZeroFreeMark(run(a, b))).toBe(false); // not requested
    const clean = requestingNaNMarks(() => run(a, b));
    expect(takeZeroFreeMark(clean)).toBe(true);
    expect(takeZeroFreeMark(clean)).toBe(false); // consumed
    for (const at of [0, 8191, 8192, n - 1]) {
      const zero = Float32Array.from(b);
      zero[at] = -0;
      expect(takeZeroFreeMark(requestingNaNMarks(() => run(a, zero)))).toBe(false);
      const tiny = Float32Array.from(b);
      tiny[at] = 1e-30; // 1e-30 · (1…7) underflows to 0 in float32 only past 1e-38: stays non-zero
      expect(takeZeroFreeMark(requestingNaNMarks(() => run(a, tiny)))).toBe(true);
      tiny[at] = 1e-45; // the product of two non-zeros underflows to 0: the kernel's own zero counts
      expect(takeZeroFreeMark(requestingNaNMarks(() => run(Float32Array.from(a, () => 1e-10), tiny)))).toBe(false);
    }
    const o = new Float32Array(n);
    requestingNaNMarks(() => k.fusedGrad!.squareGrad!(a, b, o));
    expect(takeZeroFreeMark(o)).toBe(true);
    const x0 = Float32Array.from(a);
    x0[5] = 0; // squareGrad = 2·x·ct is 0 there
    requestingNaNMarks(() => k.fusedGrad!.squareGrad!(x0, b, o));
    expect(takeZeroFreeMark(o)).toBe(false);
    const y = new Float32Array(n);
    unaryKernels.tanh(a, y);
    const ct = Float32Array.from(b);
    requestingNaNMarks(() => k.saturatingGrad!.tanhGrad!(a, y, ct, o));
    expect(takeZeroFreeMark(o)).toBe(true);
    ct[n - 1] = 0;
    requestingNaNMarks(() => k.saturatingGrad!.tanhGrad!(a, y, ct, o));
    expect(takeZeroFreeMark(o)).toBe(false);
  });
});

describe("wasm adamUpdate", () => {
  it("float32 Adam and AdamW steps are bit-identical to the js kernel", () => {
    const rng = new Rng(21);
    const n = 20000 + 3;
    const init = (scale: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);
    for (const [decoupled, t, wd] of [[false, 1, 0], [false, 7, 0.01], [true, 3, 0.05]] as const) {
      const p = init(1), g = init(0.1), m = init(0.01), v = init(0.001).map(Math.abs);
      g[5] = 0; v[6] = 0; m[7] = 0;
      const [p2, m2, v2] = [p.slice(), m.slice(), v.slice()];
      k.adamUpdate!(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, t);
      adamUpdate(p2, g, m2, v2, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, t);
      expect(p).toEqual(p2);
      expect(m).toEqual(m2);
      expect(v).toEqual(v2);
    }
  });
});

describe("wasm softmaxCrossEntropyRows", () => {
  it("matches the js kernel within 1 ulp, NaN and infinite logits included", () => {
    const rng = new Rng(17);
    for (const [rows, classes] of [[64, 10], [3, 1], [5, 7], [2, 3000], [200, 33]] as const) {
      const x = Float32Array.from({ length: rows * classes }, () => rng.normal() * 5);
      const t = new Float32Array(rows * classes);
      for (let r = 0; r < rows; r++) t[r * classes + rng.int(classes)] = 1;
      if (rows > 3) {
        t.fill(1 / classes, 0, classes); // a soft-target row
        x[classes] = -Infinity; // a ruled-out class in row 1
        x.fill(-Infinity, 2 * classes, 3 * classes); // row 2: every logit −∞ (NaN where t ≠ 0)
        x[3 * classes + 1] = Infinity; // row 3: +∞
        if (rows > 4) x[4 * classes] = NaN; // row 4: NaN
      }
      const got = new Float32Array(rows), want = new Float32Array(rows);
      k.softmaxCrossEntropyRows!(x, t, rows, classes, got);
      softmaxCrossEntropyRows(x, t, rows, classes, want);
      for (let r = 0; r < rows; r++) {
        if (ulps(got[r]!, want[r]!) > 1) expect.fail(`[${rows},${classes}] row ${r}: ${got[r]}, js gives ${want[r]}`);
      }
    }
  });
});

describe("wasm sums", () => {
  it("a 1M-element float32 sum stays accurate (float64 accumulation)", () => {
    const n = 1 << 20;
    const rng = new Rng(5);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 1 + rng.next() * 1e-3;
    const out = new Float32Array(1);
    k.reduce!(x, [n], [0], out, "sum");
    let exact = 0;
    for (let i = 0; i < n; i++) exact += x[i]!;
    expect(ulps(out[0]!, Math.fround(exact))).toBeLessThanOrEqual(1);
  });

  it("trailing-axis sums of every row length match the js reduction; other reductions are the js ones", () => {
    const rng = new Rng(9);
    for (const [rows, run] of [[1, 5000], [3, 1], [7, 3], [1000, 7], [50, 64], [2, 100000], [64, 33]] as const) {
      const x = new Float32Array(rows * run).map(() => rng.normal());
      const got = new Float32Array(rows), want = new Float32Array(rows);
      k.reduce!(x, [rows, run], [1], got, "sum");
      reduceInto(x, [rows, run], [1], want, "sum");
      for (let r = 0; r < rows; r++) expect(ulps(got[r]!, want[r]!), `rows ${rows} run ${run} row ${r}`).toBeLessThanOrEqual(1);
    }
    const x = new Float32Array(4096).map(() => rng.normal());
    for (const [shape, axes, kind] of [[[64, 64], [0], "sum"], [[64, 64], [1], "max"], [[4, 32, 32], [1, 2], "prod"], [[4, 32, 32], [1, 2], "sum"]] as const) {
      const size = shape[0] * (axes.length === 2 || axes[0] === 1 ? 1 : shape[1]);
      const got = new Float32Array(axes[0] === 0 ? 64 : size), want = new Float32Array(got.length);
      k.reduce!(x, shape, axes, got, kind);
      reduceInto(x, shape, axes, want, kind);
      for (let i = 0; i < got.length; i++) expect(ulps(got[i]!, want[i]!), `${kind} over ${axes} of [${shape}]`).toBeLessThanOrEqual(1);
    }
  });
});

describe("wasm fallbacks", () => {
  it("other dtypes and tiny arrays give the js kernels' results", () => {
    const i32 = Int32Array.from({ length: 5000 }, (_, i) => i - 2500);
    const o1 = new Int32Array(5000), o2 = new Int32Array(5000);
    k.unary!.neg!(i32, o1);
    unaryKernels.neg(i32, o2);
    expect(o1).toEqual(o2);
    k.binary!.add!(i32, i32, o1, 0);
    binaryKernels.add(i32, i32, o2, 0);
    expect(o1).toEqual(o2);
    const f64 = Float64Array.from({ length: 5000 }, (_, i) => i / 100 - 25);
    const d1 = new Float64Array(5000), d2 = new Float64Array(5000);
    k.unary!.exp!(f64, d1);
    unaryKernels.exp(f64, d2);
    expect(d1).toEqual(d2);
    for (const len of [1, 3, 7]) {
      const a = Float32Array.from({ length: len }, (_, i) => i * 0.37 - 1);
      const g = new Float32Array(len), w = new Float32Array(len);
      k.unary!.tanh!(a, g);
      unaryKernels.tanh(a, w);
      expect(g).toEqual(w);
      k.binary!.mul!(a, a, g, 0);
      binaryKernels.mul(a, a, w, 0);
      expect(g).toEqual(w);
    }
  });

  it("where synchronous compilation is refused (a browser's main thread), kernels run js until the module is ready", async () => {
    const Module = WebAssembly.Module;
    vi.resetModules();
    (WebAssembly as { Module: unknown }).Module = function refused(): never { throw new RangeError("WebAssembly.Module is disallowed on the main thread"); };
    try {
      const fresh = (await import("../src/kernels/wasm/backend.js")).createWasmBackend();
      const inst = await import("../src/kernels/wasm/instance.js");
      expect(fresh).not.toBeNull();
      expect(inst.getWasm()).toBeNull(); // compiling in the background
      const x = Float32Array.from({ length: 4096 }, (_, i) => i / 1000 - 2), got = new Float32Array(4096), want = new Float32Array(4096);
      fresh!.kernels.unary!.tanh!(x, got);
      unaryKernels.tanh(x, want);
      expect(got).toEqual(want); // the js kernel ran
      for (let i = 0; i < 100 && inst.getWasm() === null; i++) await new Promise((r) => setTimeout(r, 10));
      expect(inst.getWasm()).not.toBeNull();
      fresh!.kernels.unary!.neg!(x, got);
      expect(got[5]).toBe(-x[5]!);
    } finally {
      (WebAssembly as { Module: unknown }).Module = Module;
    }
  });

  it("describes itself", () => {
    expect(backend.name).toBe("wasm");
    expect(backend.describe().detail).toMatch(/WebAssembly SIMD/);
  });
});
