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
