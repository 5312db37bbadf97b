import type { TypedArray } from "../core/dtype.js";
import { gemmSerial } from "./gemm-core.js";
import { gemmParallel } from "./gemm-threads.js";

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

/**
 * C = A·B, or C += A·B with `accumulate`: C[m, n] row-major with row stride `ldc` from `cOffset`, A[m, k]
 * and B[k, n] strided views. Large products are split by rows or columns over several threads in Node (see
 * gemm-threads.ts; the result is identical to one thread's), others run on this thread.
 */
export function gemm(m: number, n: number, k: number, a: MatrixView, b: MatrixView, c: TypedArray, cOffset: number, ldc: number, accumulate: boolean): void {
  const args = [a.data, a.offset, a.rowStride, a.colStride, b.data, b.offset, b.rowStride, b.colStride, c, cOffset, ldc, m, k, n, accumulate] as const;
  if (!gemmParallel(...args)) gemmSerial(...args);
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
