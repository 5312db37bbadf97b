// Range checks of integer indices that live on the GPU (gather, scatter-add, cross-entropy labels).
// Reading them back before each op would stall the queue, so a small kernel checks them where they are and,
// for one out of range, writes which check failed and the offending value into a 2-word status buffer; the
// context reads that buffer at the next read-back of any tensor (GpuContext.deferCheck) and throws, naming
// the op and the valid range. Values computed from a bad index are wrong (WebGPU's bounds clamping only keeps
// the reads inside the buffer), so the error comes before any of them reaches the user. All checks between
// two reads share the one buffer, so a read costs one extra small copy however many gathers ran.
import type { GpuStorage } from "./context.js";
import { groupsFor, threadMain } from "./wgsl.js";

const WG = 64;
// The WebGPU spec's buffer-usage flags, spelled out so that Node needs no global.
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08;

/** What a check is about: the op, the axis (when there is one) and the range [lo, hi) it enforces. */
export interface IndexCheck {
  readonly op: string;
  /** What the values are called in the message: "index" unless given ("label" for crossEntropy). */
  readonly noun?: string;
  /** e.g. "for axis 0 of length 4" or "for 10 classes": completes "index 7 is out of range …". */
  readonly what: string;
  readonly lo: number;
  readonly hi: number;
  /** A value that is allowed although outside the range (crossEntropy's ignoreIndex). */
  readonly allowed?: number;
  /** Shown after the range, saying what to do. */
  readonly hint: string;
}

/** What a check needs of its context (narrow, so this file sees nothing else of it). */
export interface CheckHost {
  readonly device: GPUDevice;
  dispatch(code: string, bindings: readonly GpuStorage[], groups: readonly [number, number?, number?]): void;
  deferCheck(status: GpuStorage, size: number, message: (status: Int32Array) => string | null): void;
}

/**
 * The index checks of one device. The kernels write into `status`: word 0 the id of a failed check (0: none),
 * word 1 the offending value. One deferred check per read covers every index check recorded before it.
 */
class IndexChecks {
  private readonly status: GpuStorage;
  private readonly pending = new Map<number, IndexCheck>();
  private next = 1;
  /** True while a deferred check of `status` waits for the next read. */
  private armed = false;

  constructor(private readonly host: CheckHost) {
    // Not a tensor's storage: kept out of the device's memory count, freed with the device.
    const buffer = host.device.createBuffer({ size: 8, usage: STORAGE | COPY_SRC | COPY_DST });
    host.device.queue.writeBuffer(buffer, 0, new Uint32Array(2));
    this.status = { buffer, size: 2, bytes: 8, released: false };
  }

  /** Records a check of the int32 values of `idx` (its first `size` elements), in order with the other work. */
  check(idx: GpuStorage, size: number, c: IndexCheck): void {
    if (size === 0) return;
    const id = this.next++;
    this.pending.set(id, c);
    const allowed = c.allowed === undefined ? "" : ` && v != ${c.allowed | 0}`;
    const code = `@group(0) @binding(0) var<storage, read> idx: array<i32>;
@group(0) @binding(1) var<storage, read_write> err: array<u32, 2>;
${threadMain(size, `  let v = idx[i];
  // The first failing check keeps the buffer (dispatches run in order; within one, any bad value will do).
  if ((v < ${c.lo | 0} || v >= ${c.hi | 0})${allowed} && err[0] == 0u) { err[0] = ${id}u; err[1] = bitcast<u32>(v); }`)}`;
    this.host.dispatch(code, [idx, this.status], groupsFor(size, WG));
    if (!this.armed) {
      this.armed = true;
      this.host.deferCheck(this.status, 2, (words) => this.settle(words));
    }
  }

  /** The message for the status words read back (null: every index was in range); forgets the checks they cover. */
  private settle(words: Int32Array): string | null {
    this.armed = false;
    const c = this.pending.get(words[0]!);
    this.pending.clear();
    if (words[0] === 0) return null;
    // Cleared before the commands recorded after this read run, so a later check starts clean.
    this.host.device.queue.writeBuffer(this.status.buffer, 0, new Uint32Array(2));
    if (c === undefined) return "webgpu: an index check failed, but its op is unknown; please report this with the program that triggered it";
    return `${c.op}: ${c.noun ?? "index"} ${words[1]} is out of range ${c.what}; expected an integer in [${c.lo}, ${c.hi - 1}]` +
      `${c.allowed === undefined ? "" : ` or ${c.allowed}`} (checked on the GPU and reported at this read; values computed from it are wrong). ${c.hint}`.trimEnd();
  }
}

const perDevice = new WeakMap<CheckHost, IndexChecks>();

/**
 * Checks on the GPU that the int32 values of `idx` lie in [c.lo, c.hi) (or equal c.allowed); the next read of
 * any tensor on this device throws a ValueError naming `c.op` if one did not.
 */
export function checkIndicesOnGpu(host: CheckHost, idx: GpuStorage, size: number, c: IndexCheck): void {
  let checks = perDevice.get(host);
  if (checks === undefined) perDevice.set(host, (checks = new IndexChecks(host)));
  checks.check(idx, size, c);
}
