// One library × one workload, in its own process (started by bench/run.ts). Prints one result line.
//   node --import tsx --expose-gc bench/worker.ts <library> <workload> [--quick]
// (chainrule[blas|wasm|js] also needs CHAINRULE_BACKEND set to its backend, as bench/run.ts does.)
//   node bench/worker.ts --probe-gpu   prints the WebGPU adapter's name, or why there is none (bench/run.ts asks once)
import { CHAINRULE_WEBGPU, RESULT_TAG, chainruleBackendOf, type Library, type WorkerResult } from "./adapter.js";
import { SkipError, measure, measureAsync, type TimingOptions } from "./measure.js";
import { WORKLOADS } from "./workloads.js";

async function loadLibrary(name: string): Promise<Library> {
  const backend = chainruleBackendOf(name);
  if (backend !== null) return (await import("./libs/chainrule.js")).chainrule(backend);
  switch (name) {
    case CHAINRULE_WEBGPU: return (await import("./libs/chainrule-webgpu.js")).chainruleWebgpu();
    case "tfjs-webgpu": return (await import("./libs/tfjs-webgpu.js")).tfjsWebgpu();
    case "jax-webgpu": return (await import("./libs/jax.js")).jax("jit", "webgpu");
    case "tfjs-cpu": return (await import("./libs/tfjs.js")).tfjs("cpu");
    case "tfjs-wasm": return (await import("./libs/tfjs.js")).tfjs("wasm");
    case "jax-wasm": return (await import("./libs/jax.js")).jax("eager");
    case "jax-jit": return (await import("./libs/jax.js")).jax("jit");
    case "pytorch": return (await import("./libs/pytorch.js")).pytorch(false);
    case "pytorch-mt": return (await import("./libs/pytorch.js")).pytorch(true);
    default: throw new Error(`unknown library ${name}`);
  }
}

export function timingOptions(quick: boolean): TimingOptions {
  return quick
    ? { minRepeats: 3, slowMinRepeats: 1, maxRepeats: 30, budgetMs: 1000, warmupMs: 200, minRepeatMs: 10 }
    : { minRepeats: 10, slowMinRepeats: 10, maxRepeats: 30, budgetMs: 5000, warmupMs: 500, minRepeatMs: 25 };
}

/**
 * The op named by an error that says it has no kernel on the device (chainrule: "op: this op has no webgpu
 * kernel yet; …"), or null: that workload is then "not supported" there rather than failed.
 */
function unsupportedOp(message: string): string | null {
  return /^(\w+): this op has no webgpu kernel/.exec(message)?.[1] ?? /^(\w+): this optimizer has no webgpu update/.exec(message)?.[1] ?? null;
}

/** `--probe-gpu`: one line on stdout, the adapter's name or "none: <why>". */
async function probeGpu(): Promise<void> {
  const { adapterName } = await import("./gpu.js");
  try {
    process.stdout.write(`${RESULT_TAG}${JSON.stringify({ adapter: await adapterName() })}\n`);
  } catch (e) {
    process.stdout.write(`${RESULT_TAG}${JSON.stringify({ none: e instanceof Error ? e.message : String(e) })}\n`);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "--probe-gpu") return probeGpu();
  const [libName, workloadId] = process.argv.slice(2);
  const quick = process.argv.includes("--quick");
  const w = WORKLOADS.find((x) => x.id === workloadId);
  const result: WorkerResult = { library: libName ?? "?", workload: workloadId ?? "?", status: "failed", peakRssBytes: 0 };
  try {
    if (!w) throw new Error(`unknown workload ${workloadId}`);
    const lib = await loadLibrary(libName ?? "");
    await lib.init?.();
    result.describe = lib.describe();
    result.threads = lib.threads();
    const adapter = lib.adapter?.();
    if (adapter) result.adapter = adapter;
    if (lib.runExternal) {
      const r = await lib.runExternal(w, quick, timingOptions(quick));
      process.stdout.write(RESULT_TAG + JSON.stringify({ ...result, ...r, library: result.library, workload: result.workload }) + "\n");
      return;
    }
    const c = lib.setup(w, quick);
    if (c.note) result.note = c.note;
    let o = timingOptions(quick);
    if (c.maxRepeats) {
      const cap = (v: number) => Math.min(v, c.maxRepeats!);
      o = { ...o, maxRepeats: cap(o.maxRepeats), minRepeats: cap(o.minRepeats), slowMinRepeats: cap(o.slowMinRepeats) };
    }
    // Peak RSS once the warm-up and the first timed call are done: what one call needs, before later
    // calls pile up garbage that the collector reclaims only when the heap has grown.
    const firstCall = (): void => {
      if (result.firstCallRssBytes === undefined) result.firstCallRssBytes = process.resourceUsage().maxRSS * 1024;
    };
    if (c.async) {
      // GPU rows: every call awaits its results back before the next one starts.
      Object.assign(result, await measureAsync(async () => { await c.run(); firstCall(); }, c.warmup ? () => c.warmup!() : undefined, o));
      result.check = await c.check();
    } else {
      Object.assign(result, measure(() => { c.run(); firstCall(); }, c.warmup ? () => c.warmup!() : undefined, o));
      result.check = c.check();
      if (c.graphMemory && typeof (globalThis as { gc?: unknown }).gc === "function") {
        const g = c.graphMemory();
        result.graphBytes = g.bytes;
        result.graphNodes = g.nodes;
      }
    }
    c.dispose?.();
    result.status = "ok";
  } catch (e) {
    result.status = e instanceof SkipError ? "skipped" : "failed";
    result.error = e instanceof Error ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}`.split("\n")[0]!.slice(0, 300) : String(e);
    const op = e instanceof Error ? unsupportedOp(e.message) : null;
    if (op !== null) {
      result.status = "skipped";
      result.unsupported = op;
    }
  }
  result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(RESULT_TAG + JSON.stringify(result) + "\n");
}

await main();
process.exit(0);
