// The webgpu kernels of each primitive, keyed by the primitive's name (PyTorch's dispatcher: one op,
// kernels keyed by device). Each takes the primitive's inputs — device tensors, and CPU scalars that the
// backend has uploaded — and its parameters, and returns a device tensor. Shape rules are the primitive's
// own: the CPU implementation has checked nothing here, so each kernel checks what it relies on.
import { Tensor } from "../../core/tensor.js";
import { isFloat, promote, type DType } from "../../core/dtype.js";
import { broadcastShapes, fmtShape, sizeOf, type Shape } from "../../core/shape.js";
import { ShapeError } from "../../core/errors.js";
import type { GpuContext, GpuStorage } from "./context.js";
import { OPS, broadcastView, contiguous, intExpr, mapKernel, wgslType, type View } from "./wgsl.js";
import { matmulKernel } from "./matmul.js";
import { reduceKernel } from "./reduce.js";

/** A device kernel: inputs on the device (scalars uploaded), parameters as the primitive has them. */
export type DeviceKernel = (ctx: GpuContext, x: readonly Tensor[], params: unknown) => Tensor;

/** The storage of a device tensor. */
export const st = (t: Tensor): GpuStorage => t._device as GpuStorage;

/** A new device tensor of `shape` and `dtype`. */
export function empty(ctx: GpuContext, shape: Shape, dtype: DType): Tensor {
  return Tensor._onDevice(ctx.alloc(sizeOf(shape)), [...shape], dtype);
}

/** The contiguous view of a tensor over its own shape. */
export const plain = (t: Tensor): View => ({ storage: st(t), dtype: t.dtype, offset: 0, strides: contiguous(t.shape) });

/** An elementwise op from the expression table, broadcasting its operands (NumPy rules, as the CPU kernels). */
function elementwiseKernel(name: string): DeviceKernel {
  const e = OPS[name]!;
  return (ctx, x) => {
    let shape: Shape = x[0]!.shape;
    for (let i = 1; i < x.length; i++) shape = broadcastShapes(name, shape, x[i]!.shape);
    let dtype = x.map((t) => t.dtype).reduce(promote);
    if (e.kind === "float" && !isFloat(dtype)) dtype = "float32";
    const compute = wgslType(dtype);
    const outDtype: DType = e.kind === "bool" ? "bool" : dtype;
    const out = empty(ctx, shape, outDtype);
    const expr = compute === "f32" ? e.f32 : intExpr(e);
    mapKernel(ctx, shape, st(out), outDtype, x.map((t) => broadcastView(st(t), t.dtype, t.shape, shape)), expr, compute, e.kind === "bool" ? "bool" : compute);
    return out;
  };
}

interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

function reduction(kind: "sum" | "max" | "min" | "prod"): DeviceKernel {
  return (ctx, [x], params) => {
    const p = params as ReduceParams;
    const t = x!;
    const dtype: DType = (kind === "sum" || kind === "prod") && !isFloat(t.dtype) ? "int32" : t.dtype;
    const shape = p.keepDims ? t.shape.map((d, i) => (p.axes.includes(i) ? 1 : d)) : t.shape.filter((_, i) => !p.axes.includes(i));
    const out = empty(ctx, shape, dtype);
    reduceKernel(ctx, st(t), t.dtype, t.shape, p.axes, st(out), dtype, kind);
    return out;
  };
}

/** The same storage under another shape or without gradient: no copy (row-major layouts agree). */
const alias = (t: Tensor, shape: Shape): Tensor => Tensor._onDevice(t._device!, [...shape], t.dtype);

const kernels: Record<string, DeviceKernel> = {
  reshape: (_ctx, [x], shape) => alias(x!, shape as Shape),
  stopGradient: (_ctx, [x]) => alias(x!, x!.shape),
  cast: (ctx, [x], dtype) => {
    const t = x!;
    const to = dtype as DType;
    if (t.dtype === to) return t;
    const out = empty(ctx, t.shape, to);
    const from = wgslType(t.dtype);
    mapKernel(ctx, t.shape, st(out), to, [plain(t)], "a", from, from);
    return out;
  },
  broadcastTo: (ctx, [x], shape) => {
    const t = x!;
    const to = shape as Shape;
    const out = empty(ctx, to, t.dtype);
    const ty = wgslType(t.dtype);
    mapKernel(ctx, to, st(out), t.dtype, [broadcastView(st(t), t.dtype, t.shape, to)], "a", ty, ty);
    return out;
  },
  transpose: (ctx, [x], perm) => {
    const t = x!;
    const p = perm as readonly number[];
    const own = contiguous(t.shape);
    const shape = p.map((i) => t.shape[i]!);
    const out = empty(ctx, shape, t.dtype);
    const ty = wgslType(t.dtype);
    mapKernel(ctx, shape, st(out), t.dtype, [{ storage: st(t), dtype: t.dtype, offset: 0, strides: p.map((i) => own[i]!) }], "a", ty, ty);
    return out;
  },
  where: (ctx, [c, a, b]) => {
    const dtype = promote(a!.dtype, b!.dtype);
    const shape = broadcastShapes("where", broadcastShapes("where", c!.shape, a!.shape), b!.shape);
    const out = empty(ctx, shape, dtype);
    const ty = wgslType(dtype);
    const cond = ty === "f32" ? "a != 0.0" : ty === "i32" ? "a != 0" : "a != 0u";
    mapKernel(ctx, shape, st(out), dtype, [c!, a!, b!].map((t) => broadcastView(st(t), t.dtype, t.shape, shape)), `select(c, b, ${cond})`, ty, ty);
    return out;
  },
  sum: reduction("sum"),
  max: reduction("max"),
  min: reduction("min"),
  prod: reduction("prod"),
  matmul: (ctx, [x, y], tr) => {
    const t = tr as { a: boolean; b: boolean } | null;
    const ta = t?.a ?? false, tb = t?.b ?? false;
    let a = x!, b = y!;
    if (a.dtype !== "float32") a = kernels.cast!(ctx, [a], "float32");
    if (b.dtype !== "float32") b = kernels.cast!(ctx, [b], "float32");
    const ra = a.rank, rb = b.rank;
    const m = a.shape[ra - (ta ? 1 : 2)]!, k = a.shape[ra - (ta ? 2 : 1)]!, n = b.shape[rb - (tb ? 2 : 1)]!;
    const kb = b.shape[rb - (tb ? 1 : 2)]!;
    if (k !== kb) throw new ShapeError(`matmul: inner dimensions differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}`);
    const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
    const batch = broadcastShapes("matmul", batchA, batchB);
    // Batch strides of each operand in the output's batch dimensions (0 where it broadcasts).
    const batchStrides = (bs: readonly number[], mat: number): number[] => {
      const own = contiguous(bs);
      const lead = batch.length - bs.length;
      return batch.map((_, i) => (i < lead || bs[i - lead] === 1 ? 0 : own[i - lead]! * mat));
    };
    // Stored [m, k] (or [k, m] when transposed); element (i, p) of op(A) at i·rowStride + p·colStride.
    const ca = a.shape[ra - 1]!, cb = b.shape[rb - 1]!;
    const out = empty(ctx, [...batch, m, n], "float32");
    matmulKernel(
      ctx, batch, m, n, k,
      { storage: st(a), rowStride: ta ? 1 : ca, colStride: ta ? ca : 1, batchStrides: batchStrides(batchA, m * k) },
      { storage: st(b), rowStride: tb ? 1 : cb, colStride: tb ? cb : 1, batchStrides: batchStrides(batchB, k * n) },
      st(out),
    );
    return out;
  },
};
for (const name of Object.keys(OPS)) kernels[name] = elementwiseKernel(name);

/** The device kernel of primitive `name`, or undefined when it has none yet. */
export function deviceKernel(name: string): DeviceKernel | undefined {
  return kernels[name];
}

/** @internal Registers more kernels (the other files of this folder). */
export function registerKernels(more: Record<string, DeviceKernel>): void {
  Object.assign(kernels, more);
}

/** @internal Names of the primitives with a webgpu kernel (for tests and `chainrule info`). */
export function deviceKernelNames(): string[] {
  return Object.keys(kernels).sort();
}
