import type { TypedArray } from "../core/dtype.js";

// A cache-blocked matrix product in the style of GotoBLAS / BLIS (Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", 2008), in plain TypeScript:
//   for each KC×NC block of B: pack it into NR-column panels;
//     for each MC×KC block of A: pack it into MR-row panels;
//       for each MR×NR tile of C: a micro-kernel keeps the 16 sums in local variables (registers)
//       and walks both panels contiguously.
// Packed panels are Float64Array whatever the input type: the micro-kernel then sees one array type
// (monomorphic, no float32→float64 conversion in the hot loop) and accumulates in double precision.
// Transposed operands are read through strides while packing, at no cost to the inner loop.

const MR = 4; // rows of a micro-tile
const NR = 4; // columns of a micro-tile
/** Lines per packed panel: both operands' panels are four wide, as the micro-kernel is 4×4 (MR = NR). */
const PANEL = 4;
const KC = 256; // depth of a block: a packed MR×KC panel of A is 8 KB (L1), a KC×NR panel of B also 8 KB
const MC = 64; // rows of a packed A block (128 KB, L2)
const NC = 1024; // columns of a packed B block (2 MB)
/** Below this many multiply-adds, packing costs more than it saves: use the direct loop. */
const SMALL = 16 * 16 * 16;

// Scratch reused across calls: a kernel is never re-entered, and each thread has its own copy of this module.
const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(KC * NC);
const tile = new Float64Array(MR * NR);
let rowAcc = new Float64Array(64);
const aPanels: Float64Array[] = new Array<Float64Array>(MC / MR);

/**
 * C = A·B (or C += A·B with `accumulate`) for one strided matrix product, on this thread:
 * element (i,p) of A is `a[ao + i·ars + p·acs]`, element (p,j) of B is `b[bo + p·brs + j·bcs]`, and C is
 * row-major with row stride `ldc` from `co` (only its m×n block is touched). A transposed operand is the
 * same storage with its strides swapped. Sums are accumulated in float64 over blocks of 256 products,
 * then stored (or added) into C; NaN and ±Infinity propagate as in the plain triple loop (no zero-skipping).
 */
export function gemmSerial(
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, co + i * ldc, co + i * ldc + n);
    return;
  }
  if (m * n * k <= SMALL || (m < MR && n < NR)) {
    direct(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, k, n, accumulate);
    return;
  }
  // Blocks of equal size, at most KC deep and MC tall.
  const kBlock = depthBlock(k);
  const mBlock = Math.min(MC, Math.ceil(m / Math.ceil(m / MC) / MR) * MR);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kBlock) {
      const kc = Math.min(kBlock, k - pc);
      const first = pc === 0 && !accumulate;
      packPanels(b, bo + pc * brs + jc * bcs, bcs, brs, nc, kc, packedB);
      for (let ic = 0; ic < m; ic += mBlock) {
        const mc = Math.min(mBlock, m - ic);
        packPanels(a, ao + ic * ars + pc * acs, ars, acs, mc, kc, packedA);
        // Views on each packed panel, so the micro-kernel walks both with one index from 0.
        const nA = Math.ceil(mc / MR);
        for (let q = 0; q < nA; q++) aPanels[q] = packedA.subarray(q * MR * kc, (q + 1) * MR * kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = Math.min(NR, nc - jr);
          const bPanel = packedB.subarray(jr * kc, (jr + NR) * kc);
          for (let ir = 0, q = 0; ir < mc; ir += MR, q++) {
            microKernel(aPanels[q]!, bPanel, kc, tile);
            storeTile(c, co + (ic + ir) * ldc + jc + jr, ldc, Math.min(MR, mc - ir), w, first, tile);
          }
        }
      }
    }
  }
}

/**
 * The plain loop for products too small to pack: for each row of C, accumulate Σ_p A[i,p]·B[p,:] in a
 * float64 row (walking B's rows contiguously), then store it. Depth is cut into the same blocks as the
 * packed path, each block's sums added into C in turn, so every element rounds exactly as it would
 * there: a product split over threads, whose parts may take either path, matches one thread bit for bit.
 */
function direct(
  a: TypedArray, ao: number, ars: number, acs: number, b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number, m: number, k: number, n: number, accumulate: boolean,
): void {
  if (rowAcc.length < n) rowAcc = new Float64Array(n);
  const acc = rowAcc;
  const kBlock = depthBlock(k);
  for (let i = 0; i < m; i++) {
    const ai = ao + i * ars;
    const ci = co + i * ldc;
    for (let pc = 0; pc < k; pc += kBlock) {
      const end = Math.min(k, pc + kBlock);
      acc.fill(0, 0, n);
      for (let p = pc; p < end; p++) {
        const av = a[ai + p * acs]!;
        const bp = bo + p * brs;
        for (let j = 0; j < n; j++) acc[j] = acc[j]! + av * b[bp + j * bcs]!;
      }
      if (accumulate || pc > 0) for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + acc[j]!;
      else for (let j = 0; j < n; j++) c[ci + j] = acc[j]!;
    }
  }
}

/**
 * Depth of the blocks k is cut into: equal blocks of at most KC (k = 784 as 4 × 196 rather than
 * 3 × 256 + 16, whose thin last block would cost a full packing pass for little arithmetic).
 */
function depthBlock(k: number): number {
  return Math.ceil(k / Math.ceil(k / KC));
}

/**
 * Packs `count` lines of a strided block, `depth` values each, into panels of four lines (MR = NR = 4):
 * value p of line i goes to dst[(⌊i/4⌋·depth + p)·4 + i mod 4], and lines past `count` are zero (their
 * results are never stored). For A's panels a line is a row of op(A) (lines `across` = ars apart, values
 * `along` = acs apart); for B's a line is a column of op(B) (across = bcs, along = brs). Depth is the
 * outer loop, so a transposed operand reads four neighbouring values per step instead of four streams a
 * whole row apart.
 */
function packPanels(x: TypedArray, base: number, across: number, along: number, count: number, depth: number, dst: Float64Array): void {
  for (let ip = 0; ip < count; ip += PANEL) {
    let d = ip * depth;
    const s0 = base + ip * across;
    if (ip + PANEL <= count) {
      const r1 = across, r2 = 2 * across, r3 = 3 * across;
      for (let p = 0, s = s0; p < depth; p++, d += PANEL, s += along) {
        dst[d] = x[s]!;
        dst[d + 1] = x[s + r1]!;
        dst[d + 2] = x[s + r2]!;
        dst[d + 3] = x[s + r3]!;
      }
    } else {
      const h = count - ip;
      for (let p = 0, s = s0; p < depth; p++, d += PANEL, s += along) {
        for (let ii = 0; ii < PANEL; ii++) dst[d + ii] = ii < h ? x[s + ii * across]! : 0;
      }
    }
  }
}

/**
 * t = (MR×kc panel of A) · (kc×NR panel of B), the 16 sums held in locals. Both panels are views that
 * advance 4 values per step, so one index serves both (a few percent faster than two offsets). Each step
 * loads 4 values of A and streams the 4 of B one at a time.
 */
function microKernel(ap: Float64Array, bp: Float64Array, kc: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = kc * 4;
  for (let q = 0; q < end; q += 4) {
    const a0 = ap[q]!, a1 = ap[q + 1]!, a2 = ap[q + 2]!, a3 = ap[q + 3]!;
    let bv = bp[q]!;
    c00 += a0 * bv; c10 += a1 * bv; c20 += a2 * bv; c30 += a3 * bv;
    bv = bp[q + 1]!;
    c01 += a0 * bv; c11 += a1 * bv; c21 += a2 * bv; c31 += a3 * bv;
    bv = bp[q + 2]!;
    c02 += a0 * bv; c12 += a1 * bv; c22 += a2 * bv; c32 += a3 * bv;
    bv = bp[q + 3]!;
    c03 += a0 * bv; c13 += a1 * bv; c23 += a2 * bv; c33 += a3 * bv;
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}

/** Writes (first depth block) or adds the valid h×w corner of a micro-tile into C at row stride ldc. */
function storeTile(c: TypedArray, at: number, ldc: number, h: number, w: number, first: boolean, t: Float64Array): void {
  if (h === MR && w === NR) {
    if (first) {
      for (let i = 0, r = at; i < MR; i++, r += ldc) {
        c[r] = t[4 * i]!; c[r + 1] = t[4 * i + 1]!; c[r + 2] = t[4 * i + 2]!; c[r + 3] = t[4 * i + 3]!;
      }
    } else {
      for (let i = 0, r = at; i < MR; i++, r += ldc) {
        c[r] = c[r]! + t[4 * i]!; c[r + 1] = c[r + 1]! + t[4 * i + 1]!;
        c[r + 2] = c[r + 2]! + t[4 * i + 2]!; c[r + 3] = c[r + 3]! + t[4 * i + 3]!;
      }
    }
    return;
  }
  for (let i = 0, r = at; i < h; i++, r += ldc) {
    for (let j = 0; j < w; j++) c[r + j] = first ? t[NR * i + j]! : c[r + j]! + t[NR * i + j]!;
  }
}
