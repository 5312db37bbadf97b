import type { TypedArray } from "../../core/dtype.js";
import { gemmSerial } from "../gemm-core.js";
import { getWasm, reserve, resident, type Wasm } from "./instance.js";

/** Elements `x[o + i·rs + j·cs]` for i < rows, j < cols span this index range (strides may be 0 or negative). */
function span(o: number, rs: number, cs: number, rows: number, cols: number): [number, number] {
  const dr = (rows - 1) * rs, dc = (cols - 1) * cs;
  return [o + Math.min(0, dr) + Math.min(0, dc), o + Math.max(0, dr) + Math.max(0, dc) + 1];
}

/**
 * Copies a strided rows×cols operand into wasm memory at element index `at` (of `view`); returns the element
 * index of (0,0) and the strides to use there. The covering range is copied in one move when it is at most
 * twice the operand (dense, transposed, or lightly padded); a sparse view (a column slice of a wide matrix)
 * is gathered densely instead.
 */
function copyOperand(x: TypedArray, o: number, rs: number, cs: number, rows: number, cols: number, view: Float32Array | Float64Array, at: number): [number, number, number, number] {
  const [lo, hi] = span(o, rs, cs, rows, cols);
  if (hi - lo <= 2 * rows * cols + 64) {
    view.set(x.subarray(lo, hi), at);
    return [hi - lo, at + o - lo, rs, cs];
  }
  for (let i = 0; i < rows; i++) {
    const d = at + i * cols, s = o + i * rs;
    if (cs === 1) view.set(x.subarray(s, s + cols), d);
    else for (let j = 0; j < cols; j++) view[d + j] = x[s + j * cs]!;
  }
  return [rows * cols, at, cols, 1];
}

/**
 * C = A·B (or C += A·B with `accumulate`) on this thread with the WebAssembly SIMD GEMM: the same contract
 * and argument order as `gemmSerial` in ../gemm-core.ts, so the helper threads can run it as well.
 * Element (i,p) of A is `a[ao + i·ars + p·acs]`, element (p,j) of B is `b[bo + p·brs + j·bcs]`, C is
 * row-major from `co` with row stride `ldc`; only C's m×n block is read (with `accumulate`) and written.
 *
 * Float32Array operands are multiplied in float32 (sgemm: float32 sums, as BLAS does; relative error of an
 * element about k·2⁻²⁴ times Σ|A(i,p)·B(p,j)| in the worst case), Float64Array in float64 (dgemm). Each element
 * sums its products in order of p within depth blocks of at most 256 that depend on k only, so a product
 * split by rows or columns (over threads) gives the same bits as one call. NaN and ±Infinity propagate as in
 * the triple loop. Any other array types (or mixed types), or an engine without WebAssembly SIMD, run
 * `gemmSerial` instead. Operands are copied into wasm memory and C's block copied back, row by row when ldc > n
 * (so other parts of C, written concurrently by other threads, are never touched). Operands that are views on
 * this thread's wasm memory (staged there by a kernel with `hold`) are used where they lie: when all three are,
 * nothing is copied and memory does not grow, so the caller's views stay valid.
 */
export function wasmGemmSerial(
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  const w = m > 0 && n > 0 && k > 0 ? getWasm() : null;
  const f32 = a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array;
  const f64 = !f32 && a instanceof Float64Array && b instanceof Float64Array && c instanceof Float64Array;
  if (w === null || !(f32 || f64)) {
    gemmSerial(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, k, n, accumulate);
    return;
  }
  const ra = resident(w, a), rb = resident(w, b), rc = resident(w, c);
  if (ra && rb && rc && ars >= 0 && acs >= 0 && brs >= 0 && bcs >= 0) {
    // Operands a kernel staged in this memory (conv stages): multiplied where they lie, nothing copied.
    const size = f32 ? 4 : 8;
    (f32 ? w.exports.sgemm : w.exports.dgemm)(a.byteOffset + ao * size, ars, acs, b.byteOffset + bo * size, brs, bcs, c.byteOffset + co * size, ldc, m, k, n, accumulate ? 1 : 0, w.workspace);
    return;
  }
  if (ra || rb || rc) {
    // Some operands in this memory, some not: copying the others in may grow memory, which detaches views
    // on it, so the resident ones are copied out first and C's block written back through a fresh view.
    const cAt = c.byteOffset, cLen = c.length;
    const a2 = ra ? a.slice() : a, b2 = rb ? b.slice() : b, c2 = rc ? c.slice() : c;
    runGemm(w, f32, a2, ao, ars, acs, b2, bo, brs, bcs, c2, co, ldc, m, k, n, accumulate);
    if (rc) (f32 ? new Float32Array(w.exports.memory.buffer, cAt, cLen) : new Float64Array(w.exports.memory.buffer, cAt, cLen)).set(c2);
    return;
  }
  runGemm(w, f32, a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, k, n, accumulate);
}

/** Copies A, B (and C's block with `accumulate`) into wasm memory, runs sgemm or dgemm there, copies C's block back. */
function runGemm(
  w: Wasm, f32: boolean,
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  const size = f32 ? 4 : 8;
  // Room for the covering ranges of A and B (at most twice each operand, plus slack) and C's block.
  const [aLo, aHi] = span(ao, ars, acs, m, k), [bLo, bHi] = span(bo, brs, bcs, k, n);
  const need = Math.min(aHi - aLo, 2 * m * k + 64) + Math.min(bHi - bLo, 2 * k * n + 64) + m * n + 8;
  const at = reserve(w, need * size);
  if (at < 0) {
    gemmSerial(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, k, n, accumulate);
    return;
  }
  const base = at / size;
  const view = f32 ? w.f32 : w.f64;
  const [aLen, pa, ars2, acs2] = copyOperand(a, ao, ars, acs, m, k, view, base);
  // Each region starts on a whole vector (16 bytes); the kernels do not need it, but aligned loads are cheaper.
  const whole = (i: number): number => Math.ceil(i / (16 / size)) * (16 / size);
  const bAt = whole(base + aLen);
  const [bLen, pb, brs2, bcs2] = copyOperand(b, bo, brs, bcs, k, n, view, bAt);
  const pc = whole(bAt + bLen);
  if (accumulate) {
    if (ldc === n) view.set(c.subarray(co, co + m * n), pc);
    else for (let i = 0; i < m; i++) view.set(c.subarray(co + i * ldc, co + i * ldc + n), pc + i * n);
  }
  (f32 ? w.exports.sgemm : w.exports.dgemm)(pa * size, ars2, acs2, pb * size, brs2, bcs2, pc * size, n, m, k, n, accumulate ? 1 : 0, w.workspace);
  const out = view.subarray(pc, pc + m * n);
  if (ldc === n) c.set(out, co);
  else for (let i = 0; i < m; i++) c.set(out.subarray(i * n, (i + 1) * n), co + i * ldc);
}
