// What the split-product driver (gemm-threads.ts) needs from its surroundings to run helper threads: start
// one, hand it a new shared arena, and wait for it. Node (worker_threads) and browsers (Web Workers in a
// cross-origin-isolated page) each supply one; elsewhere there is none and products run on one thread.
import type { SerialGemmId } from "./gemm-threads.js";

/** One started helper: its shared control words and job parameters (see gemm-protocol.ts). */
export interface HelperLink {
  readonly ctrl: Int32Array;
  readonly params: Float64Array;
  /** Hands the helper a bigger arena; it takes it before the job that follows (the caller bumps CTRL.arenaGen). */
  sendArena(buffer: SharedArrayBuffer, gen: number): void;
}

/** A place where helper threads can run. */
export interface ThreadHost {
  /** "node" or "browser", for messages. */
  readonly kind: "node" | "browser";
  /** Starts one helper (it reports CTRL.ready = 1 once it can take jobs), or returns null when it cannot. `onFail` runs if it dies. */
  start(onFail: () => void): HelperLink | null;
  /** Whether this thread may block in Atomics.wait; a browser's main thread may not, so it polls instead. */
  readonly canBlock: boolean;
  /** The thread count used until `setThreads` is called. */
  defaultThreads(): number;
  /** Which serial kernels the helpers can run (a browser helper has only the wasm one). */
  readonly kernels: readonly SerialGemmId[];
}
