import { Tensor, type TensorLike } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { normalizeAxis } from "../core/shape.js";
import { allocate } from "../core/dtype.js";
import type { Rng } from "../core/random.js";
import { abs, add, div, equal, exp, log, max, mul, reshape, stopGradient, sub, sum, where } from "../ops/index.js";
import { operand } from "../ops/operands.js";
import { requireFloat } from "../ops/select.js";

/**
 * The maximum over `axis` with its gradient stopped, and non-finite maxima replaced by 0. Softmax,
 * logSoftmax and logsumexp are invariant to shifting by a constant, so subtracting this changes no
 * value or gradient but keeps every exp argument ≤ 0 (no overflow at logits of ±1000).
 */
function stableShift(x: Tensor, axes: number[]): Tensor {
  const m = stopGradient(max(x, axes, true));
  // An all −∞ slice would give (−∞) − (−∞) = NaN; PyTorch's logsumexp uses a shift of 0 there.
  return where(equal(abs(m), Infinity), 0, m);
}

function axesFor(op: string, x: Tensor, axis: number | readonly number[] | undefined): number[] {
  if (axis === undefined) return Array.from({ length: x.rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : [...axis];
  return [...new Set(list.map((a) => normalizeAxis(op, a, x.rank)))].sort((a, b) => a - b);
}

/**
 * log Σ exp(x) over `axis`, computed as m + log Σ exp(x − m) with m the (gradient-stopped) maximum,
 * so it is finite for logits of any finite size. Gradient: softmax(x) along `axis`.
 * @param x float tensor
 * @param axis a number or list of axes, negative counting from the end; default all axes
 * @param keepDims keep reduced dimensions as size 1
 * @throws DTypeError for int/bool input; ShapeError for an out-of-range axis
 */
export function logsumexp(x: TensorLike, axis?: number | readonly number[], keepDims = false): Tensor {
  const t = operand("logsumexp", x);
  requireFloat("logsumexp", t);
  const axes = axesFor("logsumexp", t, axis);
  const m = stableShift(t, axes);
  const s = add(log(sum(exp(sub(t, m)), axes, true)), m);
  return keepDims ? s : reshape(s, t.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * Softmax along `axis` (default the last): exp(x − m) / Σ exp(x − m) with m the row maximum, so
 * large logits do not overflow. Each slice along `axis` sums to 1.
 * @param x float tensor of any shape
 * @throws DTypeError for int/bool input; ShapeError for an out-of-range axis
 */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const t = operand("softmax", x);
  requireFloat("softmax", t);
  const axes = [normalizeAxis("softmax", axis, t.rank)];
  const e = exp(sub(t, stableShift(t, axes)));
  return div(e, sum(e, axes, true));
}

/**
 * log softmax along `axis` (default the last): x − logsumexp(x), computed without overflow or
 * log(0) for large logit gaps (it returns the large negative value, not −Infinity).
 * @throws DTypeError for int/bool input; ShapeError for an out-of-range axis
 */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const t = operand("logSoftmax", x);
  requireFloat("logSoftmax", t);
  const axes = [normalizeAxis("logSoftmax", axis, t.rank)];
  const shifted = sub(t, stableShift(t, axes));
  return sub(shifted, log(sum(exp(shifted), axes, true)));
}

/** Options for `dropout`. */
export interface DropoutOptions {
  /** Source of the random mask; the same seed gives the same mask on every machine. */
  rng: Rng;
  /** When false (evaluation), dropout is the identity. Default true. */
  training?: boolean;
}

/**
 * Inverted dropout (as in PyTorch): in training, zeroes each element with probability `p` and scales
 * the rest by 1/(1 − p), so the expected value is unchanged; the identity when not training or p = 0.
 * The gradient is the same mask times the cotangent.
 * @param p drop probability in [0, 1)
 * @throws ValueError when p is outside [0, 1)
 */
export function dropout(x: TensorLike, p: number, options: DropoutOptions): Tensor {
  const t = operand("dropout", x);
  if (!(p >= 0 && p < 1)) throw new ValueError(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return t;
  requireFloat("dropout", t);
  const mask = allocate(t.dtype, t.size);
  const keep = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = options.rng.next() < p ? 0 : keep;
  const m = Tensor._concrete(mask, t.shape, t.dtype);
  // The mask is drawn on the CPU (the same seed gives the same mask everywhere) and goes where x lives.
  return mul(t, t.device === "webgpu" ? m.to("webgpu") : m);
}
