// The one instance of the kernels' WebAssembly module in this thread, and its scratch memory.
// Layout of linear memory: static data up to heapBase(), then the GEMM workspace (packed panels), then one
// scratch area for operands that grows on demand and is reused by every call. Kernels never re-enter, with
// one exception: a conv stage (src/kernels/wasm/conv.ts) calls the active GEMM on operands it keeps in the
// scratch area, so it `hold`s them first and the GEMM's own copies go after them.
import { wasmSimdSupported } from "../simd.js";
import { WASM_BASE64 } from "./module.generated.js";

/** The module's exports (asm/index.ts); pointers are byte addresses, counts are elements. */
export interface WasmExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  sgemmWorkspace(): number;
  dgemmWorkspace(): number;
  sgemm(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, m: number, k: number, n: number, accumulate: number, ws: number): void;
  dgemm(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, m: number, k: number, n: number, accumulate: number, ws: number): void;
  unaryF32(op: number, src: number, dst: number, n: number): void;
  binaryF32(op: number, a: number, b: number, dst: number, n: number, mode: number, scalar: number): void;
  fusedGradF32(op: number, x: number, ct: number, dst: number, n: number): void;
  saturatingGradF32(op: number, y: number, ct: number, dst: number, n: number): number;
  saturatingFixF32(op: number, x: number, y: number, ct: number, dst: number, n: number): void;
  anyNaNF32(p: number, n: number): number;
  anyZeroF32(p: number, n: number): number;
  softmaxXentF32(x: number, t: number, rows: number, classes: number, out: number): void;
  adamF32(p: number, g: number, m: number, v: number, n: number, step: number, bc2: number, shrink: number, l2: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number): void;
  im2colF32(x: number, n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, pad: number, cols: number): void;
  im2colF64(x: number, n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, pad: number, cols: number): void;
  col2imF32(cols: number, n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, x: number): void;
  col2imF64(cols: number, n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, x: number): void;
  swapLeading(src: number, a: number, b: number, run: number, size: number, dst: number): void;
  swapBiasF32(src: number, a: number, b: number, run: number, bias: number, dst: number): void;
  swapBiasF64(src: number, a: number, b: number, run: number, bias: number, dst: number): void;
  maxPoolF32(mode: number, x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, y: number, out: number, indexBase: number): void;
  maxPoolF64(mode: number, x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number, y: number, out: number, indexBase: number): void;
  stridedCopyF32(src: number, dst: number, rank: number, meta: number): void;
  stridedCopyF64(src: number, dst: number, rank: number, meta: number): void;
  transpose2dF32(src: number, batch: number, rows: number, cols: number, dst: number): void;
  transpose2dF64(src: number, batch: number, rows: number, cols: number, dst: number): void;
  reduceF32(kind: number, src: number, rank: number, meta: number, inner: number, innerReduced: number, acc: number): void;
  reduceF64(kind: number, src: number, rank: number, meta: number, inner: number, innerReduced: number, acc: number): void;
  narrowF64(src: number, n: number, dst: number): void;
  fusedF32(code: number, count: number, addr: number, streams: number, nStreams: number, tile: number, len: number): number;
}

/** The instance with its current views and the start of its scratch area. */
export interface Wasm {
  readonly exports: WasmExports;
  /** Byte address of the GEMM workspace. */
  readonly workspace: number;
  /** Byte address of the scratch area (64-byte aligned); moves up while a caller `hold`s the part below it. */
  scratch: number;
  /** Bytes available from `scratch` (memory only grows through `reserve`, so this and the views stay valid). */
  capacity: number;
  /** Views on the whole memory; replaced when it grows (read them after `reserve`). */
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
}

const PAGE = 65536;
let wasm: Wasm | null = null;
let state: "unstarted" | "compiling" | "ready" | "failed" = "unstarted";

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B !== undefined) {
    const b = B.from(base64, "base64");
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
  }
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function setUp(instance: WebAssembly.Instance): Wasm {
  const exports = instance.exports as unknown as WasmExports;
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const workspace = align(exports.heapBase());
  const scratch = align(workspace + Math.max(exports.sgemmWorkspace(), exports.dgemmWorkspace()));
  const w: Wasm = { exports, workspace, scratch, capacity: -1, f32: new Float32Array(0), f64: new Float64Array(0), i32: new Int32Array(0) };
  grow(w, 1 << 20);
  return w;
}

/** Grows memory so that the scratch area holds `bytes` (at least doubling it, to grow rarely), and refreshes the views. */
function grow(w: Wasm, bytes: number): void {
  const memory = w.exports.memory;
  const have = memory.buffer.byteLength;
  const want = w.scratch + Math.max(bytes, 2 * Math.max(w.capacity, 0));
  if (have < want) memory.grow(Math.ceil((want - have) / PAGE));
  w.f32 = new Float32Array(memory.buffer);
  w.f64 = new Float64Array(memory.buffer);
  w.i32 = new Int32Array(memory.buffer);
  w.capacity = memory.buffer.byteLength - w.scratch;
}

/**
 * The instance, or null when this engine lacks WebAssembly SIMD or the module is still compiling. The first
 * call compiles synchronously; where that is refused (a browser's main thread limits synchronous compiles),
 * it compiles asynchronously and returns null (callers use their js kernels) until the module is ready.
 */
export function getWasm(): Wasm | null {
  if (wasm !== null || state !== "unstarted") return wasm;
  if (!wasmSimdSupported()) {
    state = "failed";
    return null;
  }
  const bytes = decode(WASM_BASE64);
  try {
    wasm = setUp(new WebAssembly.Instance(new WebAssembly.Module(bytes), {}));
    state = "ready";
  } catch {
    // A browser's main thread may refuse synchronous compilation (Chrome limits it to small modules).
    state = "compiling";
    WebAssembly.instantiate(bytes, {}).then(
      ({ instance }) => {
        try {
          wasm = setUp(instance);
          state = "ready";
        } catch {
          state = "failed";
        }
      },
      () => { state = "failed"; },
    );
  }
  return wasm;
}

/**
 * The module's bytes, for helper threads that instantiate their own copy (browser Web Workers), or null
 * when this engine lacks WebAssembly SIMD.
 */
export function wasmBytes(): Uint8Array<ArrayBuffer> | null {
  return wasmSimdSupported() ? decode(WASM_BASE64) : null;
}

/** Whether this engine can run the module at all (SIMD present); true even while it compiles. */
export function wasmAvailable(): boolean {
  getWasm();
  return state !== "failed";
}

/**
 * Makes the scratch area at least `bytes` long; returns its address, or −1 when memory cannot grow that far
 * (wasm32 memory ends at 4 GiB; callers then run their js kernel). Views on memory may change: read them after.
 */
export function reserve(w: Wasm, bytes: number): number {
  if (bytes > w.capacity) {
    try {
      grow(w, bytes);
    } catch {
      return -1; // RangeError from memory.grow
    }
    if (bytes > w.capacity) return -1;
  }
  return w.scratch;
}

/**
 * Takes the first `bytes` of the scratch area for the caller until it calls `release` with the address
 * returned: kernels the caller runs meanwhile (the GEMM, through `reserve`) get the scratch after it, so
 * operands staged there stay put. Returns the address, or −1 when memory cannot grow that far. Views on
 * memory may change (read them after); addresses do not. Holds nest, and are released in reverse order.
 */
export function hold(w: Wasm, bytes: number): number {
  const held = Math.ceil(bytes / 64) * 64;
  const at = reserve(w, held);
  if (at < 0) return -1;
  w.scratch += held;
  w.capacity -= held;
  return at;
}

/** Gives back the scratch from `at` (an address `hold` returned) on. */
export function release(w: Wasm, at: number): void {
  w.capacity += w.scratch - at;
  w.scratch = at;
}

/** Whether `x` is a view on this instance's memory (an operand staged by `hold`). */
export function resident(w: Wasm, x: { readonly buffer: ArrayBufferLike }): boolean {
  return x.buffer === w.exports.memory.buffer;
}
