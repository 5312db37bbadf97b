import type { TypedArray } from "../core/dtype.js";
import type { MatrixView } from "./gemm-view.js";
import { kernels } from "./registry.js";

export type { MatrixView } from "./gemm-view.js";

/**
 * C = A·B, or C += A·B with `accumulate`: C[m, n] row-major with row stride `ldc` from `cOffset`, A[m, k]
 * and B[k, n] strided views, on the active backend (js: blocked loops, split over threads in Node for large
 * products; wasm: a SIMD kernel; blas: the system library).
 */
export function gemm(m: number, n: number, k: number, a: MatrixView, b: MatrixView, c: TypedArray, cOffset: number, ldc: number, accumulate: boolean): void {
  kernels().gemm(m, n, k, a, b, c, cOffset, ldc, accumulate);
}

/**
 * C[m,n] = op(A) · op(B) for one matrix, where op(A) is [m,k] and op(B) is [k,n]; C is overwritten.
 * Without transposes A is read row-major at offset `ao` (element (i,p) at ao + i·k + p) and B at `bo`
 * (element (p,j) at bo + p·n + j). With `transA`, A is stored as [k,m] (element (i,p) at ao + p·m + i);
 * with `transB`, B is stored as [n,k] (element (p,j) at bo + j·k + p). C is row-major at `co`.
 */
export function matmulInto(
  a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number,
  m: number, k: number, n: number, transA = false, transB = false,
): void {
  gemm(m, n, k, { data: a, offset: ao, rowStride: transA ? 1 : k, colStride: transA ? m : 1 }, { data: b, offset: bo, rowStride: transB ? 1 : n, colStride: transB ? k : 1 }, c, co, n, false);
}
