// Which backend computes, chosen once at first use and changed only by setBackend. The kernel table ops
// call is the js table overlaid with the chosen backend's kernels: blas = js ⊕ wasm ⊕ BLAS GEMM,
// wasm = js ⊕ wasm, js = js. That overlay is the one place a missing kernel falls back.
import { ValueError } from "../core/errors.js";
import { BACKEND_NAMES, type Backend, type BackendInfo, type BackendName, type KernelTable, type PartialKernelTable } from "./backend.js";
import { jsBackend, jsKernels } from "./js-backend.js";
import { blasCandidates, createBlasBackend, ffiUnavailable, findBlas, openBlas } from "./blas-backend.js";
import { createWasmBackend } from "./wasm/backend.js";
import { wasmSimdSupported } from "./simd.js";
/** @internal (re-exported for tests; stripped from the published types with its definition) */
export { setKernelMinimums } from "./minimums.js";
import { getThreads as threadCount, readyThreads, setThreads as setGemmThreads } from "./gemm-threads.js";
import { isNode, warn } from "./warn.js";


interface Active {
  readonly backend: Backend;
  readonly table: KernelTable;
  /** The backends whose kernels the table holds, lowest first (for tests and `info`). */
  readonly layers: readonly Backend[];
}

let active: Active | null = null;
let wasmCache: Backend | null | undefined;
/** The blas backend, or why there is none (a string), once looked up. */
let blasCache: Backend | string | undefined;
let warnedNoSimd = false;

/** Overlays each layer's kernels on the js table (groups merged key by key). */
function overlay(layers: readonly Backend[]): KernelTable {
  let table: KernelTable = jsKernels;
  for (const layer of layers) {
    const k: PartialKernelTable = layer.kernels;
    table = {
      ...table,
      ...(k.gemm ? { gemm: k.gemm } : {}),
      ...(k.reduce ? { reduce: k.reduce } : {}),
      ...(k.fusedLoop ? { fusedLoop: k.fusedLoop } : {}),
      ...(k.softmaxCrossEntropyRows ? { softmaxCrossEntropyRows: k.softmaxCrossEntropyRows } : {}),
      ...(k.sigmoidCrossEntropy ? { sigmoidCrossEntropy: k.sigmoidCrossEntropy } : {}),
      ...(k.sgdUpdate ? { sgdUpdate: k.sgdUpdate } : {}),
      ...(k.adamUpdate ? { adamUpdate: k.adamUpdate } : {}),
      unary: { ...table.unary, ...k.unary },
      special: { ...table.special, ...k.special },
      math: { ...table.math, ...k.math },
      binary: { ...table.binary, ...k.binary },
      fusedGrad: { ...table.fusedGrad, ...k.fusedGrad },
      saturatingGrad: { ...table.saturatingGrad, ...k.saturatingGrad },
      conv: { ...table.conv, ...k.conv },
      layout: { ...table.layout, ...k.layout },
      indexing: { ...table.indexing, ...k.indexing },
      linalg: { ...table.linalg, ...k.linalg },
    };
  }
  return table;
}

/** The wasm backend (created once), or null without WebAssembly SIMD. */
function wasm(): Backend | null {
  if (wasmCache === undefined) wasmCache = createWasmBackend();
  return wasmCache;
}

/** The BLAS backend (created once), or the reason there is none. */
function blasOrReason(): Backend | string {
  if (blasCache === undefined) blasCache = loadBlas();
  return blasCache;
}

/** The BLAS named by CHAINRULE_BLAS, else the first found on the usual paths, or why none can be used. */
function loadBlas(): Backend | string {
  if (!isNode) return "a system BLAS is only reachable from Node";
  const noFfi = ffiUnavailable();
  if (noFfi !== null) return noFfi;
  const named = process.env["CHAINRULE_BLAS"]?.trim();
  let lib;
  if (named) {
    const opened = openBlas(named);
    if (typeof opened === "string") return `CHAINRULE_BLAS=${named} ${opened}`;
    lib = opened;
  } else {
    lib = findBlas(blasCandidates());
    if (lib === null) {
      return `no BLAS library was found (tried ${blasCandidates().join(", ")}); on Debian or Ubuntu: apt-get install libopenblas0-pthread; on macOS Accelerate is built in, or brew install openblas; or set CHAINRULE_BLAS=/path/to/libopenblas.so`;
    }
  }
  return createBlasBackend(lib, (wasm() ?? jsBackend).kernels.gemm ?? jsKernels.gemm);
}

function build(backend: Backend): Active {
  // The thread count may have changed while another backend was active.
  backend.setThreads?.(threadCount());
  const w = wasm();
  const layers = backend.name === "blas" ? [...(w ? [w] : []), backend] : backend.name === "wasm" ? [backend] : [];
  return { backend, table: overlay(layers), layers: [jsBackend, ...layers] };
}

/** The backend called `name`, or the reason it is unavailable here. */
function tryBackend(name: BackendName): Backend | string {
  if (name === "js") return jsBackend;
  if (name === "wasm") {
    return wasm() ?? (typeof WebAssembly === "undefined" ? "this JavaScript engine has no WebAssembly" : "this JavaScript engine has no WebAssembly SIMD");
  }
  return blasOrReason();
}

function checkName(op: string, name: unknown): BackendName {
  if (typeof name !== "string" || !(BACKEND_NAMES as readonly string[]).includes(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name) : String(name);
    throw new ValueError(`${op}: unknown backend ${shown}; expected one of ${BACKEND_NAMES.join(", ")}`);
  }
  return name as BackendName;
}

/**
 * The first choice, at first use rather than at import, so that a bad CHAINRULE_BACKEND is reported as a
 * ValueError by the call that needed a backend (the CLI prints it as one line) instead of failing the import.
 */
function chooseDefault(): Active {
  const raw = isNode ? process.env["CHAINRULE_BACKEND"]?.trim() : undefined;
  const requested = raw ? checkName("CHAINRULE_BACKEND", raw) : null;
  if (requested !== null) {
    const b = tryBackend(requested);
    if (typeof b === "string") throw new ValueError(`CHAINRULE_BACKEND=${requested}: ${b}; unset CHAINRULE_BACKEND to pick the best available backend`);
    return build(b);
  }
  const blas = blasOrReason();
  // A library the user named that cannot be used is worth a warning; a machine without any BLAS is not.
  if (typeof blas === "string" && isNode && process.env["CHAINRULE_BLAS"]?.trim()) warn(`${blas}; using the wasm backend instead`);
  const b = (typeof blas === "string" ? null : blas) ?? wasm();
  if (b === null && !wasmSimdSupported() && !warnedNoSimd) {
    warnedNoSimd = true;
    warn("this JavaScript engine has no WebAssembly SIMD; chainrule uses its slower js kernels");
  }
  return build(b ?? jsBackend);
}

/** @internal The kernel table every op calls: chosen on first use. */
export function kernels(): KernelTable {
  return (active ??= chooseDefault()).table;
}

/**
 * Chooses the backend that computes from now on. Tensors need no conversion: every CPU backend keeps
 * values in typed arrays on the JS heap. Without a call, the best available backend is chosen at first
 * use: `blas` when a system BLAS is found, else `wasm`, else `js`; the environment variable
 * `CHAINRULE_BACKEND` overrides that choice.
 * @param name `"blas"` (a system BLAS through FFI for matrix products, Node only), `"wasm"` (WebAssembly
 *   SIMD kernels) or `"js"` (plain TypeScript loops)
 * @throws ValueError for an unknown name, or a backend that cannot run here (the message says why and how to get it)
 */
export function setBackend(name: BackendName): void {
  const n = checkName("setBackend", name);
  const b = tryBackend(n);
  if (typeof b === "string") throw new ValueError(`setBackend: ${n} is not available: ${b}`);
  active = build(b);
}

/**
 * Describes the backend in use (choosing it first if no op has run yet): its name, what computes
 * (library path and version for blas), threads, and whether WebAssembly SIMD is available.
 */
export function getBackend(): BackendInfo {
  const a = (active ??= chooseDefault());
  return {
    name: a.backend.name,
    location: a.backend.location,
    threads: threadCount(),
    threadsReady: a.backend.name === "blas" ? threadCount() : readyThreads(),
    simd: wasmSimdSupported(),
    ...a.backend.describe(),
  };
}

/** Names of the backends that can run here, best first. */
export function availableBackends(): BackendName[] {
  return BACKEND_NAMES.filter((n) => unavailableReason(n) === null);
}

/** @internal Why backend `name` cannot run here (what was tried, how to get it), or null when it can. */
export function unavailableReason(name: BackendName): string | null {
  const b = tryBackend(name);
  return typeof b === "string" ? b : null;
}

/**
 * Sets how many threads large matrix products may use (1 = this thread only), at most 64: chainrule's
 * own helper threads for the js and wasm GEMMs, and the library's threads for blas. Defaults to the
 * `CHAINRULE_THREADS` environment variable in Node, else the number of cores up to 4. Results of the js
 * and wasm kernels are the same for any count. In a browser, helper threads (Web Workers running the wasm
 * GEMM) need a cross-origin-isolated page, i.e. one served with `Cross-Origin-Opener-Policy: same-origin`
 * and `Cross-Origin-Embedder-Policy: require-corp`; elsewhere the count stays 1. Where the page's main
 * thread may not block, it polls while the helpers finish their parts.
 * @throws ValueError for anything but a whole number from 1 to 64
 */
export function setThreads(n: number): void {
  setGemmThreads(n);
  active?.backend.setThreads?.(threadCount());
}

/** The number of threads large matrix products may use. */
export function getThreads(): number {
  return threadCount();
}
