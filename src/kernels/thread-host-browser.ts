// Helper threads in browsers: Web Workers sharing memory with the page, which needs SharedArrayBuffer and
// so a cross-origin-isolated page (served with Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp). Each worker runs the wasm module's GEMM on its own instance,
// started from source text in a Blob URL, so no extra file is fetched and any bundler works.
import { CTRL, CTRL_WORDS, PARAM, PARAM_WORDS } from "./gemm-protocol.js";
import { wasmBytes } from "./wasm/instance.js";
import type { HelperLink, ThreadHost } from "./thread-host.js";

interface BrowserGlobals {
  Worker?: new (url: string, options?: { name?: string }) => BrowserWorker;
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
}

interface BrowserWorker {
  postMessage(message: unknown): void;
  onerror: ((event: unknown) => void) | null;
}

/** Whether this thread may block in Atomics.wait (workers may; a page's main thread throws). */
function mayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let workerUrl: string | null = null;

/**
 * The browser host, or null where helpers cannot run: no Worker or SharedArrayBuffer, or a page that is not
 * cross-origin isolated (Node has its own host). Without WebAssembly SIMD, `start` returns null.
 */
export function browserHost(): ThreadHost | null {
  const g = globalThis as BrowserGlobals;
  const Worker = g.Worker;
  // crossOriginIsolated is true only in an isolated page or its workers (Node and Deno do not set it; a
  // bundler's `process` polyfill does not matter here).
  if (typeof Worker !== "function" || typeof SharedArrayBuffer !== "function" || g.crossOriginIsolated !== true) return null;
  if (typeof Blob !== "function" || typeof URL.createObjectURL !== "function") return null;
  return {
    kind: "browser",
    canBlock: mayBlock(),
    kernels: [1],
    defaultThreads: () => Math.max(1, Math.min(g.navigator?.hardwareConcurrency ?? 1, 4)),
    start(onFail): HelperLink | null {
      const bytes = wasmBytes();
      if (bytes === null) return null;
      const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
      const params = new Float64Array(new SharedArrayBuffer(PARAM_WORDS * 8));
      let worker: BrowserWorker;
      try {
        workerUrl ??= URL.createObjectURL(new Blob([HELPER_SOURCE], { type: "text/javascript" }));
        worker = new Worker(workerUrl, { name: "chainrule-gemm" });
      } catch {
        return null; // a Content-Security-Policy without blob: in worker-src, for one
      }
      worker.onerror = onFail;
      worker.postMessage({ kind: "init", ctrl, params, bytes, slots: { ctrl: CTRL, param: PARAM } });
      return { ctrl, params, sendArena: (buffer, gen) => worker.postMessage({ kind: "arena", buffer, gen }) };
    },
  };
}

/**
 * The source of a helper worker. It runs from this text inside the worker, so it is kept as text rather
 * than a function's toString(): bundlers rewrite functions (esbuild's keepNames, which the browser build
 * uses, adds calls to a helper the worker would not have). It uses nothing from outside: the slots of the
 * shared control words and parameters arrive in the first message. Each job is wasmGemmSerial's work on
 * one block of C (wasm/gemm.ts): copy the block's operands from the shared arena into this instance's
 * memory, run the same sgemm/dgemm export, copy the block back, so the result is bit-for-bit the one
 * thread's. test/browser-threads.test.ts runs it in Chromium.
 */
const HELPER_SOURCE = String.raw`"use strict";
let init = null, ex = null, workspace = 0, scratch = 0, arena = null, arenaGen = 0, seen = 0;
const align = (x, to) => Math.ceil(x / to) * to;
function run(s, e, buffer) {
  const p = s.params, P = s.slots.param;
  const f64 = p[P.float64] === 1, size = f64 ? 8 : 4;
  const m = p[P.m], k = p[P.k], n = p[P.n], ars = p[P.ars], acs = p[P.acs], brs = p[P.brs], bcs = p[P.bcs];
  const aOff = p[P.aOff], bOff = p[P.bOff], cOff = p[P.cOff], accumulate = p[P.accumulate];
  const aLen = (m - 1) * ars + (k - 1) * acs + 1, bLen = (k - 1) * brs + (n - 1) * bcs + 1, cLen = m * n;
  const vec = 16 / size; // regions start on whole 16-byte vectors, as in wasm/gemm.ts
  const base = scratch / size, bAt = align(base + aLen, vec), cAt = align(bAt + bLen, vec);
  const need = (cAt + cLen) * size, have = e.memory.buffer.byteLength;
  if (need > have) e.memory.grow(Math.ceil((need - have) / 65536));
  const view = f64 ? new Float64Array(e.memory.buffer) : new Float32Array(e.memory.buffer);
  const src = f64 ? new Float64Array(buffer) : new Float32Array(buffer);
  view.set(src.subarray(aOff, aOff + aLen), base);
  view.set(src.subarray(bOff, bOff + bLen), bAt);
  if (accumulate === 1) view.set(src.subarray(cOff, cOff + cLen), cAt);
  (f64 ? e.dgemm : e.sgemm)(base * size, ars, acs, bAt * size, brs, bcs, cAt * size, n, m, k, n, accumulate, workspace);
  src.set(view.subarray(cAt, cAt + cLen), cOff);
}
// Takes jobs until one needs an arena whose message is still queued: returning lets that message in.
function serve() {
  const s = init, C = s.slots.ctrl;
  for (;;) {
    Atomics.wait(s.ctrl, C.job, seen);
    const job = Atomics.load(s.ctrl, C.job);
    if (job === seen) continue;
    if (Atomics.load(s.ctrl, C.arenaGen) !== arenaGen) return;
    const start = performance.now();
    if (arena !== null) run(s, ex, arena);
    s.params[s.slots.param.elapsedMs] = performance.now() - start;
    seen = job;
    Atomics.store(s.ctrl, C.done, seen);
    Atomics.notify(s.ctrl, C.done);
  }
}
onmessage = (event) => {
  const msg = event.data;
  if (msg.kind === "init") {
    init = msg;
    ex = new WebAssembly.Instance(new WebAssembly.Module(msg.bytes), {}).exports;
    workspace = align(ex.heapBase(), 64);
    scratch = align(workspace + Math.max(ex.sgemmWorkspace(), ex.dgemmWorkspace()), 64);
    Atomics.store(msg.ctrl, msg.slots.ctrl.ready, 1);
    Atomics.notify(msg.ctrl, msg.slots.ctrl.ready);
  } else {
    arena = msg.buffer;
    arenaGen = msg.gen;
  }
  serve();
};
`;
