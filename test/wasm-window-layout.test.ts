// The window, layout and reduction kernels of the KernelTable on the wasm backend against the js kernels:
// im2col, col2im, the pooling gathers and scatters and the layout kernels must give the same bits (they only
// move values, or add into each position in the js order); the conv drivers the same bits for the same GEMM;
// reductions the js values within their final rounding. Then the public conv2d / maxPool2d on every backend
// against js, values and gradients, and the staging of operands in wasm memory that the drivers rely on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TypedArray } from "../src/core/dtype.js";
import { Rng } from "../src/core/random.js";
import type { ConvKernels, KernelTable, LayoutKernels } from "../src/kernels/backend.js";
import type { WindowGeometry } from "../src/kernels/conv.js";
import { jsKernels } from "../src/kernels/js-backend.js";
import { setKernelMinimums } from "../src/kernels/registry.js";
import { createWasmBackend, wasmGemmSerial } from "../src/kernels/wasm/backend.js";
import { getWasm, hold, release } from "../src/kernels/wasm/instance.js";
import { availableBackends, getBackend, grad, jvp, mul, nn, randn, setBackend, sum, tensor, vjp, ShapeError, ValueError } from "../src/index.js";
import type { BackendName, Tensor } from "../src/index.js";

let wk: { conv: ConvKernels; layout: LayoutKernels; reduce: KernelTable["reduce"] };
const js = jsKernels;

beforeAll(() => {
  const b = createWasmBackend();
  if (b === null) throw new Error("this Node has no WebAssembly SIMD");
  expect(getWasm()).not.toBeNull();
  const k = b.kernels;
  wk = { conv: k.conv as ConvKernels, layout: k.layout as LayoutKernels, reduce: k.reduce! };
  // Small shapes below reach the wasm kernels, not their js fallbacks.
  setKernelMinimums(0);
});
afterAll(() => setKernelMinimums(null));

type Ctor = typeof Float32Array | typeof Float64Array;
const FLOATS: readonly Ctor[] = [Float32Array, Float64Array];

function randomArray(ctor: Ctor, n: number, rng: Rng): Float32Array | Float64Array {
  const x = new ctor(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

/** The window geometry of an [n, c, h, w] input, a kh×kw window, strides and padding. */
function geometry(n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): WindowGeometry {
  return { n, c, h, w, kh, kw, sh, sw, ph, pw, oh: Math.floor((h + 2 * ph - kh) / sh) + 1, ow: Math.floor((w + 2 * pw - kw) / sw) + 1 };
}

/** Same length and, element by element, the same value (Object.is: ±0 told apart; any NaN matches any NaN). */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) expect.fail(`${what}[${i}]: ${got[i]}, js gives ${want[i]}`);
  }
}

// Geometries: the CNN's, odd sizes, strides, padding, non-square windows, windows wider than the stride.
const GEOMETRIES: readonly WindowGeometry[] = [
  geometry(3, 1, 28, 28, 5, 5, 1, 1, 0, 0),
  geometry(2, 3, 12, 12, 5, 5, 1, 1, 0, 0),
  geometry(2, 2, 7, 6, 3, 2, 2, 1, 1, 0),
  geometry(1, 3, 9, 11, 3, 3, 2, 3, 1, 1),
  geometry(2, 1, 5, 5, 5, 5, 1, 1, 2, 2),
  geometry(1, 2, 1, 9, 1, 4, 1, 2, 0, 1),
  geometry(3, 2, 4, 3, 2, 3, 3, 2, 1, 1),
];

const label = (g: WindowGeometry): string => `[${g.n},${g.c},${g.h},${g.w}] window ${g.kh}×${g.kw} stride ${g.sh},${g.sw} padding ${g.ph},${g.pw}`;

describe("wasm im2col and col2im", () => {
  for (const ctor of FLOATS) {
    it(`${ctor.name}: the same bits as js (padding read as 0 or −∞, NaN carried)`, () => {
      const rng = new Rng(1);
      for (const g of GEOMETRIES) {
        const x = randomArray(ctor, g.n * g.c * g.h * g.w, rng);
        x[0] = NaN;
        const size = g.c * g.kh * g.kw * g.n * g.oh * g.ow;
        for (const pad of [0, -Infinity]) {
          const got = new ctor(size), want = new ctor(size);
          wk.conv.im2col(x, g, pad, got);
          js.conv.im2col(x, g, pad, want);
          expectSame(got, want, `im2col ${label(g)} pad ${pad}`);
        }
        const cols = randomArray(ctor, size, rng);
        const got = new ctor(x.length).fill(7), want = new ctor(x.length).fill(7); // overwritten, not added to
        wk.conv.col2im(cols, g, got);
        js.conv.col2im(cols, g, want);
        expectSame(got, want, `col2im ${label(g)}`);
      }
    });
  }
});

describe("wasm conv drivers (the same GEMM as js: the same bits)", () => {
  for (const ctor of FLOATS) {
    it(`${ctor.name}: forward, input gradient and weight gradient`, () => {
      const rng = new Rng(2);
      // The last shape needs two chunks of images (over 1M column values).
      for (const [g, o] of [...GEOMETRIES.map((g) => [g, 4] as const), [geometry(40, 4, 32, 32, 3, 3, 1, 1, 0, 0), 6] as const]) {
        const x = randomArray(ctor, g.n * g.c * g.h * g.w, rng);
        const w = randomArray(ctor, o * g.c * g.kh * g.kw, rng);
        const ct = randomArray(ctor, g.n * o * g.oh * g.ow, rng);
        const bias = randomArray(ctor, o, rng);
        const run = (k: ConvKernels) => {
          const y = new ctor(ct.length).fill(3), yb = new ctor(ct.length).fill(3), dx = new ctor(x.length).fill(3), dw = new ctor(w.length).fill(3);
          k.forward(x, w, null, g, o, y);
          k.forward(x, w, bias, g, o, yb);
          k.inputGrad(ct, w, g, o, dx);
          k.weightGrad(x, ct, g, o, dw);
          return [y, yb, dx, dw];
        };
        const [got, want] = [run(wk.conv), run(js.conv)];
        for (const [i, name] of ["forward", "forward with bias", "inputGrad", "weightGrad"].entries()) expectSame(got[i]!, want[i]!, `${name} ${label(g)} o=${o}`);
        // The bias is added as a separate add would: the float sum of each output and its channel's bias.
        const p = g.oh * g.ow;
        for (let i = 0; i < want[0]!.length; i++) {
          const sumOf = ctor === Float32Array ? Math.fround(want[0]![i]! + bias[Math.floor(i / p) % o]!) : want[0]![i]! + bias[Math.floor(i / p) % o]!;
          if (!Object.is(want[1]![i], sumOf)) expect.fail(`bias at ${i}: ${want[1]![i]}, expected ${sumOf}`);
        }
      }
    });
  }

  it("a NaN in x or w reaches the outputs it touches, as in js", () => {
    const g = geometry(2, 2, 6, 6, 3, 3, 1, 1, 1, 1), o = 3;
    const rng = new Rng(3);
    const x = randomArray(Float32Array, 2 * 2 * 36, rng), w = randomArray(Float32Array, o * 2 * 9, rng);
    x[40] = NaN;
    w[5] = Infinity;
    const got = new Float32Array(2 * o * 36), want = new Float32Array(got.length);
    wk.conv.forward(x, w, null, g, o, got);
    js.conv.forward(x, w, null, g, o, want);
    expectSame(got, want, "forward with NaN and Infinity");
    expect(got.some(Number.isNaN)).toBe(true);
  });
});

describe("wasm max pooling: argmax, gather, scatter", () => {
  // 2×2 stride 2 (the SIMD path) at widths that are and are not multiples of 4 outputs, odd sizes, and the
  // general loop with overlapping, padded and non-square windows.
  const POOLS: readonly WindowGeometry[] = [
    geometry(2, 3, 24, 24, 2, 2, 2, 2, 0, 0),
    geometry(2, 2, 8, 8, 2, 2, 2, 2, 0, 0),
    geometry(1, 2, 7, 13, 2, 2, 2, 2, 0, 0),
    geometry(1, 1, 4, 22, 2, 2, 2, 2, 0, 0),
    geometry(2, 2, 9, 9, 3, 3, 2, 2, 1, 1),
    geometry(1, 3, 6, 7, 2, 3, 1, 2, 1, 1),
    geometry(1, 1, 5, 5, 3, 3, 1, 1, 0, 0),
  ];

  /** Random values with ties (few distinct values), NaN, ±Infinity and ±0 sprinkled in. */
  function tricky(ctor: Ctor, n: number, rng: Rng): Float32Array | Float64Array {
    const x = new ctor(n);
    const specials = [NaN, Infinity, -Infinity, 0, -0];
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      x[i] = u < 0.05 ? specials[rng.int(specials.length)]! : u < 0.5 ? rng.int(3) - 1 : rng.normal();
    }
    return x;
  }

  for (const ctor of FLOATS) {
    it(`${ctor.name}: the same indices and bits as js, ties to the first, NaN propagating`, () => {
      const rng = new Rng(4);
      for (const g of POOLS) {
        for (let rep = 0; rep < 3; rep++) {
          const x = tricky(ctor, g.n * g.c * g.h * g.w, rng);
          const outs = g.n * g.c * g.oh * g.ow;
          const gi = new Int32Array(outs), wi = new Int32Array(outs);
          wk.conv.maxPoolArgmax(x, g, gi);
          js.conv.maxPoolArgmax(x, g, wi);
          expectSame(gi, wi, `argmax ${label(g)}`);
          const y = randomArray(ctor, x.length, rng);
          for (const src of [x, y]) {
            const got = new ctor(outs), want = new ctor(outs);
            wk.conv.maxPoolGather(x, src, g, got);
            js.conv.maxPoolGather(x, src, g, want);
            expectSame(got, want, `gather ${src === x ? "x" : "y"} ${label(g)}`);
          }
          const ct = tricky(ctor, outs, rng);
          const got = new ctor(x.length).fill(5), want = new ctor(x.length).fill(5);
          wk.conv.maxPoolScatter(x, ct, g, got);
          js.conv.maxPoolScatter(x, ct, g, want);
          expectSame(got, want, `scatter ${label(g)}`);
        }
      }
    });
  }

  it("a batch larger than one chunk of planes (over 2^20 inputs): the same indices and bits as js", () => {
    const rng = new Rng(8);
    for (const g of [geometry(3, 2, 300, 301, 2, 2, 2, 2, 0, 0), geometry(2, 3, 250, 250, 3, 3, 2, 2, 1, 1)]) {
      const x = tricky(Float32Array, g.n * g.c * g.h * g.w, rng);
      const outs = g.n * g.c * g.oh * g.ow;
      const gi = new Int32Array(outs), wi = new Int32Array(outs);
      wk.conv.maxPoolArgmax(x, g, gi);
      js.conv.maxPoolArgmax(x, g, wi);
      expectSame(gi, wi, `argmax ${label(g)}`);
      const got = new Float32Array(outs), want = new Float32Array(outs);
      wk.conv.maxPoolGather(x, x, g, got);
      js.conv.maxPoolGather(x, x, g, want);
      expectSame(got, want, `gather ${label(g)}`);
      const ct = randomArray(Float32Array, outs, rng);
      const dg = new Float32Array(x.length), dw = new Float32Array(x.length);
      wk.conv.maxPoolScatter(x, ct, g, dg);
      js.conv.maxPoolScatter(x, ct, g, dw);
      expectSame(dg, dw, `scatter ${label(g)}`);
    }
  });

  it("a window holding NaN gives NaN, and its gradient goes to the NaN", () => {
    const g = geometry(1, 1, 4, 8, 2, 2, 2, 2, 0, 0);
    const x = new Float32Array(32).map((_, i) => i);
    x[1] = NaN;
    x[8 + 6] = NaN; // second row of the fourth window
    const out = new Float32Array(8), idx = new Int32Array(8);
    wk.conv.maxPoolGather(x, x, g, out);
    wk.conv.maxPoolArgmax(x, g, idx);
    expect(Number.isNaN(out[0]!) && Number.isNaN(out[3]!)).toBe(true);
    expect(idx[0]).toBe(1);
    expect(idx[3]).toBe(14);
    expect(out[1]).toBe(11);
  });
});

describe("wasm reductions over any axes", () => {
  const CASES: readonly [number[], number[]][] = [
    [[128, 16, 24, 24], [0, 2, 3]], // the conv bias gradient
    [[5, 3, 7, 2], [0, 2, 3]],
    [[6, 10], [1]], [[6, 10], [0]], [[1000], [0]], [[37, 1, 5], [0, 1]], [[2, 1, 3, 1], [1, 3]],
    [[4, 5, 6], [1]], [[4, 5, 6], [0, 2]], [[3, 4, 5, 6], [1, 3]], [[3, 4, 5, 6], [0, 1, 2, 3]], [[4, 5, 6], []],
    [[2, 3, 4, 5, 6], [0, 1, 3]], [[9, 1], [1]], [[1, 1], [0]], [[129, 7], [0]], [[3, 1025], [1]],
  ];
  const kept = (shape: number[], axes: number[]) => shape.reduce((p, d, i) => (axes.includes(i) ? p : p * d), 1);

  /** float32: within 1 ulp of js (both accumulate in float64 and round once; sums add in another order). */
  function close32(got: number, want: number): boolean {
    if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) return true;
    return Math.abs(got - want) <= Math.abs(Math.fround(want) - Math.fround(want * (1 + 2 ** -23))) * 1.01 + 1e-45;
  }

  for (const ctor of FLOATS) {
    it(`${ctor.name}: sum, max, min and prod match js (max/min exactly, NaN included)`, () => {
      const rng = new Rng(5);
      for (const [shape, axes] of CASES) {
        const n = shape.reduce((p, d) => p * d, 1);
        const x = randomArray(ctor, n, rng);
        const small = new ctor(n); // products stay finite
        for (let i = 0; i < n; i++) small[i] = 1 + x[i]! / 64;
        if (n > 8) x[n >> 1] = NaN;
        for (const kind of ["sum", "max", "min", "prod"] as const) {
          const src = kind === "prod" ? small : x;
          const got = new ctor(kept(shape, axes)), want = new ctor(got.length);
          wk.reduce(src, shape, axes, got, kind);
          js.reduce(src, shape, axes, want, kind);
          for (let i = 0; i < want.length; i++) {
            const ok = kind === "max" || kind === "min"
              ? Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))
              : ctor === Float32Array ? close32(got[i]!, want[i]!) : Math.abs(got[i]! - want[i]!) <= 1e-13 * (Math.abs(want[i]!) + n) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
            if (!ok) expect.fail(`${kind} over [${axes}] of [${shape}], output ${i}: ${got[i]}, js gives ${want[i]}`);
          }
        }
      }
    });
  }

  it("signed zeros: max and min keep the first of tied zeros, as js", () => {
    const x = new Float32Array([-0, 0, 0, -0, -0, 0, 0, -0]);
    for (const [shape, axes] of [[[8], [0]], [[2, 4], [1]], [[4, 2], [0]], [[2, 2, 2], [0, 2]]] as const) {
      for (const kind of ["max", "min"] as const) {
        const n = shape.reduce((p, d, i) => ((axes as readonly number[]).includes(i) ? p : p * d), 1);
        const got = new Float32Array(n), want = new Float32Array(n);
        wk.reduce(x, shape, axes, got, kind);
        js.reduce(x, shape, axes, want, kind);
        expectSame(got, want, `${kind} over [${axes}] of [${shape}]`);
      }
    }
  });

  it("int32 and bool inputs and empty reductions give the js results", () => {
    const i32 = Int32Array.from({ length: 600 }, (_, i) => i - 300);
    const got = new Int32Array(20), want = new Int32Array(20);
    wk.reduce(i32, [30, 20], [0], got, "sum");
    js.reduce(i32, [30, 20], [0], want, "sum");
    expectSame(got, want, "int32 sum");
    const e1 = new Float32Array(3), e2 = new Float32Array(3);
    wk.reduce(new Float32Array(0), [3, 0], [1], e1, "max");
    js.reduce(new Float32Array(0), [3, 0], [1], e2, "max");
    expectSame(e1, e2, "max over an empty axis");
  });
});

describe("wasm broadcast and transpose", () => {
  const BROADCASTS: readonly [number[], number[]][] = [
    [[1, 16, 1, 1], [128, 16, 24, 24]], [[10], [128, 10]], [[5, 1], [5, 7]], [[1, 3, 1, 2], [4, 3, 5, 2]],
    [[3, 1, 4], [2, 3, 6, 4]], [[1], [33]], [[2, 1], [1, 2, 65]], [[7, 1, 1], [7, 3, 1]],
  ];
  const TRANSPOSES: readonly [number[], number[]][] = [
    [[64, 96], [1, 0]], [[37, 53], [1, 0]], [[1, 70], [1, 0]], [[128, 16, 36], [1, 0, 2]], [[5, 33, 40], [0, 2, 1]],
    [[2, 3, 4, 5], [3, 2, 1, 0]], [[2, 3, 4, 5], [0, 2, 3, 1]], [[2, 3, 4, 5], [1, 0, 3, 2]], [[4, 1, 6, 1], [2, 3, 0, 1]],
    [[3, 4, 5, 6, 2], [4, 0, 3, 1, 2]],
  ];
  for (const ctor of FLOATS) {
    it(`${ctor.name}: the same bits as js`, () => {
      const rng = new Rng(6);
      for (const [from, to] of BROADCASTS) {
        const src = randomArray(ctor, from.reduce((p, d) => p * d, 1), rng);
        const got = new ctor(to.reduce((p, d) => p * d, 1)), want = new ctor(got.length);
        wk.layout.broadcast(src, from, got, to);
        js.layout.broadcast(src, from, want, to);
        expectSame(got, want, `broadcast [${from}] to [${to}]`);
      }
      for (const [shape, perm] of TRANSPOSES) {
        const src = randomArray(ctor, shape.reduce((p, d) => p * d, 1), rng);
        src[3] = NaN;
        src[4] = -0;
        const got = new ctor(src.length), want = new ctor(src.length);
        wk.layout.transpose(src, shape, perm, got);
        js.layout.transpose(src, shape, perm, want);
        expectSame(got, want, `transpose [${shape}] by [${perm}]`);
      }
    });
  }

  it("other dtypes run the js kernels", () => {
    const src = Int32Array.from({ length: 24 }, (_, i) => i), got = new Int32Array(24), want = new Int32Array(24);
    wk.layout.transpose(src, [2, 3, 4], [2, 0, 1], got);
    js.layout.transpose(src, [2, 3, 4], [2, 0, 1], want);
    expectSame(got, want, "int32 transpose");
    const b = new Uint8Array([1, 0, 1]), bg = new Uint8Array(12), bw = new Uint8Array(12);
    wk.layout.broadcast(b, [3], bg, [4, 3]);
    js.layout.broadcast(b, [3], bw, [4, 3]);
    expectSame(bg, bw, "bool broadcast");
  });
});

describe("operands staged in wasm memory", () => {
  it("the wasm GEMM multiplies views on its memory in place, alone or mixed with js arrays", () => {
    const w = getWasm()!;
    const rng = new Rng(7);
    const m = 13, k = 17, n = 11;
    const a = randomArray(Float32Array, m * k, rng), b = randomArray(Float32Array, k * n, rng);
    const want = new Float32Array(m * n);
    wasmGemmSerial(a, 0, k, 1, b, 0, n, 1, want, 0, n, m, k, n, false);
    const at = hold(w, (m * k + k * n + m * n) * 4 + 128);
    try {
      const buf = w.exports.memory.buffer;
      const av = new Float32Array(buf, at, m * k), bv = new Float32Array(buf, at + 64 * Math.ceil((m * k * 4) / 64), k * n);
      const cv = new Float32Array(buf, bv.byteOffset + 64 * Math.ceil((k * n * 4) / 64), m * n);
      av.set(a);
      bv.set(b);
      wasmGemmSerial(av, 0, k, 1, bv, 0, n, 1, cv, 0, n, m, k, n, false);
      expectSame(cv, want, "all resident");
      const c2 = new Float32Array(m * n);
      wasmGemmSerial(av, 0, k, 1, b, 0, n, 1, c2, 0, n, m, k, n, false);
      expectSame(c2, want, "A resident");
      cv.fill(0);
      wasmGemmSerial(a, 0, k, 1, b, 0, n, 1, cv, 0, n, m, k, n, false);
      expectSame(new Float32Array(w.exports.memory.buffer, cv.byteOffset, m * n), want, "C resident");
    } finally {
      release(w, at);
    }
  });

  it("hold moves the scratch area past the held bytes, and release gives them back", () => {
    const w = getWasm()!;
    const before = w.scratch;
    const at = hold(w, 1000);
    expect(at).toBe(before);
    expect(w.scratch).toBeGreaterThanOrEqual(before + 1000);
    const inner = hold(w, 10);
    expect(inner).toBe(w.scratch - 64);
    release(w, inner);
    release(w, at);
    expect(w.scratch).toBe(before);
  });
});

describe("conv2d and maxPool2d on every backend against js", () => {
  let before: BackendName;
  beforeAll(() => { before = getBackend().name; });
  afterAll(() => setBackend(before));

  /** The CNN's conv → relu-free pool → conv chain: values and gradients of a weighted sum, in `dtype`. */
  function run(backend: BackendName, dtype: "float32" | "float64", seed: number, n: number, nan: boolean): Float64Array[] {
    setBackend(backend);
    const rng = new Rng(seed);
    const r = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.normal()), { shape, dtype });
    const x = r([n, 2, 14, 13]), w1 = r([4, 2, 3, 3]), b1 = r([4]), w2 = r([5, 4, 3, 2]), b2 = r([5]);
    if (nan) (x.data as Float64Array | Float32Array)[7] = NaN;
    const f = (xx: Tensor, a: Tensor, ab: Tensor, c: Tensor, cb: Tensor) => {
      let h = nn.conv2d(xx, a, ab, { padding: 1 });
      h = nn.maxPool2d(h, 2);
      h = nn.conv2d(h, c, cb, { stride: [2, 1], padding: [0, 1] });
      h = nn.maxPool2d(h, 3, { stride: 2, padding: 1 });
      return h;
    };
    const out = f(x, w1, b1, w2, b2);
    const ct = r(out.shape as number[]);
    const grads = grad((...p: Tensor[]) => sum(mul(f(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!), ct)), { argnums: [0, 1, 2, 3, 4] })(x, w1, b1, w2, b2) as unknown as Tensor[];
    return [out, ...grads].map((t) => Float64Array.from(t.data));
  }

  for (const backend of availableBackends().filter((b) => b !== "js")) {
    for (const dtype of ["float64", "float32"] as const) {
      it(`${backend}, ${dtype}: values and the gradients of input, weights and biases (NaN included)`, () => {
        for (const [seed, n, nan] of [[1, 3, false], [2, 1, true]] as const) {
          const want = run("js", dtype, seed, n, nan), got = run(backend, dtype, seed, n, nan);
          const [rtol, atol] = dtype === "float64" ? [1e-12, 1e-12] : [1e-5, 1e-5];
          for (let t = 0; t < want.length; t++) {
            for (let i = 0; i < want[t]!.length; i++) {
              const g = got[t]![i]!, e = want[t]![i]!;
              const ok = (Number.isNaN(g) && Number.isNaN(e)) || Math.abs(g - e) <= atol + rtol * Math.abs(e);
              if (!ok) expect.fail(`${backend} ${dtype} seed ${seed}: ${t === 0 ? "value" : `gradient ${t - 1}`}[${i}] is ${g}, js gives ${e}`);
            }
          }
        }
      });
    }
  }

  it("the same errors on every backend", () => {
    for (const backend of availableBackends()) {
      setBackend(backend);
      const x = tensor(new Float32Array(50), { shape: [1, 2, 5, 5] });
      expect(() => nn.conv2d(x, tensor(new Float32Array(27), { shape: [3, 1, 3, 3] }))).toThrow(/input has 2 channels .* weight expects 1/);
      expect(() => nn.conv2d(tensor(new Float32Array(4), { shape: [1, 1, 2, 2] }), tensor(new Float32Array(27), { shape: [3, 1, 3, 3] }))).toThrow(ShapeError);
      expect(() => nn.maxPool2d(x, 2, { padding: 2 })).toThrow(ValueError);
      expect(() => nn.maxPool2d(tensor(new Float32Array(25), { shape: [5, 5] }), 2)).toThrow(/NCHW/);
    }
  });
});

describe("conv2d's bias inside the primitive", () => {
  const r64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: "float64" });

  it("reverse and forward mode agree with the bias among the inputs, alone or with the others", () => {
    const x = r64([2, 2, 5, 4], 1), w = r64([3, 2, 2, 3], 2), b = r64([3], 3);
    const f = (a: Tensor, c: Tensor, d: Tensor) => nn.conv2d(a, c, d, { padding: 1 });
    const [out, pullback] = vjp(f, x, w, b);
    const ct = r64(out.shape as number[], 4);
    const [cx, cw, cb] = pullback(ct) as Tensor[];
    const zero = (t: Tensor) => mul(t, 0);
    for (const [tx, tw, tb] of [[r64([2, 2, 5, 4], 5), r64([3, 2, 2, 3], 6), r64([3], 7)], [zero(x), zero(w), r64([3], 8)]]) {
      const [, tOut] = jvp(f, [x, w, b], [tx!, tw!, tb!]);
      const lhs = sum(mul(ct, tOut)).item();
      const rhs = sum(mul(cx!, tx!)).item() + sum(mul(cw!, tw!)).item() + sum(mul(cb!, tb!)).item();
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    }
    // Only the bias varies: the tangent is the bias broadcast over N, OH and OW.
    const tb = r64([3], 9);
    const [, onlyB] = jvp((d: Tensor) => f(x, w, d), [b], [tb]);
    expect(onlyB.shape).toEqual(out.shape);
    const p = (out.shape[2] as number) * (out.shape[3] as number);
    for (let i = 0; i < onlyB.size; i++) expect(onlyB.data[i]).toBe(tb.data[Math.floor(i / p) % 3]);
  });

  it("second order through the bias: d/db of ⟨∂L/∂w, v⟩ is exact for a quadratic loss", () => {
    const x = r64([1, 2, 4, 4], 10), w = r64([2, 2, 3, 3], 11), b = r64([2], 12), v = r64([2, 2, 3, 3], 13);
    const L = (ww: Tensor, bb: Tensor) => sum(mul(nn.conv2d(x, ww, bb), nn.conv2d(x, ww, bb)));
    const inner = (bb: Tensor) => sum(mul(grad(L)(w, bb), v));
    // ∂L/∂w = 2 Σ y·x-windows, linear in b: d/db_o = 2 Σ_{n,p} ⟨x-window at p, v[o]⟩, by a second autodiff route.
    const viaConv = grad((bb: Tensor) => sum(mul(nn.conv2d(x, v), nn.conv2d(x, w, bb))))(b);
    const direct = grad(inner)(b);
    for (let i = 0; i < 2; i++) expect(direct.data[i]).toBeCloseTo(2 * viaConv.data[i]!, 10);
  });

  it("a wider bias promotes the result as adding it did (float32 input, float64 bias gives float64)", () => {
    const x = randn([1, 1, 4, 4], { seed: 1 }), w = randn([2, 1, 3, 3], { seed: 2 }), b = r64([2], 3);
    const out = nn.conv2d(x, w, b);
    expect(out.dtype).toBe("float64");
    const same = nn.conv2d(x, w, tensor(Float32Array.from(b.data), { shape: [2] }));
    expect(same.dtype).toBe("float32");
  });
});
