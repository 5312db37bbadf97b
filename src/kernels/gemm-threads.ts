// Large matrix products on several cores: the main thread computes the first block of rows (or columns)
// of C and helper threads the others, with the same serial kernel, so the result is bit-for-bit the one
// thread's result (each element sums the same products in the same order). The API stays synchronous:
// helpers are woken and awaited through Atomics on shared memory. Helpers are worker_threads in Node and
// Web Workers in a cross-origin-isolated browser page (thread-host-*.ts); elsewhere, or where a product is
// not worth splitting, the caller runs serially.
import type { TypedArray } from "../core/dtype.js";
import { ValueError } from "../core/errors.js";
import { gemmSerial } from "./gemm-core.js";
import { wasmGemmSerial } from "./wasm/gemm.js";
import { getWasm } from "./wasm/instance.js";
import { CTRL, PARAM } from "./gemm-protocol.js";
import type { HelperLink, ThreadHost } from "./thread-host.js";
import { MAX_THREADS, nodeHost } from "./thread-host-node.js";
import { browserHost } from "./thread-host-browser.js";
import { warn } from "./warn.js";

/** Below this many multiply-adds a product is not split: waking a helper and copying would cost more. */
const PARALLEL_MIN = 1 << 20;
/** Rows or columns of C per part are a multiple of the micro-tile size. */
const ALIGN = 4;
/** Each part of a split product does at least this many multiply-adds, so many threads never mean slivers. */
const PART_MIN = 1 << 18;
/** How long to wait for a helper before giving up on threads for good (a helper never takes this long). */
const HELPER_TIMEOUT_MS = 60_000;

interface Helper extends HelperLink {
  job: number;
  arenaGen: number;
  /** This helper's speed relative to the main thread's, from recent jobs: its share of the next split. */
  speed: number;
}

/** Where helpers run here (null: nowhere, products run on one thread), found at first use. */
let hostCache: ThreadHost | null | undefined;
let threads: number | null = null;
let helpers: Helper[] | null = null;
let broken = false;
let arena: SharedArrayBuffer | null = null;
let arenaGen = 0;

function host(): ThreadHost | null {
  if (hostCache === undefined) hostCache = nodeHost(warn) ?? browserHost();
  return hostCache;
}

/**
 * Sets how many threads large matrix products may use (1 = this thread only), at most 64. Defaults to
 * the `CHAINRULE_THREADS` environment variable in Node, else the number of cores up to 4. Results are the
 * same for any count. Where helper threads cannot run (a browser page that is not cross-origin isolated,
 * Node before 20.16) the count stays 1. Helpers already started stay alive but idle when the count drops.
 * @throws ValueError for anything but a whole number from 1 to 64
 */
export function setThreads(n: number): void {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    const shown = typeof n === "string" ? JSON.stringify(n) : typeof n === "number" ? String(n) : Array.isArray(n) ? "an array" : typeof n;
    throw new ValueError(`setThreads: expected a whole number of threads from 1 to ${MAX_THREADS}, got ${shown}`);
  }
  threads = host() === null ? 1 : n;
}

/** The number of threads large matrix products may use. */
export function getThreads(): number {
  threads ??= host()?.defaultThreads() ?? 1;
  return threads;
}

/** Whether helper h has started and takes jobs. */
const isReady = (h: Helper): boolean => Atomics.load(h.ctrl, CTRL.ready) === 1;

/** Threads ready to share a large product now: this one plus the helpers that have started (at most getThreads()). */
export function readyThreads(): number {
  const want = getThreads();
  if (want <= 1 || broken || helpers === null) return 1;
  return 1 + helpers.slice(0, want - 1).filter(isReady).length;
}

function startHelper(h: ThreadHost): Helper | null {
  const link = h.start(() => { broken = true; });
  return link === null ? null : Object.assign(link, { job: 0, arenaGen: 0, speed: 1 });
}

/** Starts helpers up to `count` (once), and returns those already running; the others join later calls. */
function readyHelpers(h0: ThreadHost, count: number): Helper[] {
  helpers ??= [];
  while (helpers.length < count) {
    const h = startHelper(h0);
    if (h === null) {
      broken = true;
      break;
    }
    helpers.push(h);
  }
  return helpers.slice(0, count).filter(isReady);
}

function ensureArena(bytes: number): SharedArrayBuffer {
  if (arena === null || arena.byteLength < bytes) {
    // A whole number of float64s: the arena is viewed as a Float32Array or a Float64Array, whose constructors
    // throw on a byte length that is not a multiple of their element size (1.5× of 4·odd is not).
    const grown = Math.max(bytes, arena === null ? 0 : arena.byteLength * 1.5);
    arena = new SharedArrayBuffer(Math.ceil(grown / 8) * 8);
    arenaGen++;
  }
  return arena;
}

/** Number of elements from the first to the last one (inclusive) that a strided rows×cols operand touches. */
function span(rows: number, cols: number, rowStride: number, colStride: number): number {
  return (rows - 1) * rowStride + (cols - 1) * colStride + 1;
}

/** Which serial kernel every part of a split product runs: 0 the js GEMM, 1 the wasm SIMD GEMM. */
export type SerialGemmId = 0 | 1;
/** The serial kernels by id; the helpers hold the same table (gemm-worker.ts). */
export const SERIAL_GEMMS = [gemmSerial, wasmGemmSerial] as const;

/**
 * Computes C = A·B (or C += A·B) like `gemmSerial`, split by rows or columns of C over this thread and
 * ready helpers. Returns false, having done nothing, when the product is too small, threads are off, no
 * helper is ready yet (the first large product starts them), or the operands are not float arrays of one type.
 */
export function gemmParallel(
  kernel: SerialGemmId,
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
  m: number, k: number, n: number, accumulate: boolean,
): boolean {
  const where = host();
  if (where === null || !where.kernels.includes(kernel)) return false;
  // While the module still compiles (a page's main thread compiles it in the background), this thread's
  // wasm kernel would run the js one: the helpers' parts would then round differently from this one's.
  if (kernel === 1 && getWasm() === null) return false;
  if (getThreads() <= 1 || broken || m * n * k < PARALLEL_MIN || Math.max(m, n) < 2 * ALIGN || ars < 0 || acs < 0 || brs < 0 || bcs < 0) return false;
  const f64 = a instanceof Float64Array;
  if (!(f64 || a instanceof Float32Array) || a.constructor !== b.constructor || a.constructor !== c.constructor) return false;
  const helpersWanted = Math.min(getThreads(), Math.floor((m * n * k) / PART_MIN)) - 1;
  if (helpersWanted < 1) return false;
  const ready = readyHelpers(where, helpersWanted);
  if (ready.length === 0) return false;

  // Split C by rows or by columns, whichever repeats less packing: every part packs all of B in a
  // row split (k·n values) and all of A in a column split (m·k values), so split the longer side.
  // Parts are sized by each thread's measured speed (a helper sharing its core with the collector
  // runs slower) and aligned to micro-tiles; part 0 is this thread's and reads the operands in place.
  const byRows = m >= n;
  const extent = byRows ? m : n;
  const bounds = splitBounds(extent, ready);
  const jobs = bounds.length - 2; // helper parts actually used
  if (jobs < 1) return false;

  // Shared copies of what the helpers read (A from row `first`, or B from column `first`), then one
  // output block per helper.
  const first = bounds[1]!;
  const aSrc = byRows ? ao + first * ars : ao;
  const aLen = span(byRows ? m - first : m, k, ars, acs);
  const bSrc = byRows ? bo : bo + first * bcs;
  const bLen = span(k, byRows ? n : n - first, brs, bcs);
  const bpe = f64 ? 8 : 4;
  const buffer = ensureArena((aLen + bLen + (byRows ? (m - first) * n : m * (n - first))) * bpe);
  const view = f64 ? new Float64Array(buffer) : new Float32Array(buffer);
  view.set(a.subarray(aSrc, aSrc + aLen), 0);
  view.set(b.subarray(bSrc, bSrc + bLen), aLen);

  let cOff = aLen + bLen;
  const cOffsets: number[] = [];
  for (let j = 0; j < jobs; j++) {
    const h = ready[j]!;
    const lo = bounds[j + 1]!, hi = bounds[j + 2]!;
    if (h.arenaGen !== arenaGen) {
      h.sendArena(buffer, arenaGen);
      h.arenaGen = arenaGen;
      Atomics.store(h.ctrl, CTRL.arenaGen, arenaGen);
    }
    const p = h.params;
    p[PARAM.float64] = f64 ? 1 : 0;
    p[PARAM.kernel] = kernel;
    p[PARAM.aOff] = byRows ? (lo - first) * ars : 0;
    p[PARAM.ars] = ars;
    p[PARAM.acs] = acs;
    p[PARAM.bOff] = aLen + (byRows ? 0 : (lo - first) * bcs);
    p[PARAM.brs] = brs;
    p[PARAM.bcs] = bcs;
    p[PARAM.cOff] = cOff;
    p[PARAM.m] = byRows ? hi - lo : m;
    p[PARAM.k] = k;
    p[PARAM.n] = byRows ? n : hi - lo;
    p[PARAM.accumulate] = accumulate ? 1 : 0;
    // C += A·B adds each depth block into C in turn; the helper starts from C's values so that its
    // sums round exactly as this thread's would.
    if (accumulate) copyBlock(c, byRows ? co + lo * ldc : co + lo, ldc, view, cOff, byRows ? n : hi - lo, byRows ? hi - lo : m, true);
    cOffsets.push(cOff);
    cOff += (byRows ? (hi - lo) * n : m * (hi - lo));
    h.job++;
    Atomics.store(h.ctrl, CTRL.job, h.job);
    Atomics.notify(h.ctrl, CTRL.job);
  }

  const start = performance.now();
  const gemmSerial = SERIAL_GEMMS[kernel];
  if (byRows) gemmSerial(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, first, k, n, accumulate);
  else gemmSerial(a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc, m, k, first, accumulate);
  const mainRate = first / Math.max(performance.now() - start, 1e-3);

  for (let j = 0; j < jobs; j++) {
    const h = ready[j]!;
    const lo = bounds[j + 1]!, hi = bounds[j + 2]!;
    if (!waitFor(h, where.canBlock)) {
      // A helper that never answers: finish its part here and stop using threads.
      broken = true;
      if (byRows) gemmSerial(a, ao + lo * ars, ars, acs, b, bo, brs, bcs, c, co + lo * ldc, ldc, hi - lo, k, n, accumulate);
      else gemmSerial(a, ao, ars, acs, b, bo + lo * bcs, brs, bcs, c, co + lo, ldc, m, k, hi - lo, accumulate);
      continue;
    }
    copyBlock(c, byRows ? co + lo * ldc : co + lo, ldc, view, cOffsets[j]!, byRows ? n : hi - lo, byRows ? hi - lo : m, false);
    const rate = (hi - lo) / Math.max(h.params[PARAM.elapsedMs]!, 1e-3);
    h.speed = Math.min(4, Math.max(0.25, 0.7 * h.speed + 0.3 * (rate / mainRate)));
  }
  return true;
}

/** Part boundaries over [0, extent): this thread's first, then one per helper, in proportion to their speeds. */
function splitBounds(extent: number, ready: readonly Helper[]): number[] {
  let total = 1;
  for (const h of ready) total += h.speed;
  const bounds = [0];
  let at = 0, weight = 1;
  for (let j = 0; j < ready.length && at < extent; j++) {
    at = Math.min(extent, Math.max(at + ALIGN, Math.round((extent * weight) / total / ALIGN) * ALIGN));
    bounds.push(at);
    weight += ready[j]!.speed;
  }
  if (at < extent) bounds.push(extent);
  return bounds;
}

/** Copies a rows×width block between C (row stride ldc, from `at`) and the arena (contiguous from `off`), in either direction. */
function copyBlock(c: TypedArray, at: number, ldc: number, arenaView: TypedArray, off: number, width: number, rows: number, toArena: boolean): void {
  for (let i = 0; i < rows; i++) {
    const cRow = at + i * ldc, aRow = off + i * width;
    if (toArena) arenaView.set(c.subarray(cRow, cRow + width), aRow);
    else c.set(arenaView.subarray(aRow, aRow + width), cRow);
  }
}

/** Waits for helper h's current job: asleep in Atomics.wait where this thread may block, else polling (a page's main thread). */
function waitFor(h: Helper, canBlock: boolean): boolean {
  const deadline = Date.now() + HELPER_TIMEOUT_MS;
  for (;;) {
    const done = Atomics.load(h.ctrl, CTRL.done);
    if (done === h.job) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (canBlock) Atomics.wait(h.ctrl, CTRL.done, done, left);
  }
}
