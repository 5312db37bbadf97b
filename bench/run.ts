// npm run bench [-- --quick] [--json] [--only w1,w2] [--libs l1,l2]
// Runs every workload in every library, each pair in its own child process (bench/worker.ts), then
// prints the median times, the peer/chainrule ratios, memory, and the cross-check of the answers.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RESULT_TAG, type WorkerResult } from "./adapter.js";
import { WORKLOADS, agrees, reference, type Workload } from "./workloads.js";
import { renderReport } from "./report.js";

const LIBRARIES = ["chainrule", "tfjs-cpu", "tfjs-wasm", "jax-wasm"] as const;

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
    else if (a === "--libs") o.libs = list();
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- [--quick] [--json] [--save file.json] [--only seed,chain-10k,…] [--libs chainrule,tfjs-cpu,tfjs-wasm,jax-wasm]");
      console.log("workloads: " + WORKLOADS.map((w) => w.id).join(", "));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  for (const w of o.only ?? []) if (!WORKLOADS.some((x) => x.id === w)) throw new Error(`unknown workload ${w}; one of ${WORKLOADS.map((x) => x.id).join(", ")}`);
  for (const l of o.libs) if (!(LIBRARIES as readonly string[]).includes(l)) throw new Error(`unknown library ${l}; one of ${LIBRARIES.join(", ")}`);
  return o;
}

/** Caps that keep one library from hanging the run or eating the machine's memory. */
export interface Caps {
  timeoutS: number;
  heapMB: number;
}

export function capsFor(lib: string, w: Workload, quick: boolean): Caps {
  if (lib === "chainrule") return { timeoutS: quick ? 90 : 600, heapMB: 4096 };
  // Chains get a leash sized for tfjs (about 2-3 s per call at 10k, 20 s at 100k; 1m needs ~14 GB and
  // dies at the heap cap); jax-js slows down superlinearly with chain length and never finishes chain-10k.
  if (quick) return { timeoutS: w.kind === "chain" ? 15 : 30, heapMB: 2048 };
  const chainS = w.size <= 10_000 ? 120 : w.size <= 100_000 ? 900 : 300;
  return { timeoutS: w.kind === "chain" ? chainS : 300, heapMB: 3072 };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Bundles the worker (and the chainrule sources) once with esbuild, so that each of the ~40 child
 * processes starts in plain Node instead of paying tsx's start-up. Falls back to tsx if that fails.
 * Peer libraries stay external and load from node_modules as usual.
 */
async function workerEntry(): Promise<string[]> {
  const dir = path.join(path.dirname(here), "node_modules", ".cache", "chainrule-bench");
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

function runWorker(entry: string[], lib: string, w: Workload, quick: boolean): Promise<WorkerResult> {
  const caps = capsFor(lib, w, quick);
  const args = ["--expose-gc", `--max-old-space-size=${caps.heapMB}`, ...entry, lib, w.id];
  if (quick) args.push("--quick");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: path.dirname(here), stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-20000); });
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, caps.timeoutS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
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
  const refs = new Map(workloads.map((w) => [w.id, reference(w)]));
  for (const w of workloads) {
    const ref = refs.get(w.id)!;
    for (const lib of o.libs) {
      if (w.chainruleOnly && lib !== "chainrule") continue;
      const shorter = w.shorter ? rows.find((r) => r.library === lib && r.workload === w.shorter) : undefined;
      let r: Row;
      if (shorter && shorter.status !== "ok") {
        r = { library: lib, workload: w.id, status: "skipped", error: `not run: ${shorter.status === "skipped" ? "skipped" : "failed"} at ${w.shorter}`, peakRssBytes: 0 };
      } else if (o.quick && w.shorter && lib !== "chainrule") {
        r = { library: lib, workload: w.id, status: "skipped", error: "peers run only chain-10k under --quick (tfjs takes 15-25 s per call at 100k); see a full run", peakRssBytes: 0 };
      } else {
        const t0 = performance.now();
        r = await runWorker(entry, lib, w, o.quick);
        log(`  ${w.id.padEnd(15)} ${lib.padEnd(10)} ${r.status === "ok" ? `${r.medianMs!.toPrecision(4)} ms/call (n=${r.repeats})` : `${r.status}: ${r.error}`}  [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
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
  const json = JSON.stringify({ machine, quick: o.quick, elapsedS, date: new Date().toISOString(), workloads: workloads.map((w) => ({ ...w, reference: refs.get(w.id) })), results: rows }, null, 2);
  if (o.save) writeFileSync(o.save, json + "\n");
  if (o.json) {
    console.log(json);
  } else {
    console.log(renderReport(rows, workloads, o.libs, { machine, quick: o.quick, elapsedS }));
  }
  if (rows.some((r) => r.agrees === false)) process.exitCode = 1;
}

await main();
