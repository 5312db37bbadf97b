// Helper threads in Node: worker_threads running gemm-worker.ts. The built-in modules are reached through
// process.getBuiltinModule (Node ≥ 20.16, Bun, Deno) rather than imported, so that this file bundles for
// browsers unchanged; where it is missing, products run on one thread.
import type { MessagePort, Worker as NodeWorker } from "node:worker_threads";
import { CTRL_WORDS, PARAM_WORDS } from "./gemm-protocol.js";
import type { HelperLink, ThreadHost } from "./thread-host.js";

type WorkerThreads = typeof import("node:worker_threads");
type Os = typeof import("node:os");

interface NodeProcess {
  versions?: { node?: string };
  env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

/** The process object when this is Node (or a runtime that imitates it), else null. */
function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return typeof p === "object" && p !== null && typeof p.versions?.node === "string" ? p : null;
}

/** The most threads `setThreads` and `CHAINRULE_THREADS` accept. */
export const MAX_THREADS = 64;

/**
 * The Node host, or null outside Node or where `process.getBuiltinModule` is missing (Node before 20.16).
 * `warn` reports a bad CHAINRULE_THREADS once.
 */
export function nodeHost(warn: (message: string) => void): ThreadHost | null {
  const proc = nodeProcess();
  const wt = proc?.getBuiltinModule?.("node:worker_threads") as WorkerThreads | undefined;
  const os = proc?.getBuiltinModule?.("node:os") as Os | undefined;
  if (proc === null || wt === undefined || os === undefined) return null;
  return {
    kind: "node",
    canBlock: true,
    kernels: [0, 1],
    defaultThreads() {
      const fallback = Math.max(1, Math.min(os.availableParallelism(), 4));
      const raw = proc.env["CHAINRULE_THREADS"];
      if (raw === undefined || raw.trim() === "") return fallback;
      const env = Number(raw);
      if (Number.isInteger(env) && env >= 1 && env <= MAX_THREADS) return env;
      warn(`CHAINRULE_THREADS=${JSON.stringify(raw)} is not a whole number from 1 to ${MAX_THREADS}; using ${fallback} thread${fallback === 1 ? "" : "s"}`);
      return fallback;
    },
    start: (onFail) => startNodeHelper(wt, onFail),
  };
}

/** Resolves the helper's script next to this module: the .js file in a build, the .ts source under tsx or vitest. */
function startNodeHelper(wt: WorkerThreads, onFail: () => void): HelperLink | null {
  const here = import.meta.url;
  const fromSource = here.endsWith(".ts");
  const script = new URL(fromSource ? "./gemm-worker.ts" : "./gemm-worker.js", here);
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  const params = new Float64Array(new SharedArrayBuffer(PARAM_WORDS * 8));
  const { port1, port2 } = new wt.MessageChannel();
  const workerData = { ctrl, params, port: port2 };
  let worker: NodeWorker;
  try {
    worker = fromSource
      // TypeScript sources need tsx's loader inside the thread too (tests and `tsx` scripts run from src/).
      ? new wt.Worker(`import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(script.href)}); })`, { eval: true, workerData, transferList: [port2] })
      : new wt.Worker(script, { workerData, transferList: [port2] });
  } catch {
    return null;
  }
  worker.on("error", onFail);
  worker.on("exit", onFail);
  worker.unref();
  (port1 as MessagePort).unref();
  return { ctrl, params, sendArena: (buffer, gen) => port1.postMessage({ buffer, gen }) };
}
