import type { Tensor, TensorLike } from "../core/tensor.js";
import { isFloat } from "../core/dtype.js";
import { operand, operands } from "./operands.js";
import { cast, where } from "./select.js";
import { abs, equal, greater, less, maximum, minimum, notEqual } from "./elementwise.js";
import { sum, type Axis } from "./reduce.js";

// Logical ops, value tests and the truth reductions. All give bool tensors and carry no gradient
// (they are composed from comparisons, which are not differentiable); nanToNum is the exception: it
// passes values through, so it has a gradient (1 where x is finite, 0 where it was replaced, as PyTorch).

/** Truth of each element: x ≠ 0 (NaN is true, as NumPy and PyTorch). */
const truth = (op: string, x: TensorLike): Tensor => {
  const t = operand(op, x);
  return t.dtype === "bool" ? t : cast(t, "bool");
};

/**
 * Elementwise logical and, with broadcasting; non-bool inputs count as true where ≠ 0 (NaN is true).
 * @returns bool, no gradient
 * @throws ShapeError if shapes do not broadcast
 */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands("logicalAnd", a, b);
  return minimum(truth("logicalAnd", x), truth("logicalAnd", y));
}
/** Elementwise logical or; conventions as `logicalAnd`. @returns bool, no gradient */
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands("logicalOr", a, b);
  return maximum(truth("logicalOr", x), truth("logicalOr", y));
}
/** Elementwise exclusive or; conventions as `logicalAnd`. @returns bool, no gradient */
export function logicalXor(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands("logicalXor", a, b);
  return notEqual(truth("logicalXor", x), truth("logicalXor", y));
}
/** Elementwise logical not: true where x is 0 (false for NaN, which is truthy). @returns bool, no gradient */
export function logicalNot(x: TensorLike): Tensor {
  return equal(truth("logicalNot", x), 0);
}

/** True where x is NaN (never for int/bool). @returns bool, no gradient */
export function isnan(x: TensorLike): Tensor {
  const t = operand("isnan", x);
  return notEqual(t, t);
}
/** True where x is +∞ or −∞ (never for int/bool). @returns bool, no gradient */
export function isinf(x: TensorLike): Tensor {
  const t = operand("isinf", x);
  return equal(abs(t), Infinity);
}
/** True where x is neither infinite nor NaN (always for int/bool). @returns bool, no gradient */
export function isfinite(x: TensorLike): Tensor {
  const t = operand("isfinite", x);
  return less(abs(t), Infinity);
}

/**
 * Whether any element along `axis` (default all) is true (≠ 0, NaN counts as true), as NumPy's and
 * PyTorch's any; over zero elements, false.
 * @returns bool, no gradient
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function any(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  return greater(sum(truth("any", x), axis, keepDims), 0);
}
/**
 * Whether every element along `axis` (default all) is true (≠ 0, NaN counts as true); over zero elements, true.
 * @returns bool, no gradient
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function all(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  return equal(sum(logicalNot(x), axis, keepDims), 0);
}

/** Replacement values for `nanToNum`. */
export interface NanToNumOptions {
  /** What NaN becomes (default 0). */
  nan?: number;
  /** What +∞ becomes (default: the dtype's largest finite value). */
  posinf?: number;
  /** What −∞ becomes (default: the dtype's most negative finite value). */
  neginf?: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Replaces NaN, +∞ and −∞ by finite numbers (defaults 0 and the dtype's extreme finite values), as
 * PyTorch's nan_to_num and NumPy's. The gradient is 1 where x was finite and 0 where a value was replaced
 * (as PyTorch). Int/bool inputs are returned unchanged.
 */
export function nanToNum(x: TensorLike, options: NanToNumOptions = {}): Tensor {
  const t = operand("nanToNum", x);
  if (!isFloat(t.dtype)) return t;
  const big = t.dtype === "float32" ? FLOAT32_MAX : Number.MAX_VALUE;
  const { nan = 0, posinf = big, neginf = -big } = options;
  const noNan = where(isnan(t), nan, t);
  return where(equal(t, Infinity), posinf, where(equal(t, -Infinity), neginf, noNan));
}
