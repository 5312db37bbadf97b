// What each library implements: one timed call per workload, plus the values for the cross-check.
import type { TimingOptions } from "./measure.js";
import type { Workload } from "./workloads.js";

/** One prepared workload in one library. */
export interface Case {
  /** Absent or false: the calls are synchronous (an AsyncCase sets it to true). */
  readonly async?: false;
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

/**
 * A workload on a GPU (or any library whose results are read back asynchronously): each call ends with
 * the results awaited back into JavaScript, as a user must before using them, so its time includes the
 * read-back and every queued GPU command before it.
 */
export interface AsyncCase {
  readonly async: true;
  /** One timed call, resolved once its results are back in JavaScript. */
  run(): Promise<void>;
  check(): Promise<number[]>;
  warmup?(): Promise<void>;
  maxRepeats?: number;
  dispose?(): void;
  note?: string;
}

/** A library under test. */
export interface Library {
  readonly name: string;
  /** Version and backend, as shown in the report. */
  describe(): string;
  /** Threads its computations may use, as shown in the report (1 for single-threaded libraries). */
  threads(): number;
  /** GPU rows: the adapter the library runs on ("vendor / architecture / description"), once initialised. */
  adapter?(): string | null;
  /** Loads and initialises the library (backend selection, wasm loading). */
  init?(): Promise<void>;
  setup(w: Workload, quick: boolean): Case | AsyncCase;
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

/**
 * chainrule with the workload's tensors on the GPU (x.to("webgpu")), on whichever CPU backend it picks for
 * the rest. Not one of CHAINRULE_BACKENDS: the ratios stay relative to chainrule's CPU choice.
 */
export const CHAINRULE_WEBGPU = "chainrule[webgpu]";

/** The libraries that run on a GPU through WebGPU: skipped together, with one line, when no adapter is found. */
export const GPU_LIBRARIES: readonly string[] = [CHAINRULE_WEBGPU, "tfjs-webgpu", "jax-webgpu"];

/** True for every chainrule row, the GPU one included (the peers are the others). */
export const isChainrule = (lib: string): boolean => lib === CHAINRULE_WEBGPU || chainruleBackendOf(lib) !== null;

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
  /** The op that has no kernel on this library's device, when that is why the workload did not run. */
  unsupported?: string;
  /** The GPU adapter the library ran on (GPU rows only), e.g. "google / swiftshader / …". */
  adapter?: string;
}
