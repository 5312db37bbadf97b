// npm run bench [-- --quick] [--json] [--save file.json] [--only w1,w2] [--libs l1,l2]
// Runs every workload in every library, each pair in its own child process (bench/worker.ts; PyTorch
// through Python from there), then prints the median times (wall and CPU), the ratios of each library to
// chainrule, threads, memory, and the cross-check of the answers against float64 references.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHAINRULE_BACKENDS, CHAINRULE_WEBGPU, GPU_LIBRARIES, RESULT_TAG, chainruleBackendOf, chainruleLib, isChainrule, type WorkerResult } from "./adapter.js";
import { WORKLOADS, agrees, reference, type Workload } from "./workloads.js";
import { renderReport } from "./report.js";

/** chainrule once per backend (CHAINRULE_BACKEND set in its child) and on the GPU, then the peers, their GPU rows last. */
const LIBRARIES: readonly string[] = [
  ...CHAINRULE_BACKENDS.map(chainruleLib), CHAINRULE_WEBGPU, "tfjs-cpu", "tfjs-wasm", "jax-wasm", "jax-jit", "pytorch", "pytorch-mt", "tfjs-webgpu", "jax-webgpu",
];
/** Names for several libraries at once in --libs. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  chainrule: [...CHAINRULE_BACKENDS.map(chainruleLib), CHAINRULE_WEBGPU],
  tfjs: ["tfjs-cpu", "tfjs-wasm", "tfjs-webgpu"],
  jax: ["jax-wasm", "jax-jit", "jax-webgpu"],
  torch: ["pytorch", "pytorch-mt"],
  gpu: GPU_LIBRARIES,
  cpu: [...CHAINRULE_BACKENDS.map(chainruleLib), "tfjs-cpu", "tfjs-wasm", "jax-wasm", "jax-jit", "pytorch", "pytorch-mt"],
};

const usage = (): string => `usage: npm run bench -- [--quick] [--json] [--save file.json] [--only w1,w2,…] [--libs l1,l2,…]
  --quick        short timing (about 1 s per library and workload); peers run only chain-10k of the chains
  --json         print the results as JSON instead of tables; --save also writes them to a file
  --only         workloads: ${WORKLOADS.map((w) => w.id).join(", ")}
  --libs         libraries: ${LIBRARIES.join(", ")}
                 or groups: ${Object.entries(GROUPS).map(([g, l]) => `${g} (${l.join(", ")})`).join("; ")}
Each library × workload runs in its own process. chainrule runs once per backend (CHAINRULE_BACKEND=blas|wasm|js);
a backend that cannot run here is shown as skipped with the reason. PyTorch runs through a python3 that has
torch (BENCH_PYTHON, else python3 on the PATH, else /usr/bin/python3), at 1 thread and (pytorch-mt) at every core.
The GPU rows (chainrule[webgpu], tfjs-webgpu, jax-webgpu) run through WebGPU (the webgpu package, Dawn) on the
adapter Dawn finds; each call includes reading its results back. Without an adapter they are skipped with one
line. Without a GPU, VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json runs them on SwiftShader (a CPU
emulation of a GPU: its times say nothing about a GPU's).
Ratios are each library's time / chainrule's, on chainrule's automatic choice (the first of blas, wasm, js that ran).`;

interface Options {
  quick: boolean;
  json: boolean;
  /** Also write the JSON report to this file. */
  save: string | null;
  only: string[] | null;
  libs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, json: false, save: null, only: null, libs: [...LIBRARIES] };
  let libs: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const list = (): string[] => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a comma-separated list`);
      return v.split(",").map((s) => s.trim()).filter(Boolean);
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--json") o.json = true;
    else if (a === "--only") o.only = list();
    else if (a === "--save") {
      o.save = argv[++i] ?? null;
      if (!o.save) throw new Error("--save needs a file name");
    }
    else if (a === "--libs") libs = list();
    else if (a === "--help" || a === "-h") {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  for (const w of o.only ?? []) if (!WORKLOADS.some((x) => x.id === w)) throw new Error(`unknown workload ${w}; one of ${WORKLOADS.map((x) => x.id).join(", ")}`);
  if (libs) {
    const chosen = new Set<string>();
    for (const l of libs) {
      const named = GROUPS[l] ?? (LIBRARIES.includes(l) ? [l] : null);
      if (!named) throw new Error(`unknown library ${l}; one of ${LIBRARIES.join(", ")}, or a group: ${Object.keys(GROUPS).join(", ")}`);
      for (const n of named) chosen.add(n);
    }
    o.libs = LIBRARIES.filter((l) => chosen.has(l)); // always in the report's order
  }
  return o;
}

/** Caps that keep one library from hanging the run or eating the machine's memory. */
export interface Caps {
  timeoutS: number;
  heapMB: number;
}

export function capsFor(lib: string, w: Workload, quick: boolean): Caps {
  // A GPU epoch of train mnist on a software GPU takes minutes (about 90 s on SwiftShader here), after a warm-up.
  if (lib === CHAINRULE_WEBGPU && w.kind === "trainEpoch") return { timeoutS: quick ? 400 : 1200, heapMB: 4096 };
  // GPU rows get the same leash as each other (a software GPU is slow for all of them alike).
  if (isChainrule(lib) || GPU_LIBRARIES.includes(lib)) return { timeoutS: quick ? 90 : 600, heapMB: 4096 };
  // Chains get a leash sized for tfjs (about 2-3 s per call at 10k, 20 s at 100k; 1m needs ~14 GB and
  // dies at the heap cap); jax-js slows down superlinearly with chain length and never finishes chain-10k.
  // jax-js takes about 6 s per CNN step (eager; 5 s under jit), a few calls with warm-up and check.
  if (quick) return { timeoutS: w.kind === "chain" ? 15 : w.kind === "cnn" ? 60 : 30, heapMB: 2048 };
  const chainS = w.size <= 10_000 ? 120 : w.size <= 100_000 ? 900 : 300;
  // tfjs-cpu's CNN step takes about a minute: a small warm-up, 3 timed steps and the check.
  return { timeoutS: w.kind === "chain" ? chainS : w.kind === "cnn" ? 600 : 300, heapMB: 3072 };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Bundles the worker (and the chainrule sources) once with esbuild, so that each of the ~40 child
 * processes starts in plain Node instead of paying tsx's start-up. Falls back to tsx if that fails.
 * Peer libraries stay external and load from node_modules as usual.
 */
async function workerEntry(): Promise<string[]> {
  // One directory per checkout: node_modules may be shared between checkouts (a symlink), and a bundle
  // imports its checkout's dist/ by absolute path, so a shared one would make one checkout run another's code.
  const root = path.dirname(here);
  const dir = path.join(root, "node_modules", ".cache", `chainrule-bench-${createHash("sha256").update(root).digest("hex").slice(0, 8)}`);
  try {
    const esbuild = await import("esbuild");
    // Code splitting keeps each library's dynamic import in its own chunk: a chainrule child never loads tfjs.
    // chainrule itself stays outside the bundle: it loads from dist/ like an installed package, so
    // its matmul helper thread finds its script next to it.
    const dist = path.join(path.dirname(here), "dist");
    const keepDist = {
      name: "keep-dist-external",
      setup(b: import("esbuild").PluginBuild) {
        b.onResolve({ filter: /\/dist\/index\.js$/ }, (args) => ({ path: path.join(dist, "index.js"), external: true }));
      },
    };
    await esbuild.build({
      entryPoints: { worker: path.join(here, "worker.ts") }, outdir: dir, bundle: true, splitting: true, platform: "node",
      format: "esm", outExtension: { ".js": ".mjs" }, target: "node20", packages: "external", logLevel: "silent",
      plugins: [keepDist],
    });
    return [path.join(dir, "worker.mjs")];
  } catch (e) {
    process.stderr.write(`bench: esbuild bundle failed (${String(e).split("\n")[0]}); children will use tsx\n`);
    return ["--import", "tsx", path.join(here, "worker.ts")];
  }
}

/** The running child's process group, killed with the bench on Ctrl-C (it may have a Python child of its own). */
let runningGroup: number | null = null;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (runningGroup !== null) try { process.kill(-runningGroup, "SIGKILL"); } catch { /* already gone */ }
    process.exit(130);
  });
}

function runWorker(entry: string[], lib: string, w: Workload, quick: boolean): Promise<WorkerResult> {
  const caps = capsFor(lib, w, quick);
  const args = ["--expose-gc", `--max-old-space-size=${caps.heapMB}`, ...entry, lib, w.id];
  if (quick) args.push("--quick");
  const backend = chainruleBackendOf(lib);
  const env = { ...process.env };
  if (backend) env["CHAINRULE_BACKEND"] = backend;
  else delete env["CHAINRULE_BACKEND"];
  return new Promise((resolve) => {
    // Its own process group, so that a time-out also ends what it started (the PyTorch worker's Python).
    const child = spawn(process.execPath, args, { cwd: path.dirname(here), env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    runningGroup = child.pid ?? null;
    let out = "", err = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-20000); });
    const killGroup = () => {
      try { process.kill(-child.pid!, "SIGKILL"); } catch { child.kill("SIGKILL"); }
    };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, caps.timeoutS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      runningGroup = null;
      const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
      if (line) return resolve(JSON.parse(line.slice(RESULT_TAG.length)) as WorkerResult);
      let error: string;
      if (timedOut) error = `timed out after ${caps.timeoutS} s (cap)`;
      else if (/heap out of memory|Allocation failed/i.test(err)) error = `out of memory (heap capped at ${caps.heapMB} MB)`;
      else if (/Maximum call stack/i.test(err)) error = "RangeError: Maximum call stack size exceeded";
      else {
        const last = err.split("\n").map((s) => s.trim()).filter((s) => s && !s.startsWith("at ")).pop();
        error = `exited with ${signal ?? `code ${code}`}${last ? `: ${last.slice(0, 200)}` : ""}`;
      }
      resolve({ library: lib, workload: w.id, status: "failed", error, peakRssBytes: 0 });
    });
  });
}

/**
 * Asks a child once whether WebGPU has an adapter here (a child, so that this process never loads Dawn).
 * Resolves with the adapter's name, or with why there is none.
 */
function probeGpu(entry: string[]): Promise<{ adapter: string } | { none: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, "--probe-gpu"], { cwd: path.dirname(here), stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.on("close", () => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
      resolve(line ? JSON.parse(line.slice(RESULT_TAG.length)) as { adapter: string } | { none: string } : { none: "the WebGPU probe did not answer (it crashed or took over 60 s)" });
    });
  });
}

/** A result with its cross-check verdict. */
export interface Row extends WorkerResult {
  agrees?: boolean;
  reference?: number[];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const workloads = WORKLOADS.filter((w) => !o.only || o.only.includes(w.id));
  const rows: Row[] = [];
  const log = (s: string) => process.stderr.write(s + "\n");
  log(`chainrule bench${o.quick ? " (quick)" : ""}: ${workloads.length} workloads × ${o.libs.join(", ")}; each pair in its own process`);
  const entry = await workerEntry();
  // The GPU rows: one probe; without an adapter they are left out with one line (here and in the report).
  let gpu: { adapter: string } | { none: string } | null = null;
  if (o.libs.some((l) => GPU_LIBRARIES.includes(l))) {
    gpu = await probeGpu(entry);
    if ("none" in gpu) {
      log(`GPU rows (${o.libs.filter((l) => GPU_LIBRARIES.includes(l)).join(", ")}) skipped: ${gpu.none}`);
      o.libs = o.libs.filter((l) => !GPU_LIBRARIES.includes(l));
    } else {
      log(`GPU rows on WebGPU adapter ${gpu.adapter}; their wall times are what count (a GPU's work is not CPU time of the process)`);
    }
  }
  const refs = new Map(workloads.map((w) => [w.id, reference(w)]));
  for (const w of workloads) {
    const ref = refs.get(w.id)!;
    for (const lib of o.libs) {
      if (w.chainruleOnly && !isChainrule(lib)) continue;
      if (w.staged && !isChainrule(lib) && lib !== "jax-jit") continue; // peers without a jit

      const shorter = w.shorter ? rows.find((r) => r.library === lib && r.workload === w.shorter) : undefined;
      let r: Row;
      if (shorter && shorter.status !== "ok") {
        r = { library: lib, workload: w.id, status: "skipped", error: `not run: ${shorter.status === "skipped" ? "skipped" : "failed"} at ${w.shorter}`, peakRssBytes: 0 };
      } else if (o.quick && w.shorter && !isChainrule(lib)) {
        r = { library: lib, workload: w.id, status: "skipped", error: "peers run only chain-10k under --quick (at 100k tfjs takes 15-25 s per call, PyTorch several); see a full run", peakRssBytes: 0 };
      } else {
        const t0 = performance.now();
        r = await runWorker(entry, lib, w, o.quick);
        const cpu = r.cpuMedianMs === undefined ? "" : `, CPU ${r.cpuMedianMs.toPrecision(4)} ms`;
        log(`  ${w.id.padEnd(15)} ${lib.padEnd(16)} ${r.status === "ok" ? `${r.medianMs!.toPrecision(4)} ms/call${cpu} (n=${r.repeats})` : `${r.status}: ${r.error}`}  [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
      }
      if (r.status === "ok" && ref && r.check) {
        r.agrees = agrees(w, r.check, ref);
        r.reference = ref;
        if (!r.agrees) log(`  !!! MISMATCH ${lib} on ${w.id}: got [${r.check.join(", ")}], reference [${ref.join(", ")}]`);
      }
      rows.push(r);
    }
  }
  const elapsedS = (performance.now() - started) / 1000;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const json = JSON.stringify({ machine, quick: o.quick, elapsedS, gpu, date: new Date().toISOString(), workloads: workloads.map((w) => ({ ...w, reference: refs.get(w.id) })), results: rows }, null, 2);
  if (o.save) writeFileSync(o.save, json + "\n");
  if (o.json) {
    console.log(json);
  } else {
    console.log(renderReport(rows, workloads, o.libs, { machine, quick: o.quick, elapsedS, gpu }));
  }
  if (rows.some((r) => r.agrees === false)) process.exitCode = 1;
}

await main();
