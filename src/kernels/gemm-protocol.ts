// The shared-memory protocol between the main thread and a matrix-product helper thread.

/** Slots of the control words (an Int32Array over a SharedArrayBuffer, one per helper). */
export const CTRL = {
  /** Job number, bumped by the main thread to start a job. */
  job: 0,
  /** Number of the last job the helper finished. */
  done: 1,
  /** Set to 1 by the helper once it is running. */
  ready: 2,
  /** Generation of the arena the next job uses; a new one is posted on the helper's port first. */
  arenaGen: 3,
} as const;
export const CTRL_WORDS = 4;

/** Slots of a job's parameters (a Float64Array over a SharedArrayBuffer): offsets and strides in elements of the arena. */
export const PARAM = {
  float64: 0, aOff: 1, ars: 2, acs: 3, bOff: 4, brs: 5, bcs: 6, cOff: 7, m: 8, k: 9, n: 10,
  /** 1: add into the block already in the arena (C += A·B), 0: overwrite it. */
  accumulate: 11,
  /** Written by the helper: milliseconds its part took (the main thread balances the next split with it). */
  elapsedMs: 12,
  /** Which serial kernel to run: 0 js, 1 wasm (see SERIAL_GEMMS in gemm-threads.ts). */
  kernel: 13,
} as const;
export const PARAM_WORDS = 14;

/** What a helper is started with. */
export interface WorkerInit {
  ctrl: Int32Array;
  params: Float64Array;
}
