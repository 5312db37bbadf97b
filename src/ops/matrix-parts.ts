import type { Tensor, TensorLike } from "../core/tensor.js";
import { fmtShape, normalizeAxis } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { operand } from "./operands.js";
import { reshape, transpose } from "./layout.js";
import { arange } from "./creation.js";
import { where } from "./select.js";
import { greaterEqual, lessEqual, sub } from "./elementwise.js";
import { sum } from "./reduce.js";
import { gather } from "./indexing.js";
import { expandDims } from "./shape-ops.js";

// Diagonals and triangles: composites of transpose, reshape, gather and where, so their gradients come
// from those ops' rules (a diagonal's gradient is scattered back into zeros; a triangle's is masked).

/**
 * The diagonal of x in the plane of axes `axis1` and `axis2`, appended as the last dimension (PyTorch's
 * diagonal with its defaults 0, 0, 1; NumPy's with axes moved the same way). `offset` > 0 takes a
 * diagonal above the main one, < 0 below. The gradient is the cotangent placed back on the diagonal.
 * @returns shape: x's shape without axis1 and axis2, then the diagonal's length (0 if the offset leaves none)
 * @throws ShapeError for rank < 2, bad or equal axes; ValueError for a non-integer offset
 */
export function diagonal(x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const t = operand("diagonal", x);
  if (t.rank < 2) throw new ShapeError(`diagonal: needs at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(offset)) throw new ValueError(`diagonal: offset must be an integer, got ${offset}`);
  const a1 = normalizeAxis("diagonal", axis1, t.rank);
  const a2 = normalizeAxis("diagonal", axis2, t.rank);
  if (a1 === a2) throw new ShapeError(`diagonal: axis1 and axis2 must differ, both are ${a1}`);
  const rest = t.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
  const moved = transpose(t, [...rest, a1, a2]);
  const n = t.shape[a1]!, m = t.shape[a2]!;
  const r0 = Math.max(0, -offset), c0 = Math.max(0, offset);
  const len = Math.max(0, Math.min(n - r0, m - c0));
  const idx = new Int32Array(len);
  for (let i = 0; i < len; i++) idx[i] = (r0 + i) * m + (c0 + i);
  const restShape = rest.map((i) => t.shape[i]!);
  const flat = reshape(moved, [...restShape, n * m]);
  return gather(flat, Array.from(idx), restShape.length);
}

/**
 * Sum of the main diagonal of a 2-D tensor: PyTorch's and NumPy's `trace`, under another name because
 * chainrule's `trace` captures a computation graph. Use `sum(diagonal(x, k, a, b), -1)` for
 * other planes or offsets). Gradient: the identity pattern times the cotangent.
 * @returns a scalar; ints sum in int32
 * @throws ShapeError unless x is 2-D
 */
export function matrixTrace(x: TensorLike): Tensor {
  const t = operand("matrixTrace", x);
  if (t.rank !== 2) throw new ShapeError(`matrixTrace: expects a 2-D tensor, got shape ${fmtShape(t.shape)}; use sum(diagonal(x, offset, axis1, axis2), -1) for batches`);
  return sum(diagonal(t));
}

/** j − i ≥ k (upper) or ≤ k (lower) over the last two dimensions of `t`. */
function triangle(op: string, x: TensorLike, k: number, upper: boolean): Tensor {
  const t = operand(op, x);
  if (t.rank < 2) throw new ShapeError(`${op}: needs at least 2 dimensions (matrices in the last two), got shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(k)) throw new ValueError(`${op}: diagonal offset k must be an integer, got ${k}`);
  const n = t.shape[t.rank - 2]!, m = t.shape[t.rank - 1]!;
  let offsets = sub(arange(0, m, 1, "int32"), expandDims(arange(0, n, 1, "int32"), 1));
  if (t.device === "webgpu") offsets = offsets.to("webgpu"); // the mask goes where the matrices are
  return where(upper ? greaterEqual(offsets, k) : lessEqual(offsets, k), t, 0);
}

/**
 * The upper triangle of the matrices in x's last two dimensions: entries with j − i ≥ k kept, the rest 0
 * (PyTorch's and NumPy's triu). The gradient is the cotangent's upper triangle.
 * @throws ShapeError for rank < 2; ValueError for a non-integer k
 */
export function triu(x: TensorLike, k = 0): Tensor {
  return triangle("triu", x, k, true);
}

/** The lower triangle: entries with j − i ≤ k kept, the rest 0 (PyTorch's and NumPy's tril). Conventions as `triu`. */
export function tril(x: TensorLike, k = 0): Tensor {
  return triangle("tril", x, k, false);
}
