// The WebGPU device: buffers, the pipeline cache, command batching and read-back. Everything that talks to
// the GPU API directly lives here; the kernels (wgsl.ts, matmul.ts, …) only produce shader text and ask
// for dispatches.
import { findGPU } from "#platform/gpu";
import type { DType, TypedArray } from "../../core/dtype.js";
import type { DeviceStorage } from "../../core/device.js";
import { ValueError } from "../../core/errors.js";

// Buffer usage and map-mode flags (the WebGPU spec's values), spelled out so that no global is needed in Node.
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01, MAP_MODE_READ = 0x1;

/** Dispatches recorded into one command encoder before it is submitted (fewer submits, same order). */
const BATCH = 32;
/** Freed buffers kept for reuse, in bytes, before they are destroyed. */
const POOL_LIMIT = 256 << 20;

/** One GPU buffer holding a tensor's values; every dtype is stored as 32-bit words (bool as u32 0/1). */
export interface GpuStorage extends DeviceStorage {
  readonly buffer: GPUBuffer;
  /** Bytes of the buffer (a multiple of 4, at least 4). */
  readonly bytes: number;
}

/** A buffer bound to a dispatch: read-only input or read-write output. */
export interface Binding {
  readonly storage: GpuStorage;
  readonly write: boolean;
}

/** The device, its queue and what chainrule keeps on it. */
export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pending = 0;
  /** Bytes of live tensor buffers (allocated and not yet collected or released). */
  liveBytes = 0;
  /** Number of live tensor buffers. */
  liveBuffers = 0;
  private readonly live = new Set<WeakRef<GpuStorage>>();
  private released = false;
  // A tensor's buffer goes back to the pool when its storage object is garbage-collected.
  private readonly collected = new FinalizationRegistry<{ buffer: GPUBuffer; bytes: number; ref: WeakRef<GpuStorage> }>((h) => {
    this.live.delete(h.ref);
    if (this.released) return;
    this.liveBytes -= h.bytes;
    this.liveBuffers--;
    this.recycle(h.buffer, h.bytes);
  });

  /**
   * @param gpu the entry point the device came from, held for the device's lifetime: in Node, Dawn's instance
   *   is torn down when the object `create()` returned is garbage-collected, under live devices (a crash)
   */
  constructor(readonly device: GPUDevice, readonly adapterName: string, private gpu: GPU | null) {
    // WebGPU reports a failed shader or dispatch asynchronously, not at the call: keep the first message and
    // throw it at the next read, so a failure never passes as zeros.
    device.addEventListener("uncapturederror", (e) => {
      this.error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** The first GPU error not yet reported. */
  private error: string | undefined;

  /** A new storage buffer for `size` elements (contents undefined unless `zero`). */
  alloc(size: number): GpuStorage {
    if (this.released) throw new ValueError("webgpu: the device was released by device.release(); call initWebGPU() again to use the GPU");
    const bytes = Math.max(4, size * 4);
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) throw new ValueError(`webgpu: a tensor of ${size} elements needs ${bytes} bytes, above this GPU's largest storage buffer (${limit} bytes); split the work into smaller tensors`);
    const free = this.pool.get(bytes);
    let buffer: GPUBuffer;
    if (free !== undefined && free.length > 0) {
      buffer = free.pop()!;
      this.pooledBytes -= bytes;
    } else {
      buffer = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    }
    const storage: GpuStorage = { buffer, size, bytes, released: false };
    const ref = new WeakRef(storage);
    this.live.add(ref);
    this.collected.register(storage, { buffer, bytes, ref });
    this.liveBytes += bytes;
    this.liveBuffers++;
    return storage;
  }

  private recycle(buffer: GPUBuffer, bytes: number): void {
    if (this.pooledBytes + bytes > POOL_LIMIT) {
      // The buffer may still be read by recorded work: submit that before destroying it.
      this.flush();
      buffer.destroy();
      return;
    }
    let list = this.pool.get(bytes);
    if (list === undefined) this.pool.set(bytes, (list = []));
    list.push(buffer);
    this.pooledBytes += bytes;
  }

  /** A buffer filled from host values (bool and int32 as 32-bit words). */
  upload(data: TypedArray, dtype: DType): GpuStorage {
    const s = this.alloc(data.length);
    this.write(s, data, dtype);
    return s;
  }

  /** Writes host values into `s` after all recorded work (queue writes run before unsubmitted commands). */
  write(s: GpuStorage, data: TypedArray, dtype: DType): void {
    this.flush();
    let words: Float32Array | Int32Array | Uint32Array;
    if (dtype === "float32") words = data instanceof Float32Array ? data : Float32Array.from(data);
    else if (dtype === "int32") words = data instanceof Int32Array ? data : Int32Array.from(data);
    else if (dtype === "bool") words = Uint32Array.from(data, (v) => (v !== 0 ? 1 : 0));
    else throw new ValueError("webgpu: float64 tensors cannot live on the GPU (WGSL has no 64-bit floats); cast to float32 first");
    if (words.length === 0) return;
    this.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
  }

  /** The compute pipeline for a WGSL module with entry point `main` (compiled once per distinct text). */
  pipeline(code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (p === undefined) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /** Records one dispatch of `code` with `bindings` at @group(0) @binding(0…) and `groups` workgroups. */
  dispatch(code: string, bindings: readonly GpuStorage[], groups: readonly [number, number?, number?]): void {
    for (const b of bindings) if (b.released) throw new ValueError("webgpu: a tensor's GPU memory was released by device.release(); it can no longer be used");
    const pipeline = this.pipeline(code);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((b, i) => ({ binding: i, resource: { buffer: b.buffer } })),
    });
    this.encoder ??= this.device.createCommandEncoder();
    const pass = this.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    pass.end();
    if (++this.pending >= BATCH) this.flush();
  }

  /** Copies `bytes` from one buffer to another, in order with the dispatches. */
  copy(src: GpuStorage, dst: GpuStorage, bytes: number): void {
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, bytes);
    if (++this.pending >= BATCH) this.flush();
  }

  /** Submits the recorded work. */
  flush(): void {
    if (this.encoder === null) return;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pending = 0;
  }

  /**
   * Failures a kernel can only detect on the GPU (a singular matrix in a factorization): each entry is a small
   * int32 status buffer the kernel wrote and the function that turns it into an error message (null when
   * all is well). The CPU throws these at the op; the GPU cannot be read synchronously, so they are thrown at
   * the next read, before any value computed after them can be seen (as the failed-command errors above).
   */
  private readonly checks: { status: GpuStorage; size: number; message: (status: Int32Array) => string | null }[] = [];

  /** Registers a status buffer to check at the next read (see `checks`). */
  deferCheck(status: GpuStorage, size: number, message: (status: Int32Array) => string | null): void {
    this.checks.push({ status, size, message });
  }

  /**
   * Reads `size` elements of `s` back to the host as `dtype`, after all recorded work.
   * @throws ValueError for a failure that a kernel recorded (see `deferCheck`) or a failed GPU command
   */
  async read(s: GpuStorage, size: number, dtype: DType): Promise<TypedArray> {
    for (const check of this.checks.splice(0)) {
      const message = check.message((await this.readRaw(check.status, check.size, "int32")) as Int32Array);
      if (message !== null) throw new ValueError(message);
    }
    return this.readRaw(s, size, dtype);
  }

  private async readRaw(s: GpuStorage, size: number, dtype: DType): Promise<TypedArray> {
    const bytes = Math.max(4, size * 4);
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.flush();
    await staging.mapAsync(MAP_MODE_READ);
    if (this.error !== undefined) {
      const message = this.error;
      this.error = undefined;
      staging.unmap();
      throw new ValueError(`webgpu: a GPU command failed, so the values read back would be wrong: ${message.split("\n")[0]}; please report this with the program that triggered it`);
    }
    const raw = staging.getMappedRange().slice(0, size * 4);
    staging.unmap();
    staging.destroy();
    if (dtype === "float32") return new Float32Array(raw);
    if (dtype === "int32") return new Int32Array(raw);
    return Uint8Array.from(new Uint32Array(raw), (v) => (v !== 0 ? 1 : 0));
  }

  /** Frees every buffer (tensors still held become unusable) and the device. */
  release(): void {
    if (this.released) return;
    this.flush();
    for (const ref of this.live) {
      const s = ref.deref();
      if (s !== undefined) {
        s.released = true;
        s.buffer.destroy();
      }
    }
    this.live.clear();
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
    this.liveBytes = 0;
    this.liveBuffers = 0;
    this.pipelines.clear();
    this.released = true;
    this.device.destroy();
    // Dawn keeps Node's event loop alive while its instance is referenced: drop it so the process can exit.
    this.gpu = null;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Bytes kept in the reuse pool. */
  get poolBytes(): number {
    return this.pooledBytes;
  }
}

/**
 * Requests an adapter and a device. In Node the adapter comes from the `webgpu` package (Dawn), which needs a
 * Vulkan, Metal or D3D12 driver; a machine without a GPU can use a software one (see the README).
 * @throws ValueError naming what is missing and how to get it
 */
export async function createContext(powerPreference?: "low-power" | "high-performance"): Promise<GpuContext> {
  const found = await findGPU();
  if ("error" in found) throw new ValueError(`initWebGPU: ${found.error}`);
  const adapter = await found.gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  if (adapter === null) {
    throw new ValueError("initWebGPU: no GPU adapter was found; without a GPU, point Vulkan at a software one, e.g. VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, shipped by Debian's chromium package; Dawn also needs the Vulkan loader, apt-get install libvulkan1)");
  }
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(limits.maxStorageBuffersPerShaderStage, 10),
    },
  });
  const info = (adapter as unknown as { info?: { vendor: string; architecture: string; description: string } }).info;
  const name = info ? [info.vendor, info.architecture, info.description].filter((s) => s).join(" / ") : "unknown adapter";
  return new GpuContext(device, name || "unknown adapter", found.gpu);
}
