// What each library implements: one timed call per workload, plus the values for the cross-check.
import type { TimingOptions } from "./measure.js";
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
  /** At most this many timed repeats, for a call that takes a minute (tfjs-cpu's CNN step). */
  maxRepeats?: number;
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
  /** Threads its computations may use, as shown in the report (1 for single-threaded libraries). */
  threads(): number;
  /** Loads and initialises the library (backend selection, wasm loading). */
  init?(): Promise<void>;
  setup(w: Workload, quick: boolean): Case;
  /**
   * For a library that runs in another process (PyTorch, in Python): runs the whole measurement there,
   * with the same timing rules, and returns its result fields. `setup` is then never called.
   */
  runExternal?(w: Workload, quick: boolean, timing: TimingOptions): Promise<Partial<WorkerResult>>;
}

/** chainrule's backends, in its order of preference: the first available is its automatic choice. */
export const CHAINRULE_BACKENDS = ["blas", "wasm", "js"] as const;
export type ChainruleBackend = (typeof CHAINRULE_BACKENDS)[number];

/** The bench's name for chainrule on one backend, run with CHAINRULE_BACKEND set to it. */
export const chainruleLib = (b: ChainruleBackend): string => `chainrule[${b}]`;

/** The backend of a chainrule library name ("chainrule[wasm]" → "wasm"), or null for a peer. */
export function chainruleBackendOf(lib: string): ChainruleBackend | null {
  const m = /^chainrule\[(\w+)\]$/.exec(lib);
  return CHAINRULE_BACKENDS.find((b) => b === m?.[1]) ?? null;
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
  /** Threads the library may use (PyTorch's intra-op threads, chainrule's threads for large products, 1 elsewhere). */
  threads?: number;
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
