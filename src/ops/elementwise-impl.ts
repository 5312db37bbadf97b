import { Tensor } from "../core/tensor.js";
import { allocate, isFloat, promote, type DType } from "../core/dtype.js";
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
        const full = allocate(dtype, out.length);
        kernels().layout.broadcast(ad, a.shape, full, shape);
        ad = full;
      }
      if (!sameShape(b.shape, shape)) {
        const full = allocate(dtype, out.length);
        kernels().layout.broadcast(bd, b.shape, full, shape);
        bd = full;
      }
    }
    pick(kernels())(ad, bd, out, mode);
    return Tensor._concrete(out, shape, outDtype);
  };
}
