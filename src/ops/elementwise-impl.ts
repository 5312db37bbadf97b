import { Tensor } from "../core/tensor.js";
import { allocate, isFloat, promote, type DType, type TypedArray } from "../core/dtype.js";
import { broadcastShapes, sameShape, sizeOf } from "../core/shape.js";
import type { BinaryKernel } from "../kernels/binary.js";
import type { UnaryKernel } from "../kernels/unary.js";
import type { KernelTable } from "../kernels/backend.js";
import { kernels } from "../kernels/registry.js";
import { castConcrete } from "./creation.js";

/**
 * Concrete implementation of a unary elementwise op. Float-only math (exp, sin, …) promotes
 * int32/bool inputs to float32, as PyTorch does for its float-only functions. `pick` finds the kernel
 * in the active backend's table at each call, so `setBackend` takes effect at once.
 */
export function unaryImpl(pick: (k: KernelTable) => UnaryKernel, floatOnly: boolean): (x: Tensor[]) => Tensor {
  return ([x]) => {
    let a = x!;
    if (floatOnly && !isFloat(a.dtype)) a = castConcrete(a, "float32");
    const out = allocate(a.dtype, a.data.length);
    pick(kernels())(a.data, out);
    return Tensor._concrete(out, a.shape, a.dtype);
  };
}

/** Largest operand (in elements) broadcast into a reused scratch array; larger ones get fresh storage. */
const SCRATCH_MAX = 1 << 20;
/** Scratch arrays by dtype and operand (0: a, 1: b), grown to the largest size asked for so far. */
const scratch = new Map<string, TypedArray>();

/**
 * Storage for an operand broadcast to the output's shape. It is read by one kernel call and then dropped,
 * so it can be the same array every time: a bias added to [N, L, F] rows or a LayerNorm's per-row scale
 * would otherwise allocate (and the collector free) a full-size copy per op, about a fifth of what the names
 * transformer allocated per step. Never escapes this file.
 */
function broadcastStorage(dtype: DType, operand: 0 | 1, size: number): TypedArray {
  if (size > SCRATCH_MAX) return allocate(dtype, size);
  const key = `${dtype}${operand}`;
  let s = scratch.get(key);
  if (s === undefined || s.length < size) scratch.set(key, (s = allocate(dtype, size)));
  return s.length === size ? s : s.subarray(0, size);
}

/**
 * Concrete implementation of a broadcasting binary op (NumPy rules).
 * `result`: "same" keeps the promoted dtype, "float" promotes ints to float32 (true division),
 * "bool" computes in the promoted dtype and returns bool (comparisons).
 */
export function binaryImpl(name: string, pick: (k: KernelTable) => BinaryKernel, result: "same" | "float" | "bool"): (x: Tensor[]) => Tensor {
  return ([x, y]) => {
    let a = x!;
    let b = y!;
    let dtype: DType = promote(a.dtype, b.dtype);
    if (result === "float" && !isFloat(dtype)) dtype = "float32";
    if (a.dtype !== dtype) a = castConcrete(a, dtype);
    if (b.dtype !== dtype) b = castConcrete(b, dtype);
    const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(name, a.shape, b.shape);
    const outDtype: DType = result === "bool" ? "bool" : dtype;
    const out = allocate(outDtype, sizeOf(shape));
    let ad = a.data;
    let bd = b.data;
    let mode: 0 | 1 | 2 = 0;
    if (sameShape(a.shape, b.shape)) mode = 0;
    else if (bd.length === 1 && sameShape(a.shape, shape)) mode = 1;
    else if (ad.length === 1 && sameShape(b.shape, shape)) mode = 2;
    else {
      if (!sameShape(a.shape, shape)) {
        const full = broadcastStorage(dtype, 0, out.length);
        kernels().layout.broadcast(ad, a.shape, full, shape);
        ad = full;
      }
      if (!sameShape(b.shape, shape)) {
        const full = broadcastStorage(dtype, 1, out.length);
        kernels().layout.broadcast(bd, b.shape, full, shape);
        bd = full;
      }
    }
    pick(kernels())(ad, bd, out, mode);
    return Tensor._concrete(out, shape, outDtype);
  };
}
