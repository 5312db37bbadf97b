import type { TypedArray } from "../core/dtype.js";

/**
 * A strided matrix view: element (i, j) is `data[offset + i·rowStride + j·colStride]`, so a transposed
 * operand is the same storage with the strides swapped.
 */
export interface MatrixView {
  readonly data: TypedArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

const MR = 4;
const NR = 4;
const KC = 256;
const NC = 512;

// Packing buffers, reused across calls (JavaScript runs one call at a time; gemm never re-enters itself).
let packA = new Float64Array(KC * MR);
let packB = new Float64Array(KC * (NC + NR));

/**
 * C[m, n] = A[m, k] · B[k, n] (or C += A·B with `accumulate`), C row-major with leading dimension `ldc`
 * starting at `cOffset`. GotoBLAS-style: B is packed in KC×NC blocks and A in KC×4 panels, both into
 * float64 scratch (so strided or transposed operands cost nothing extra and sums are float64), and a 4×4
 * register-blocked micro-kernel does the arithmetic — 16 multiply-adds per 8 loads.
 */
export function gemm(
  m: number, n: number, k: number,
  a: MatrixView, b: MatrixView,
  c: TypedArray, cOffset: number, ldc: number, accumulate: boolean,
): void {
  if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
  if (m === 0 || n === 0 || k === 0) return;
  if (packB.length < KC * (NC + NR)) packB = new Float64Array(KC * (NC + NR));
  const ad = a.data, bd = b.data;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const panels = Math.ceil(nc / NR);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      // Pack B[p0:p0+kc, j0:j0+nc] as `panels` blocks of [kc][NR], zero-padded past column n.
      for (let jb = 0; jb < panels; jb++) {
        const base = jb * kc * NR;
        for (let jj = 0; jj < NR; jj++) {
          const j = j0 + jb * NR + jj;
          if (j >= n) {
            for (let p = 0; p < kc; p++) packB[base + p * NR + jj] = 0;
            continue;
          }
          let src = b.offset + p0 * b.rowStride + j * b.colStride;
          for (let p = 0; p < kc; p++, src += b.rowStride) packB[base + p * NR + jj] = bd[src]!;
        }
      }
      for (let i0 = 0; i0 < m; i0 += MR) {
        // Pack A[i0:i0+4, p0:p0+kc] as [kc][MR], zero-padded past row m.
        for (let ii = 0; ii < MR; ii++) {
          const i = i0 + ii;
          if (i >= m) {
            for (let p = 0; p < kc; p++) packA[p * MR + ii] = 0;
            continue;
          }
          let src = a.offset + i * a.rowStride + p0 * a.colStride;
          for (let p = 0; p < kc; p++, src += a.colStride) packA[p * MR + ii] = ad[src]!;
        }
        const rows = Math.min(MR, m - i0);
        for (let jb = 0; jb < panels; jb++) {
          const j = j0 + jb * NR;
          micro(packA, packB, jb * kc * NR, kc, c, cOffset + i0 * ldc + j, ldc, rows, Math.min(NR, n - j));
        }
      }
    }
  }
}

/** 4×4 block of C += packed A panel · packed B panel; writes only `rows`×`cols` of it (edges). */
function micro(pa: Float64Array, pb: Float64Array, bBase: number, kc: number, c: TypedArray, o: number, ldc: number, rows: number, cols: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0, q = bBase, r = 0; p < kc; p++, q += 4, r += 4) {
    const a0 = pa[r]!, a1 = pa[r + 1]!, a2 = pa[r + 2]!, a3 = pa[r + 3]!;
    const b0 = pb[q]!, b1 = pb[q + 1]!, b2 = pb[q + 2]!, b3 = pb[q + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) c[o + i * ldc + j] += acc[i * 4 + j]!;
}
