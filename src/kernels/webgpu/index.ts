// The webgpu device backend: installs itself in the core's device hook (src/core/device.ts) when
// `initWebGPU()` resolves. From then on an op whose inputs live on the GPU runs the kernels of prims.ts.
import { Tensor } from "../../core/tensor.js";
import type { Primitive } from "../../core/primitive.js";
import { deviceState, type DeviceBackend } from "../../core/device.js";
import type { DType, TypedArray } from "../../core/dtype.js";
import { fmtShape, sizeOf, type Shape } from "../../core/shape.js";
import { ValueError } from "../../core/errors.js";
import { pinned } from "../../autodiff/trace.js";
import { createContext, type GpuContext, type GpuStorage } from "./context.js";
import { deviceKernel } from "./prims.js";
import { literal, mapKernel, wgslType } from "./wgsl.js";
import { registerMoreKernels } from "./more-kernels.js";
import { registerWindowKernels } from "./windows.js";
import { registerScanKernels } from "./scans.js";
import { registerLinalgKernels } from "./linalg.js";
import { adagradOnDevice, adamOnDevice, rmspropOnDevice, sgdOnDevice } from "./optim.js";
import { checkIndicesOnGpu } from "./index-check.js";

/** What `initWebGPU()` returns: the GPU in use, its memory, and the way to free it. */
export interface WebGPUDevice {
  /** The adapter: vendor / architecture / description as the driver reports them (e.g. "google / swiftshader / …"). */
  readonly adapter: string;
  /** GPU memory held by live tensors now: bytes and buffer count (buffers return to a reuse pool when their tensors are garbage-collected). */
  memory(): { bytes: number; buffers: number; pooledBytes: number };
  /** Waits until every queued GPU command has finished (for timing; reads already wait). */
  sync(): Promise<void>;
  /** Frees all GPU memory and the device; tensors still on it become unusable. Call at shutdown. */
  release(): void;
}

registerMoreKernels();
registerWindowKernels();
registerScanKernels();
registerLinalgKernels();

let ctx: GpuContext | null = null;
let pending: Promise<WebGPUDevice> | null = null;
/** Uploaded copies of the shared number constants (the 2 in x.mul(2)), which never change. */
let constants = new WeakMap<Tensor, GpuStorage>();

function active(): GpuContext {
  if (ctx === null || ctx.isReleased) throw new ValueError("webgpu: the device was released by device.release(); call await initWebGPU() again to use the GPU");
  return ctx;
}

/** A CPU scalar on the device: shared constants are uploaded once, other scalars each time (they may be updated in place). */
function scalarOnDevice(c: GpuContext, t: Tensor): Tensor {
  const v = t._concreteValue();
  if (pinned.constants.has(v)) {
    let s = constants.get(v);
    if (s === undefined || s.released) constants.set(v, (s = c.upload(v.data, v.dtype)));
    return Tensor._onDevice(s, t.shape, t.dtype);
  }
  return Tensor._onDevice(c.upload(v.data, v.dtype), t.shape, t.dtype);
}

/** Primitives whose second input is an index tensor, which may come from the CPU. */
const INDEXED = new Set(["gather", "scatterAdd"]);

/**
 * Range check of GPU-resident indices: a kernel checks them where they are, and the next read-back throws if
 * one was out of range (index-check.ts), since reading them here would stall the queue on every gather.
 */
function checkIndicesOnDevice(c: GpuContext, op: string, idx: Tensor, p: { axis: number; shape?: Shape }, x: Tensor): void {
  const n = (p.shape ?? x.shape)[p.axis]!;
  checkIndicesOnGpu(c, idx._device as GpuStorage, idx.size, {
    op, what: `for axis ${p.axis} of length ${n}`, lo: -n, hi: n,
    hint: "Check the indices (await idx.array()) or move them to the CPU, where they are checked at the call.",
  });
}

/** Range check of CPU indices before upload. */
function checkIndices(op: string, idx: Tensor, x: Tensor, p: { axis: number; shape?: Shape }): void {
  const n = (p.shape ?? x.shape)[p.axis]!;
  for (const v of idx.data) {
    if (v < -n || v >= n) throw new ValueError(`${op}: index ${v} is out of range for axis ${p.axis} of length ${n}; expected an integer in [${-n}, ${n - 1}]`);
  }
}

const backend: DeviceBackend = {
  name: "webgpu",
  upload(t: Tensor): Tensor {
    if (t.dtype === "float64") {
      throw new ValueError(`to: float64 tensors cannot live on the GPU (WGSL has no 64-bit floats); got shape ${fmtShape(t.shape)} float64, cast first with x.astype("float32").to("webgpu")`);
    }
    return Tensor._onDevice(active().upload(t.data, t.dtype), t.shape, t.dtype);
  },
  download(t: Tensor): Promise<TypedArray> {
    return active().read(t._device as GpuStorage, t.size, t.dtype);
  },
  apply<P>(prim: Primitive<P>, x: Tensor[], params: P): Tensor {
    const c = active();
    const onGpu = new Array<Tensor>(x.length);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      if (xi._device !== null) {
        if (xi._device.released) throw new ValueError(`${prim.name}: input ${i} lives in GPU memory that device.release() freed; it can no longer be used`);
        onGpu[i] = xi;
        if (i === 1 && INDEXED.has(prim.name) && xi.dtype === "int32") checkIndicesOnDevice(c, prim.name, xi, params as { axis: number; shape?: Shape }, x[0]!);
      } else if (xi.rank === 0) onGpu[i] = scalarOnDevice(c, xi);
      else if (i === 1 && INDEXED.has(prim.name) && xi.dtype === "int32") {
        // Indices given as a JavaScript array become a CPU tensor: checked there (in range), then uploaded.
        checkIndices(prim.name, xi, x[0]!, params as { axis: number; shape?: Shape });
        onGpu[i] = Tensor._onDevice(c.upload(xi.data, "int32"), xi.shape, "int32");
      } else {
        const other = x.findIndex((y) => y._device !== null);
        throw new ValueError(`${prim.name}: inputs are on different devices: input ${other} is on webgpu, input ${i} (shape ${fmtShape(xi.shape)}) is on cpu; move one of them first, with x.to("webgpu") or await x.to("cpu")`);
      }
      if (onGpu[i]!.dtype === "float64") {
        throw new ValueError(`${prim.name}: input ${i} is float64, which the GPU cannot hold (WGSL has no 64-bit floats); use float32 on webgpu`);
      }
    }
    const k = deviceKernel(prim.name);
    if (k === undefined) {
      throw new ValueError(`${prim.name}: this op has no webgpu kernel yet; compute it on the CPU (await x.to("cpu")) and move the result back with .to("webgpu")`);
    }
    return k(c, onGpu, params);
  },
  writeInto(dst: Tensor, src: Tensor): void {
    const c = active();
    let v = src._device !== null ? src : src.size === 1 ? scalarOnDevice(c, src) : null;
    if (v === null) throw new ValueError(`assign: the target is on webgpu and the value (shape ${fmtShape(src.shape)}) on cpu; move the value with .to("webgpu") first`);
    if (v.size !== dst.size) {
      const ty = wgslType(dst.dtype);
      mapKernel(c, dst.shape, dst._device as GpuStorage, dst.dtype, [{ storage: v._device as GpuStorage, dtype: v.dtype, offset: 0, strides: dst.shape.map(() => 0) }], "a", wgslType(v.dtype), ty);
      return;
    }
    if (v.dtype !== dst.dtype) v = deviceKernel("cast")!(c, [v], dst.dtype);
    if (v._device !== dst._device) c.copy(v._device as GpuStorage, dst._device as GpuStorage, dst.size * 4);
  },
  optimizerUpdate(kind: string, p: Tensor, g: Tensor, slots: readonly Tensor[], lr: number, t: number, hyper: readonly (number | boolean)[]): [Tensor, Tensor[]] {
    const c = active();
    if (g._device === null) throw new ValueError(`${kind}: the parameter is on webgpu and its gradient on cpu; keep both on one device`);
    const h = hyper as number[];
    if (kind === "sgd") return sgdOnDevice(c, p, g, slots[0] ?? null, lr, h[0]!, hyper[1] as boolean, h[2]!);
    if (kind === "adam" || kind === "adamw") return adamOnDevice(c, p, g, slots[0]!, slots[1]!, lr, h[0]!, h[1]!, h[2]!, h[3]!, hyper[4] as boolean, t);
    if (kind === "rmsprop") return rmspropOnDevice(c, p, g, slots, lr, h[0]!, h[1]!, h[2]!, h[3]!, hyper[4] as boolean);
    if (kind === "adagrad") return adagradOnDevice(c, p, g, slots[0]!, lr, h[0]!, h[1]!, h[2]!, t);
    throw new ValueError(`${kind}: this optimizer has no webgpu update yet; use sgd, adam, adamw, rmsprop or adagrad on the GPU`);
  },
  checkRange(op: string, t: Tensor, lo: number, hi: number, what: string, hint: string, allowed?: number, noun?: string): void {
    if (t._device === null || t.dtype !== "int32") return;
    checkIndicesOnGpu(active(), t._device as GpuStorage, t.size, { op, what, lo, hi, hint, ...(allowed === undefined ? {} : { allowed }), ...(noun === undefined ? {} : { noun }) });
  },
  full(shape: Shape, value: number, dtype: DType): Tensor {
    const c = active();
    const ty = wgslType(dtype);
    const s = c.alloc(sizeOf(shape));
    mapKernel(c, shape, s, dtype, [], literal(ty, value), ty, ty);
    return Tensor._onDevice(s, [...shape], dtype);
  },
};

/**
 * Starts the WebGPU device and lets tensors live on it (`x.to("webgpu")`). In a browser it uses
 * `navigator.gpu`; in Node, the optional `webgpu` package (npm install webgpu). Calling it again returns
 * the same device until `release()`.
 *
 * Rules on the device: ops run where their inputs live and leave results there; inputs of one op must be
 * on one device (plain numbers and 0-d CPU tensors are uploaded as needed, as PyTorch does); values are read
 * back asynchronously (`await x.dataAsync()`, `await x.array()`, `await x.itemAsync()`), and the synchronous
 * readers (`data`, `item()`, `toArray()`) throw on GPU tensors. float64 is refused (WGSL has no 64-bit floats).
 * GPU memory is freed when tensors are garbage-collected, and all at once by `release()`.
 * @param options.powerPreference passed to `requestAdapter`
 * @throws ValueError when no WebGPU implementation or adapter is found (the message says how to get one)
 */
export function initWebGPU(options: { powerPreference?: "low-power" | "high-performance" } = {}): Promise<WebGPUDevice> {
  if (pending !== null && ctx !== null && !ctx.isReleased) return pending;
  pending = createContext(options.powerPreference).then((c) => {
    ctx = c;
    constants = new WeakMap();
    deviceState.backend = backend;
    deviceState.active = true;
    const device: WebGPUDevice = {
      adapter: c.adapterName,
      memory: () => ({ bytes: c.liveBytes, buffers: c.liveBuffers, pooledBytes: c.poolBytes }),
      sync: async () => {
        c.flush();
        await c.device.queue.onSubmittedWorkDone();
      },
      release: () => {
        c.release();
        if (ctx === c) {
          ctx = null;
          pending = null;
        }
      },
    };
    return device;
  });
  pending.catch(() => (pending = null));
  return pending;
}
