import type { TypedArray } from "../core/dtype.js";

/**
 * C[m,n] = A[m,k] · B[k,n] for one batch element, reading A at offset `ao`, B at `bo`, writing C at `co`.
 * i-k-j loop order so the innermost loop walks B and C rows contiguously; k unrolled by 4 to cut
 * loads and stores of C. Blocked over k and n so a panel of B stays in cache.
 */
export function matmulInto(
  a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number,
  m: number, k: number, n: number,
): void {
  const KB = 128;
  const NB = 512;
  for (let i = 0; i < m * n; i++) c[co + i] = 0;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(j0 + NB, n);
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(p0 + KB, k);
      for (let i = 0; i < m; i++) {
        const crow = co + i * n;
        const arow = ao + i * k;
        let p = p0;
        for (; p + 3 < p1; p += 4) {
          const a0 = a[arow + p]!, a1 = a[arow + p + 1]!, a2 = a[arow + p + 2]!, a3 = a[arow + p + 3]!;
          const b0 = bo + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
          for (let j = j0; j < j1; j++) {
            c[crow + j] = c[crow + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
          }
        }
        for (; p < p1; p++) {
          const av = a[arow + p]!;
          const b0 = bo + p * n;
          for (let j = j0; j < j1; j++) c[crow + j] = c[crow + j]! + av * b[b0 + j]!;
        }
      }
    }
  }
}
