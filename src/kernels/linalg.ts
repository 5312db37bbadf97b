// Dense factorizations for the linear-algebra ops (inv, solve, det, slogdet, cholesky): LU with partial
// pivoting (LAPACK's getrf/getrs) and Cholesky (potrf), on `count` row-major n×n matrices stored one after
// another. They work in float64 whatever the op's dtype (the op converts), which costs nothing at the sizes
// these ops see and keeps float32 results within rounding of the exact ones.

/**
 * LU factorization with partial pivoting, in place: each matrix becomes L (unit lower, below the diagonal)
 * and U (on and above it), with P·A = L·U. `piv[b·n + k]` is the row swapped with row k at step k (as
 * LAPACK's ipiv, 0-based). `info[b]` is 0, or 1 + the first column whose pivot is exactly zero (the matrix
 * is singular; the factorization still completes, as getrf's does).
 */
export function luFactorInto(a: Float64Array, n: number, count: number, piv: Int32Array, info: Int32Array): void {
  for (let b = 0; b < count; b++) {
    const o = b * n * n;
    info[b] = 0;
    for (let k = 0; k < n; k++) {
      // The largest magnitude in column k at or below the diagonal; the first wins ties, NaN wins over all.
      let p = k, best = Math.abs(a[o + k * n + k]!);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(a[o + i * n + k]!);
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          p = i;
        }
      }
      piv[b * n + k] = p;
      if (p !== k) {
        for (let j = 0; j < n; j++) {
          const t = a[o + k * n + j]!;
          a[o + k * n + j] = a[o + p * n + j]!;
          a[o + p * n + j] = t;
        }
      }
      const d = a[o + k * n + k]!;
      if (d === 0) {
        if (info[b] === 0) info[b] = k + 1;
        continue; // column already zero below the diagonal: nothing to eliminate
      }
      for (let i = k + 1; i < n; i++) {
        const l = (a[o + i * n + k]! /= d);
        if (l === 0) continue;
        for (let j = k + 1; j < n; j++) a[o + i * n + j]! -= l * a[o + k * n + j]!;
      }
    }
  }
}

/**
 * Solves A·X = B for each matrix from its LU factors (luFactorInto), in place on `rhs`, which holds
 * `count` row-major n×k right-hand sides. The factors must be nonsingular.
 */
export function luSolveInto(lu: Float64Array, piv: Int32Array, n: number, count: number, rhs: Float64Array, k: number): void {
  for (let b = 0; b < count; b++) {
    const o = b * n * n, r = b * n * k;
    for (let i = 0; i < n; i++) {
      const p = piv[b * n + i]!;
      if (p !== i) {
        for (let j = 0; j < k; j++) {
          const t = rhs[r + i * k + j]!;
          rhs[r + i * k + j] = rhs[r + p * k + j]!;
          rhs[r + p * k + j] = t;
        }
      }
    }
    // L·Y = P·B (unit diagonal), then U·X = Y.
    for (let i = 1; i < n; i++) {
      for (let m = 0; m < i; m++) {
        const l = lu[o + i * n + m]!;
        if (l === 0) continue;
        for (let j = 0; j < k; j++) rhs[r + i * k + j]! -= l * rhs[r + m * k + j]!;
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      for (let m = i + 1; m < n; m++) {
        const u = lu[o + i * n + m]!;
        if (u === 0) continue;
        for (let j = 0; j < k; j++) rhs[r + i * k + j]! -= u * rhs[r + m * k + j]!;
      }
      const d = lu[o + i * n + i]!;
      for (let j = 0; j < k; j++) rhs[r + i * k + j]! /= d;
    }
  }
}

/**
 * Determinants from LU factors: sign[b] ∈ {−1, 0, 1} (0 when singular, NaN when a factor is NaN),
 * logAbs[b] = log|det| (−∞ when singular), det[b] = the product of the pivots times the permutation's sign.
 */
export function luDeterminantsInto(lu: Float64Array, piv: Int32Array, n: number, count: number, sign: Float64Array, logAbs: Float64Array, det: Float64Array): void {
  for (let b = 0; b < count; b++) {
    const o = b * n * n;
    let perm = 1, s = 1, l = 0, d = 1;
    for (let i = 0; i < n; i++) {
      const u = lu[o + i * n + i]!;
      if (piv[b * n + i] !== i) perm = -perm; // each row swap flips the determinant's sign
      if (u < 0) s = -s;
      l += Math.log(Math.abs(u));
      d *= u;
    }
    sign[b] = Number.isNaN(l) ? NaN : l === -Infinity ? 0 : s * perm;
    logAbs[b] = l;
    det[b] = d === 0 ? 0 : d * perm; // +0 for a singular matrix, whatever the row swaps
  }
}

/**
 * Cholesky factorization A = L·Lᵀ in place, reading only the lower triangle (as LAPACK's potrf with
 * uplo = L, and PyTorch): each matrix becomes L with zeros above the diagonal. `info[b]` is 0, or the order
 * k (1-based) of the first leading minor that is not positive (then the matrix is not positive definite and
 * its contents are unspecified). A NaN pivot is not a failure: the NaN passes on into L (OpenBLAS, PyTorch).
 */
export function choleskyInto(a: Float64Array, n: number, count: number, info: Int32Array): void {
  for (let b = 0; b < count; b++) {
    const o = b * n * n;
    info[b] = 0;
    for (let j = 0; j < n; j++) {
      let d = a[o + j * n + j]!;
      for (let m = 0; m < j; m++) d -= a[o + j * n + m]! * a[o + j * n + m]!;
      // A NaN pivot is passed on (sqrt(NaN) = NaN fills the rest), as OpenBLAS's potrf and PyTorch 1.13 do: the
      // input was NaN, which is not a question of positive definiteness.
      if (d <= 0) {
        info[b] = j + 1;
        break;
      }
      const l = Math.sqrt(d);
      a[o + j * n + j] = l;
      for (let i = j + 1; i < n; i++) {
        let s = a[o + i * n + j]!;
        for (let m = 0; m < j; m++) s -= a[o + i * n + m]! * a[o + j * n + m]!;
        a[o + i * n + j] = s / l;
      }
      for (let i = 0; i < j; i++) a[o + i * n + j] = 0;
    }
  }
}
