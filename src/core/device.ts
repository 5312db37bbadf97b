import type { Primitive } from "./primitive.js";
import type { Tensor } from "./tensor.js";
import type { DType, TypedArray } from "./dtype.js";
import type { Shape } from "./shape.js";

// Where a tensor's values live. The CPU backends (js, wasm, blas) keep typed arrays on the JS heap; a
// device backend (WebGPU) keeps buffers in device memory that only it can read, and reads them back
// asynchronously. The core knows devices only through this hook, so importing chainrule never loads GPU
// code: `initWebGPU()` (src/kernels/webgpu/) installs the device backend here.

/** Where a tensor lives: `"cpu"` (a typed array on the JS heap) or `"webgpu"` (a GPU buffer). */
export type Device = "cpu" | "webgpu";

/** @internal A GPU buffer holding one tensor's values, owned by the device backend. */
export interface DeviceStorage {
  /** The backend's buffer handle (a GPUBuffer for webgpu). */
  readonly buffer: object;
  /** Number of elements. */
  readonly size: number;
  /** Released by `device.release()`: any use after that is an error. */
  released: boolean;
}

/** @internal What the tensor layer and `bind` call on the device backend. */
export interface DeviceBackend {
  readonly name: "webgpu";
  /** Copies a concrete CPU tensor into a new device tensor. */
  upload(t: Tensor): Tensor;
  /** Reads a device tensor's values back into a new typed array of its dtype. */
  download(t: Tensor): Promise<TypedArray>;
  /** Applies a primitive whose inputs include device tensors (others are CPU scalars); see `applyOnDevice`. */
  apply<P>(prim: Primitive<P>, x: Tensor[], params: P): Tensor;
  /** Writes `src` (the target's shape and dtype, or one element to fill with) into device tensor `dst`'s storage. */
  writeInto(dst: Tensor, src: Tensor): void;
  /**
   * One optimizer step for a device parameter: returns the new parameter and slots (PyTorch's formulas; see
   * src/kernels/optim.ts). `hyper` holds the rule's constants in the order of the CPU kernel's arguments.
   */
  optimizerUpdate(kind: string, p: Tensor, g: Tensor, slots: readonly Tensor[], lr: number, t: number, hyper: readonly (number | boolean)[]): [Tensor, Tensor[]];
  /** A device tensor of `shape` filled with `value`. */
  full(shape: Shape, value: number, dtype: DType): Tensor;
  /**
   * Checks on the device that every value of int32 device tensor `t` lies in [lo, hi) (or equals `allowed`);
   * a value outside makes the next read-back throw a ValueError: "`op`: `noun` v is out of range `what`; … `hint`"
   * (`noun` defaults to "index").
   */
  checkRange(op: string, t: Tensor, lo: number, hi: number, what: string, hint: string, allowed?: number, noun?: string): void;
}

/**
 * @internal The installed device backend. `active` is the one field the hot path (`bind`) checks: false
 * until the first GPU tensor exists, so CPU programs pay a single boolean test per op.
 */
export const deviceState: { active: boolean; backend: DeviceBackend | null } = { active: false, backend: null };

/**
 * @internal A constant an op builds on the CPU (a mask, an identity, a range), on the device of `like`, so a
 * composite op runs where its inputs live: the webgpu backend refuses CPU operands other than scalars.
 */
export function onDeviceOf(c: Tensor, like: Tensor): Tensor {
  return like.device === "cpu" ? c : c.to(like.device);
}
