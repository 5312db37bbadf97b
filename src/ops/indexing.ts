import { Tensor, type NestedArray, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, type DType } from "../core/dtype.js";
import { fmtShape, normalizeAxis, sameShape, sizeOf, type Shape } from "../core/shape.js";
import { DTypeError, ShapeError, ValueError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { onDeviceOf } from "../core/device.js";
import { bind } from "../autodiff/bind.js";
import { arange, tensor } from "./creation.js";
import { operand } from "./operands.js";
import { reshape } from "./layout.js";
import { cast, where } from "./select.js";
import { add, equal } from "./elementwise.js";
import { expandDims } from "./shape-ops.js";
import { gatherBatch, scatterBatch } from "./indexing-batch.js";

/** Indices as accepted by `gather`, `take`, `scatterAdd` and `oneHot`: an int32 tensor or (nested) integer arrays. */
export type Indices = Tensor | number | readonly NestedArray[];

function toIndices(op: string, indices: Indices): Tensor {
  if (indices instanceof Tensor) {
    if (indices.dtype !== "int32") throw new DTypeError(`${op}: indices have dtype ${indices.dtype}, expected int32 (cast with .astype("int32"))`);
    return indices;
  }
  const t = tensor(indices as NestedArray, { dtype: "float64" });
  for (const v of t.data) if (!Number.isInteger(v)) throw new ValueError(`${op}: indices must be integers, got ${v}`);
  return cast(t, "int32");
}

/** Indices checked against an axis of length n, negatives counted from the end (as NumPy's take). */
function normalizedIndices(op: string, idx: Tensor, n: number, axis: number): Int32Array {
  const src = idx.data;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    const w = v < 0 ? v + n : v;
    if (w < 0 || w >= n) throw new ValueError(`${op}: index ${v} is out of range for axis ${axis} of length ${n}; expected an integer in [${-n}, ${n - 1}]`);
    out[i] = w;
  }
  return out;
}

interface GatherParams {
  readonly axis: number;
}
interface ScatterParams {
  readonly axis: number;
  /** Shape of the result (the gathered-from tensor). */
  readonly shape: Shape;
}

/** Layout of an indexed axis: [outer, n, inner] products around `axis` of `shape`. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

const gatherPrim: Primitive<GatherParams> = {
  name: "gather",
  batch: gatherBatch,
  impl([x, idx], { axis }) {
    const [outer, n, inner] = around(x!.shape, axis);
    const ii = normalizedIndices("gather", idx!, n, axis);
    const shape = [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)];
    const out = allocate(x!.dtype, sizeOf(shape));
    kernels().indexing.gather(x!.data, outer, n, inner, ii, out);
    return Tensor._concrete(out, shape, x!.dtype);
  },
  jvp: ([, idx], [t], _out, p) => (t ? bind(gatherPrim, [t, idx!], p) : null),
  vjp: (ct, [x, idx], _out, { axis }) => [bind(scatterPrim, [ct, idx!], { axis, shape: x!.shape }), null],
};

// Zeros of `shape` with the updates added in at the indices: the transpose of gather.
const scatterPrim: Primitive<ScatterParams> = {
  name: "scatterAdd",
  batch: scatterBatch,
  impl([upd, idx], { axis, shape }) {
    const [outer, n, inner] = around(shape, axis);
    const ii = normalizedIndices("scatterAdd", idx!, n, axis);
    const out = allocate(upd!.dtype, sizeOf(shape));
    kernels().indexing.scatterAdd(upd!.data, outer, n, inner, ii, out);
    return Tensor._concrete(out, shape, upd!.dtype);
  },
  jvp: ([, idx], [t], _out, p) => (t ? bind(scatterPrim, [t, idx!], p) : null),
  vjp: (ct, [, idx], _out, { axis }) => [bind(gatherPrim, [ct, idx!], { axis }), null],
};

/**
 * Takes slices of x along `axis` at `indices` (TensorFlow.js's gather; NumPy's take with an axis).
 * Negative indices count from the end. The VJP scatter-adds the cotangent back, so repeated indices
 * accumulate their gradients.
 * @param indices int32 tensor or integer (nested) array, any shape
 * @returns shape x.shape[:axis] + indices.shape + x.shape[axis+1:], x's dtype
 * @throws DTypeError for non-int32 index tensors; ValueError for an index out of range; ShapeError for a bad axis
 */
export function gather(x: TensorLike, indices: Indices, axis = 0): Tensor {
  const t = operand("gather", x);
  if (t.rank === 0) throw new ShapeError("gather: cannot index a scalar (shape [])");
  const a = normalizeAxis("gather", axis, t.rank);
  return bind(gatherPrim, [t, toIndices("gather", indices)], { axis: a });
}

/**
 * NumPy's take: `gather` along `axis`, or into the flattened tensor when `axis` is omitted.
 * @throws as `gather`
 */
export function take(x: TensorLike, indices: Indices, axis?: number): Tensor {
  const t = operand("take", x);
  return axis === undefined ? gather(reshape(t, [t.size]), indices, 0) : gather(t, indices, axis);
}

/**
 * Returns x with `updates` added at `indices` along `axis`; repeated indices accumulate (the
 * transpose of `gather`, PyTorch's index_add). Differentiable in x and updates.
 * @param updates shape x.shape[:axis] + indices.shape + x.shape[axis+1:]
 * @throws ShapeError when updates has another shape, naming both; ValueError for an index out of range
 */
export function scatterAdd(x: TensorLike, indices: Indices, updates: TensorLike, axis = 0): Tensor {
  const t = operand("scatterAdd", x);
  const u = operand("scatterAdd", updates);
  if (t.rank === 0) throw new ShapeError("scatterAdd: cannot index a scalar (shape [])");
  const a = normalizeAxis("scatterAdd", axis, t.rank);
  const idx = toIndices("scatterAdd", indices);
  const expected = [...t.shape.slice(0, a), ...idx.shape, ...t.shape.slice(a + 1)];
  if (!sameShape(u.shape, expected)) {
    throw new ShapeError(`scatterAdd: updates have shape ${fmtShape(u.shape)}, expected ${fmtShape(expected)} (x is ${fmtShape(t.shape)}, indices are ${fmtShape(idx.shape)}, axis ${a})`);
  }
  return add(t, bind(scatterPrim, [u, idx], { axis: a, shape: t.shape }));
}

/**
 * One-hot encoding (TensorFlow.js's oneHot): a new last axis of length `depth` holding `onValue` at
 * the index and `offValue` elsewhere. Indices outside [0, depth) give all-`offValue` rows (as TF).
 * Not differentiable. The default dtype is float32 (TensorFlow.js defaults to int32).
 * @returns shape [...indices.shape, depth]
 * @throws ValueError for a negative or fractional depth; DTypeError for non-int32 index tensors
 */
export function oneHot(indices: Indices, depth: number, onValue = 1, offValue = 0, dtype: DType = "float32"): Tensor {
  if (!Number.isInteger(depth) || depth < 0) throw new ValueError(`oneHot: depth must be a non-negative integer, got ${depth}`);
  const idx = toIndices("oneHot", indices);
  const hit = equal(expandDims(idx, -1), onDeviceOf(arange(0, depth, 1, "int32"), idx));
  return where(hit, onValue, cast(offValue, dtype));
}
