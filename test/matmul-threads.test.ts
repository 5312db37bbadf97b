// Large matrix products split over helper threads (src/kernels/gemm-threads.ts) must give exactly the
// one-thread result: each element sums the same products in the same order on whichever thread.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { gemmParallel, getThreads, SERIAL_GEMMS, setThreads, type SerialGemmId } from "../src/kernels/gemm-threads.js";
import { getBackend, matmul, randn, setBackend, setThreads as publicSetThreads, ValueError } from "../src/index.js";
import { Rng } from "../src/core/random.js";

type Arr = Float32Array | Float64Array;

function filled(ctor: typeof Float32Array | typeof Float64Array, len: number, rng: Rng): Arr {
  const x = new ctor(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal();
  return x;
}

interface Case { m: number; k: number; n: number; transA: boolean; transB: boolean; accumulate: boolean; ctor: typeof Float32Array | typeof Float64Array; kernel?: SerialGemmId }

/** Runs one product both ways and returns [threaded result, serial result, whether threads were used]. */
function both(c: Case, rng: Rng): [Arr, Arr, boolean] {
  const { m, k, n, transA, transB, accumulate, ctor } = c;
  const kernel = c.kernel ?? 0, gemmSerial = SERIAL_GEMMS[kernel];
  const lead = 3; // operands start past a few unrelated values, as batched matmuls do
  const a = filled(ctor, lead + m * k, rng), b = filled(ctor, lead + k * n, rng);
  const ars = transA ? 1 : k, acs = transA ? m : 1, brs = transB ? 1 : n, bcs = transB ? k : 1;
  const ldc = n + 2; // C is a block of a wider matrix
  const start = filled(ctor, m * ldc + 1, rng);
  const par = start.slice(), ser = start.slice();
  const used = gemmParallel(kernel, a, lead, ars, acs, b, lead, brs, bcs, par, 1, ldc, m, k, n, accumulate);
  if (!used) gemmSerial(a, lead, ars, acs, b, lead, brs, bcs, par, 1, ldc, m, k, n, accumulate);
  gemmSerial(a, lead, ars, acs, b, lead, brs, bcs, ser, 1, ldc, m, k, n, accumulate);
  return [par, ser, used];
}

/** Waits (letting the event loop run) until a product of this size is actually split. */
async function helpersReady(): Promise<void> {
  const rng = new Rng(1);
  for (let tries = 0; tries < 200; tries++) {
    if (both({ m: 128, k: 128, n: 128, transA: false, transB: false, accumulate: false, ctor: Float32Array }, rng)[2]) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the helper threads did not start within 10 s");
}

describe("matrix products on helper threads", () => {
  let before = 1;
  beforeAll(async () => {
    before = getThreads();
    setThreads(2);
    await helpersReady();
  }, 30_000);
  afterAll(() => setThreads(before));

  const cases: Case[] = [];
  for (const kernel of [0, 1] as const) {
    for (const [m, k, n] of [[128, 784, 256], [784, 128, 256], [130, 301, 77], [9, 1000, 300], [300, 1000, 9], [257, 513, 129]] as const) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        cases.push({ m, k, n, transA, transB, accumulate: (m + n + (transA ? 1 : 0)) % 2 === 0, ctor: (k + (transB ? 1 : 0)) % 2 === 0 ? Float64Array : Float32Array, kernel });
      }
    }
  }
  // kernel 0 is the js GEMM, 1 the wasm SIMD GEMM: both are split the same way and must stay exact.
  it.each(cases)("kernel $kernel: $m×$k×$n transA=$transA transB=$transB accumulate=$accumulate: identical to one thread", (c) => {
    const [par, ser, used] = both(c, new Rng(c.m * 7 + c.k));
    expect(used).toBe(true);
    expect(Array.from(par)).toEqual(Array.from(ser));
  });

  it("splits by rows when C is tall and by columns when it is wide, and both are exact", () => {
    const rng = new Rng(3);
    for (const shape of [{ m: 512, k: 64, n: 32 }, { m: 32, k: 64, n: 512 }]) {
      const [par, ser, used] = both({ ...shape, transA: false, transB: false, accumulate: false, ctor: Float32Array }, rng);
      expect(used).toBe(true);
      expect(Array.from(par)).toEqual(Array.from(ser));
    }
  });

  it("small products and setThreads(1) stay on this thread", () => {
    const rng = new Rng(4);
    expect(both({ m: 16, k: 16, n: 16, transA: false, transB: false, accumulate: false, ctor: Float32Array }, rng)[2]).toBe(false);
    setThreads(1);
    try {
      expect(both({ m: 256, k: 256, n: 256, transA: false, transB: false, accumulate: false, ctor: Float32Array }, rng)[2]).toBe(false);
    } finally {
      setThreads(2);
    }
  });

  it("the public matmul gives the same values with one thread and with two (js backend)", () => {
    // A system BLAS may split sums differently by thread count; chainrule's own kernels never do.
    const before = getBackend().name;
    setBackend("js");
    onTestFinished(() => setBackend(before));
    const a = randn([200, 300], { seed: 5 }), b = randn([300, 150], { seed: 6 });
    publicSetThreads(1);
    const one = Array.from(matmul(a, b).data);
    publicSetThreads(2);
    const two = Array.from(matmul(a, b).data);
    expect(two).toEqual(one);
  });

  it("rejects a thread count that is not a whole number from 1 to 64, naming what it got", () => {
    expect(() => setThreads(0)).toThrow("setThreads: expected a whole number of threads from 1 to 64, got 0");
    expect(() => setThreads(1.5)).toThrow(ValueError);
    expect(() => setThreads(65)).toThrow("got 65");
    expect(() => setThreads("2" as unknown as number)).toThrow('got "2"');
    expect(() => setThreads([2] as unknown as number)).toThrow("got an array");
    expect(getThreads()).toBe(2);
  });

  it("with more threads than the work warrants, parts stay large and the result is still exact", () => {
    setThreads(64);
    try {
      // 1024×1024 @ 1024×1: a matrix-vector product; one part per 2¹⁸ multiply-adds at most.
      const a = randn([1024, 1024], { seed: 7 }), v = randn([1024, 1], { seed: 8 });
      const many = Array.from(matmul(a, v).data);
      setThreads(1);
      expect(Array.from(matmul(a, v).data)).toEqual(many);
    } finally {
      setThreads(2);
    }
  });
});
