import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { fmtShape, normalizeAxis, sameShape } from "../core/shape.js";
import { DTypeError, ShapeError, ValueError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { deviceState, onDeviceOf } from "../core/device.js";
import { bind } from "../autodiff/bind.js";
import { operand } from "./operands.js";
import { reshape, transpose } from "./layout.js";
import { gather } from "./indexing.js";
import { slice } from "./shape-ops.js";
import { arange } from "./creation.js";
import { where } from "./select.js";
import { add, less, mul } from "./elementwise.js";

// Sorting: argsort is the one primitive (not differentiable: it returns positions); sort and topk take
// values along those positions with takeAlongAxis, whose gradient scatters back through the indices —
// PyTorch's convention for sort and topk.

interface SortParams {
  readonly descending: boolean;
}

// Sorts each row of the last axis (the public functions move the axis there).
const argsortPrim: Primitive<SortParams> = {
  name: "argsort",
  nonDifferentiable: true,
  // Sorts along the last axis, which is an example axis unless examples are scalars (then sort one each).
  batch: ([x], _b, p, size, self) => (x!.rank === 1 ? reshape(bind(self, [reshape(x!, [size, 1])], p), [size]) : bind(self, [x!], p)),
  impl([x], { descending }) {
    const t = x!;
    const m = t.shape[t.rank - 1]!;
    const out = new Int32Array(t.size);
    if (m > 0) kernels().argsortRows(t.data, t.size / m, m, descending, out);
    return Tensor._concrete(out, t.shape, "int32");
  },
  jvp: () => null,
  vjp: () => [null],
};

function lastPerm(rank: number, axis: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
  perm.push(axis);
  return perm;
}
/** Moves `axis` to the end. */
const toLast = (t: Tensor, axis: number): Tensor => (axis === t.rank - 1 ? t : transpose(t, lastPerm(t.rank, axis)));
/** Undoes toLast. */
function fromLast(t: Tensor, axis: number): Tensor {
  if (axis === t.rank - 1) return t;
  const inv = new Array<number>(t.rank);
  lastPerm(t.rank, axis).forEach((p, i) => (inv[p] = i));
  return transpose(t, inv);
}

/** Options of `sort` and `argsort`. */
export interface SortOptions {
  /** Largest first (default false). Equal values keep their order either way (stable). */
  descending?: boolean;
}

/**
 * Indices that sort x along `axis` (default −1, the last), as NumPy's argsort and PyTorch's
 * argsort(stable=True): stable, so equal values keep their original order; NaN sorts as the largest
 * value (last ascending, first descending). A scalar gives 0.
 * @returns int32, x's shape; not differentiable
 * @throws ShapeError for an out-of-range axis
 */
export function argsort(x: TensorLike, axis = -1, options: SortOptions = {}): Tensor {
  const t = operand("argsort", x);
  if (t.rank === 0) return reshape(bind(argsortPrim, [reshape(t, [1])], { descending: false }), []);
  const a = normalizeAxis("argsort", axis, t.rank);
  return fromLast(bind(argsortPrim, [toLast(t, a)], { descending: options.descending ?? false }), a);
}

/**
 * Values of x at `indices` along `axis`: out[..., j, ...] = x[..., indices[..., j, ...], ...] (NumPy's
 * take_along_axis, PyTorch's gather). indices has x's rank and x's shape except along `axis`; negative
 * indices count from the end. The gradient scatter-adds into x at the indices (repeated indices accumulate).
 * @param indices int32 tensor
 * @returns indices' shape, x's dtype
 * @throws DTypeError for non-int32 indices; ShapeError for mismatched shapes; ValueError for an index out of range
 */
export function takeAlongAxis(x: TensorLike, indices: Tensor, axis: number): Tensor {
  const t = operand("takeAlongAxis", x);
  if (indices.dtype !== "int32") throw new DTypeError(`takeAlongAxis: indices have dtype ${indices.dtype}, expected int32 (cast with .astype("int32"))`);
  if (t.rank === 0) throw new ShapeError("takeAlongAxis: cannot index a scalar (shape [])");
  const a = normalizeAxis("takeAlongAxis", axis, t.rank);
  const other = (s: readonly number[]) => s.filter((_, i) => i !== a);
  if (indices.rank !== t.rank || !sameShape(other(indices.shape), other(t.shape))) {
    throw new ShapeError(`takeAlongAxis: indices have shape ${fmtShape(indices.shape)}, expected x's shape ${fmtShape(t.shape)} except along axis ${a}`);
  }
  const n = t.shape[a]!;
  const xs = toLast(t, a);
  const is = toLast(indices, a);
  const k = is.shape[is.rank - 1]!;
  const rows = k === 0 ? 0 : is.size / k;
  // Row r's indices become flat positions r·n + i into the flattened x; checked per row first, since a
  // flat position could land in the next row. The offsets are ops, not a loop over values, so batched
  // indices (under vmap, whose check reads every example) work the same way.
  // Indices on the GPU cannot be read synchronously: they are checked there, and one out of range makes the
  // next read-back throw (the same message).
  const concrete = is._concreteValue(true);
  if (concrete._device !== null) deviceState.backend!.checkRange("takeAlongAxis", concrete, -n, n, `for axis ${a} of length ${n}`, "");
  const src = concrete._device !== null ? new Int32Array(0) : concrete.data;
  for (let p = 0; p < src.length; p++) {
    const v = src[p]!;
    if (v < -n || v >= n) throw new ValueError(`takeAlongAxis: index ${v} is out of range for axis ${a} of length ${n}; expected an integer in [${-n}, ${n - 1}]`);
  }
  const wrapped = where(less(is, 0), add(is, n), is);
  const rowStarts = reshape(mul(arange(0, rows, 1, "int32"), n), [rows, 1]);
  const flat = add(reshape(wrapped, [rows, k]), onDeviceOf(rowStarts, is));
  const picked = gather(reshape(xs, [xs.size]), flat, 0);
  return fromLast(reshape(picked, is.shape), a);
}

/**
 * x sorted along `axis` (default −1): stable, NaN as the largest value (see `argsort`). The gradient
 * flows back through the sorting permutation (as PyTorch's sort). Returns the values; `argsort` gives
 * the indices, and `sortWithIndices` both.
 * @throws ShapeError for an out-of-range axis
 */
export function sort(x: TensorLike, axis = -1, options: SortOptions = {}): Tensor {
  return sortWithIndices(x, axis, options).values;
}

/** Values and the indices they came from, as PyTorch's `sort`, `topk` and TensorFlow.js's `topk` return them. */
export interface ValuesAndIndices {
  /** The selected values, differentiable. */
  values: Tensor;
  /** Their int32 positions along the axis. */
  indices: Tensor;
}

/** `sort` returning the indices too (PyTorch's `torch.sort`). */
export function sortWithIndices(x: TensorLike, axis = -1, options: SortOptions = {}): ValuesAndIndices {
  const t = operand("sort", x);
  if (t.rank === 0) return { values: t, indices: Tensor._concrete(new Int32Array(1), [], "int32") };
  const a = normalizeAxis("sort", axis, t.rank);
  const indices = argsort(t, a, options);
  return { values: takeAlongAxis(t, indices, a), indices };
}

/** Options of `topk`. */
export interface TopkOptions {
  /** Axis to select along (default −1). */
  axis?: number;
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
}

/**
 * The k largest (or smallest) entries along an axis, in order, with their indices (PyTorch's topk,
 * TensorFlow.js's topk). Ties go to the lower index (a stable sort). The gradient flows to the selected
 * positions only (as PyTorch).
 * @returns values (x's dtype) and int32 indices, x's shape with k along the axis
 * @throws ValueError unless 0 ≤ k ≤ the axis length; ShapeError for a bad axis or a scalar
 */
export function topk(x: TensorLike, k: number, options: TopkOptions = {}): ValuesAndIndices {
  const t = operand("topk", x);
  if (t.rank === 0) throw new ShapeError("topk: needs at least one dimension, got a scalar (shape [])");
  const a = normalizeAxis("topk", options.axis ?? -1, t.rank);
  const n = t.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ValueError(`topk: k must be an integer in [0, ${n}] (the length of axis ${a}), got ${k}`);
  const order = argsort(t, a, { descending: options.largest ?? true });
  const indices = slice(order, t.shape.map(() => 0), t.shape.map((s, d) => (d === a ? k : s)));
  return { values: takeAlongAxis(t, indices, a), indices };
}
