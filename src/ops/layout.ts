import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate } from "../core/dtype.js";
import { broadcastShapes, fmtShape, normalizeAxes, sameShape, sizeOf, type Shape } from "../core/shape.js";
import { ShapeError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { carryZeros } from "../autodiff/strong-zeros.js";
import { operand } from "./operands.js";
import { sum } from "./reduce.js";
import { leadingRule } from "../core/batching.js";

/** @internal (for jit's fused loops) */
export const reshapePrim: Primitive<Shape> = {
  name: "reshape",
  batch: leadingRule((shape, size) => [size, ...shape]),
  // Row-major storage means a reshape is a new header over the same (immutable) data: no copy.
  impl: ([x], shape) => Tensor._concrete(x!.data, shape, x!.dtype),
  jvp: (_x, [t], _out, shape) => (t ? carryZeros(t, reshape(t, shape), (m) => reshape(m, shape)) : null),
  vjp: (ct, [x]) => [carryZeros(ct, reshape(ct, x!.shape), (m) => reshape(m, x!.shape))],
  residuals: [[]], // reads only x's shape
};

/**
 * Same data, new shape. One dimension may be -1 (inferred).
 * @throws ShapeError when the element counts differ or more than one -1 is given
 */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const t = operand("reshape", x);
  const target = [...shape];
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  for (const d of target) {
    if (!Number.isInteger(d) || d < -1) throw new ShapeError(`reshape: dimensions must be non-negative integers or -1, got ${fmtShape(shape)}`);
  }
  if (unknown === 1) {
    const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const i = target.indexOf(-1);
    if (known === 0 || t.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(t.shape)} (${t.size} elements) into ${fmtShape(shape)}: ${t.size} is not a multiple of ${known}, the product of the other dimensions`);
    }
    target[i] = t.size / known;
  }
  if (sizeOf(target) !== t.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(t.shape)} (${t.size} elements) into ${fmtShape(shape)} (${sizeOf(target)} elements)`);
  }
  if (sameShape(target, t.shape)) return t;
  return bind(reshapePrim, [t], target);
}

/** @internal (for jit's fused loops) */
export const broadcastPrim: Primitive<Shape> = {
  name: "broadcastTo",
  // Line x's example dimensions up with the target's (1s after the batch axis), then broadcast the batch.
  batch: ([x], _b, shape, size, self) =>
    bind(self, [reshape(x!, [size, ...new Array<number>(shape.length - x!.rank + 1).fill(1), ...x!.shape.slice(1)])], [size, ...shape]),
  impl([x], shape) {
    const data = allocate(x!.dtype, sizeOf(shape));
    kernels().layout.broadcast(x!.data, x!.shape, data, shape);
    return Tensor._concrete(data, shape, x!.dtype);
  },
  jvp: (_x, [t], _out, shape) => (t ? carryZeros(t, broadcastTo(t, shape), (m) => broadcastTo(m, shape)) : null),
  // The engine sums a cotangent back to the input's shape, so the rule passes it through unchanged.
  vjp: (ct) => [ct],
  residuals: [[]],
};

/**
 * Repeats `x` along size-1 and missing leading dimensions to reach `shape` (NumPy rules).
 * @throws ShapeError when `x` does not broadcast to `shape`
 */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = operand("broadcastTo", x);
  const result = broadcastShapes("broadcastTo", t.shape, shape);
  if (!sameShape(result, shape)) {
    throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(t.shape)} to ${fmtShape(shape)}`);
  }
  if (sameShape(t.shape, shape)) return t;
  return bind(broadcastPrim, [t], [...shape]);
}

const transposePrim: Primitive<readonly number[]> = {
  name: "transpose",
  batch: leadingRule((perm) => [0, ...perm.map((p) => p + 1)]),
  impl([x], perm) {
    const data = allocate(x!.dtype, x!.size);
    kernels().layout.transpose(x!.data, x!.shape, perm, data);
    return Tensor._concrete(data, perm.map((p) => x!.shape[p]!), x!.dtype);
  },
  jvp: (_x, [t], _out, perm) => (t ? carryZeros(t, transpose(t, perm), (m) => transpose(m, perm)) : null),
  vjp: (ct, _x, _out, perm) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [carryZeros(ct, transpose(ct, inverse), (m) => transpose(m, inverse))];
  },
  residuals: [[]],
};

/**
 * Permutes dimensions: output dimension i is input dimension `perm[i]`. Default reverses all dimensions.
 * @throws ShapeError when `perm` is not a permutation of 0..rank-1
 */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const t = operand("transpose", x);
  const rank = t.rank;
  const p = perm ? perm.map((a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const ok = p.length === rank && [...p].sort((a, b) => a - b).every((a, i) => a === i);
  if (!ok) throw new ShapeError(`transpose: perm ${JSON.stringify(perm)} is not a permutation of the ${rank} axes of ${fmtShape(t.shape)}`);
  if (p.every((a, i) => a === i)) return t;
  return bind(transposePrim, [t], p);
}

/**
 * Sums `x` down to `shape`, undoing a broadcast: leading extra dimensions and dimensions where
 * `shape` has 1 are summed. Used by the engine to fit cotangents of broadcast inputs.
 * @throws ShapeError when `shape` does not broadcast to x's shape
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  if (lead < 0) throw new ShapeError(`sumToShape: cannot reduce ${fmtShape(x.shape)} to the larger rank of ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== x.shape[i]) throw new ShapeError(`sumToShape: ${fmtShape(shape)} does not broadcast to ${fmtShape(x.shape)}`);
  }
  const s = axes.length ? sum(x, axes, true) : x;
  return reshape(s, shape);
}

/** @internal Axes helper shared by reductions. */
export function axesOf(op: string, x: Tensor, axis: number | readonly number[] | undefined): number[] {
  return normalizeAxes(op, axis, x.rank);
}
