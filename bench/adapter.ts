// What each library implements: one timed call per workload, plus the values for the cross-check.
import type { Workload } from "./workloads.js";

/** One prepared workload in one library. */
export interface Case {
  /** One timed call. Must finish the computation synchronously (results read back to JS). */
  run(): void;
  /** The check values of the workload, from an untimed call (a fresh one where `run` mutates state). */
  check(): number[];
  /** A cheaper call that exercises the same code, used as warm-up where `run` takes many seconds. */
  warmup?(): void;
  /** chainrule chains: heap bytes held by the recorded graph and its node count (needs --expose-gc). */
  graphMemory?(): { bytes: number; nodes: number };
  /** Free whatever the library does not collect by itself. */
  dispose?(): void;
  /** Text shown next to the result (e.g. which implementation of the loss was used). */
  note?: string;
}

/** A library under test. */
export interface Library {
  readonly name: string;
  /** Version and backend, as shown in the report. */
  describe(): string;
  /** Loads and initialises the library (backend selection, wasm loading). */
  init?(): Promise<void>;
  setup(w: Workload, quick: boolean): Case;
}

/** The line prefix that marks the result on stdout (libraries print banners of their own). */
export const RESULT_TAG = "@@bench-result ";

/** What a worker reports (one line on stdout, after RESULT_TAG). */
export interface WorkerResult {
  library: string;
  workload: string;
  status: "ok" | "skipped" | "failed";
  error?: string;
  describe?: string;
  note?: string;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  cpuMedianMs?: number;
  repeats?: number;
  callsPerRepeat?: number;
  check?: number[];
  /** Peak resident set size of this process (bytes): library, data and workload together. */
  peakRssBytes: number;
  /** Peak RSS right after the warm-up and the first timed call (bytes). */
  firstCallRssBytes?: number;
  graphBytes?: number;
  graphNodes?: number;
}
