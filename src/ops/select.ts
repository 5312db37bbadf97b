import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, checkDType, isFloat, promote, type DType } from "../core/dtype.js";
import { broadcastShapes, sameShape, sizeOf } from "../core/shape.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";

import { castConcrete, zerosLike } from "./creation.js";
import { operand, operands } from "./operands.js";
import { logicalAnd, logicalNot, logicalOr } from "./logical.js";
import { DTypeError } from "../core/errors.js";
import { broadcastTo } from "./layout.js";
import { broadcastingRule } from "../core/batching.js";
import { selectedAway, structuralZeros, withStructuralZeros } from "../autodiff/strong-zeros.js";

/** @internal (for jit's fused loops) */
export const castPrim: Primitive<DType> = {
  name: "cast",
  batch: broadcastingRule(),
  impl: ([x], dtype) => (x!.dtype === dtype ? x! : castConcrete(x!, dtype)),
  jvp: (_x, [t], _out, dtype) => (t && isFloat(dtype) ? withStructuralZeros(cast(t, dtype), structuralZeros(t)) : null),
  vjp: (ct, [x]) => [isFloat(x!.dtype) && isFloat(ct.dtype) ? cast(ct, x!.dtype) : null],
  residuals: [[]], // reads only x's dtype
};

/**
 * Converts to `dtype`. Float→int32 truncates toward zero; anything→bool is x ≠ 0.
 * Gradients flow between float dtypes only (cast to int/bool has zero gradient).
 */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = operand("cast", x);
  checkDType("cast", dtype);
  return t.dtype === dtype ? t : bind(castPrim, [t], dtype);
}


function materialize(x: Tensor, dtype: DType, shape: readonly number[]): Tensor {
  let t = x.dtype === dtype ? x : castConcrete(x, dtype);
  if (!sameShape(t.shape, shape)) {
    const data = allocate(dtype, sizeOf(shape));
    kernels().layout.broadcast(t.data, t.shape, data, shape);
    t = Tensor._concrete(data, shape, dtype);
  }
  return t;
}

/** @internal (for jit's fused loops) */
export const wherePrim: Primitive<null> = {
  name: "where",
  batch: broadcastingRule(),
  impl([c, a, b]) {
    const dtype = promote(a!.dtype, b!.dtype);
    const shape = broadcastShapes("where", broadcastShapes("where", c!.shape, a!.shape), b!.shape);
    const cd = materialize(c!, "bool", shape).data;
    const ad = materialize(a!, dtype, shape).data;
    const bd = materialize(b!, dtype, shape).data;
    const out = allocate(dtype, cd.length);
    for (let i = 0; i < out.length; i++) out[i] = cd[i] ? ad[i]! : bd[i]!;
    return Tensor._concrete(out, shape, dtype);
  },
  jvp([c], [, ta, tb], out) {
    if (!ta && !tb) return null;
    const r = where(c!, ta ?? zerosLike(out), tb ?? zerosLike(out));
    // The branch not taken is a structural zero where its tangent is null (see structuralZeros).
    const ma = ta ? structuralZeros(ta) : true, mb = tb ? structuralZeros(tb) : true;
    const fromA = ma === null ? null : ma === true ? c! : logicalAnd(c!, ma);
    const fromB = mb === null ? null : mb === true ? logicalNot(c!) : logicalAnd(logicalNot(c!), mb);
    const zeros = fromA === null ? fromB : fromB === null ? fromA : logicalOr(fromA, fromB);
    return withStructuralZeros(sameShape(r.shape, out.shape) ? r : broadcastTo(r, out.shape), zeros);
  },
  vjp(ct, [c], _out, _p, needs) {
    return [null, needs[1] ? selectedAway(logicalNot(c!), ct, ct) : null, needs[2] ? selectedAway(c!, ct, ct) : null];
  },
};

/**
 * Picks `a` where `cond` is true and `b` elsewhere, broadcasting all three (NumPy `where`).
 * The gradient flows to the chosen side only; `cond` gets none.
 * @param cond bool tensor (other dtypes are tested for ≠ 0)
 * @throws ShapeError if the three shapes do not broadcast
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = operand("where", cond);
  const [x, y] = operands("where", a, b);
  return bind(wherePrim, [c.dtype === "bool" ? c : cast(c, "bool"), x, y], null);
}

/** @internal (for jit's fused loops) */
export const stopPrim: Primitive<null> = {
  name: "stopGradient",
  batch: broadcastingRule(),
  // A new tensor object over the same storage: the caller may set requiresGrad on it or update it in
  // place, which must not turn the input itself (say, a leaf's value) into something else.
  impl: ([x]) => Tensor._concrete(x!.data, x!.shape, x!.dtype),
  jvp: () => null,
  vjp: () => [null],
  // The result is outside every graph, so it does not require grad (as PyTorch's detach).
  nonDifferentiable: true,
};

/**
 * The identity on values with a zero derivative: gradients do not flow through it, at any order
 * (JAX's `stop_gradient`, PyTorch's `detach`). The result does not require grad and shares storage
 * with `x`, so an in-place update of one shows in the other (as PyTorch's `detach`).
 */
export function stopGradient(x: TensorLike): Tensor {
  return bind(stopPrim, [operand("stopGradient", x)], null);
}

/** @throws DTypeError unless x is float32 or float64 */
export function requireFloat(op: string, x: Tensor, what = "argument"): void {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: ${what} has dtype ${x.dtype}; it needs float32 or float64 (cast it with .astype("float32"))`);
}
