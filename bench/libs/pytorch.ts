// PyTorch through Python (bench/libs/pytorch_worker.py), where a python3 with torch is installed: at one
// thread ("pytorch") and at every core this process may use ("pytorch-mt"). The inputs come from
// bench/data.ts, written as raw binary files, so PyTorch computes on the same bits as the others; the
// Python side times with the same rules as bench/measure.ts and prints the same result line.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RESULT_TAG, type Case, type Library, type WorkerResult } from "../adapter.js";
import { SkipError, type TimingOptions } from "../measure.js";
import { CHAIN_X0, CNN, MLP, cnnData, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

/** Where the Python script lives: beside this file in the sources (the bench's bundle sits elsewhere). */
function workerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, path.join(process.cwd(), "bench", "libs")]) {
    const p = path.join(dir, "pytorch_worker.py");
    if (existsSync(p)) return p;
  }
  throw new Error(`pytorch_worker.py not found beside ${here} or in ${process.cwd()}/bench/libs`);
}

/**
 * The first Python that has torch: $BENCH_PYTHON, then python3 on the PATH, then the system one (a pyenv
 * or venv python3 on the PATH may lack Debian's python3-torch). `find_spec` checks without importing torch.
 */
function findPython(): { exe: string | null; tried: string[] } {
  const candidates = [process.env["BENCH_PYTHON"], "python3", "/usr/bin/python3"].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const exe of [...new Set(candidates)]) {
    const r = spawnSync(exe, ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 3)"], { stdio: "ignore", timeout: 20_000 });
    if (r.status === 0) return { exe, tried };
    tried.push(`${exe} (${r.error ? "not found" : "no torch"})`);
  }
  return { exe: null, tried };
}

type Input = { data: Float32Array | Int32Array; shape: number[] };

/** The inputs of a workload, as bench/data.ts makes them for every library. */
function inputsFor(w: Workload): Record<string, Input> {
  const n = w.size;
  switch (w.kind) {
    case "matmul":
    case "matmulFb": {
      const { a, b } = matmulInputs(n);
      return { a: { data: a, shape: [n, n] }, b: { data: b, shape: [n, n] } };
    }
    case "mlp": {
      const d = mlpData();
      const { batch, input, hidden, classes } = MLP;
      return {
        x: { data: d.x, shape: [batch, input] }, labels: { data: d.labels, shape: [batch] },
        w1: { data: d.w1, shape: [input, hidden] }, b1: { data: d.b1, shape: [hidden] },
        w2: { data: d.w2, shape: [hidden, classes] }, b2: { data: d.b2, shape: [classes] },
      };
    }
    case "cnn": {
      const d = cnnData();
      const { batch, side, c1, c2, k, classes, flat } = CNN;
      return {
        x: { data: d.x, shape: [batch, 1, side, side] }, labels: { data: d.labels, shape: [batch] },
        w1: { data: d.w1, shape: [c1, 1, k, k] }, b1: { data: d.b1, shape: [c1] },
        w2: { data: d.w2, shape: [c2, c1, k, k] }, b2: { data: d.b2, shape: [c2] },
        w3: { data: d.w3, shape: [flat, classes] }, b3: { data: d.b3, shape: [classes] },
      };
    }
    case "elementwise": return { x: { data: elementwiseInput(n), shape: [n] } };
    default: return {};
  }
}

/** Runs the Python worker with `config` on stdin; resolves with its result line. */
function runPython(exe: string, script: string, config: object, env: NodeJS.ProcessEnv): Promise<Partial<WorkerResult>> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [script], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-20000); });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
      if (line) return resolve(JSON.parse(line.slice(RESULT_TAG.length)) as Partial<WorkerResult>);
      const last = err.split("\n").map((s) => s.trim()).filter(Boolean).pop();
      reject(new Error(`python exited with ${signal ?? `code ${code}`}${last ? `: ${last.slice(0, 200)}` : ""}`));
    });
    child.stdin.end(JSON.stringify(config));
  });
}

/** PyTorch at one thread, or (`multiThreaded`) at every core available to the process. */
export function pytorch(multiThreaded: boolean): Library {
  const name = multiThreaded ? "pytorch-mt" : "pytorch";
  let exe = "";
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return {
    name,
    // Both are replaced by what the Python side reports (torch's version, BLAS, thread count).
    describe: () => `PyTorch through ${exe}`,
    threads: () => (multiThreaded ? cores : 1),
    async init() {
      const { exe: found, tried } = findPython();
      if (!found) throw new SkipError(`no Python with torch (tried ${tried.join(", ")}); on Debian: apt-get install python3-torch, or set BENCH_PYTHON`);
      exe = found;
    },
    setup(): Case {
      throw new Error("pytorch runs in Python: see runExternal");
    },
    async runExternal(w: Workload, quick: boolean, timing: TimingOptions): Promise<Partial<WorkerResult>> {
      if (w.kind === "trainEpoch") throw new SkipError("chainrule only");
      if (w.kind === "perExample" || w.kind === "perExampleLoop" || w.kind === "jacobian") throw new SkipError("torch.func is not wired into this bench yet");
      const dir = mkdtempSync(path.join(os.tmpdir(), "chainrule-bench-"));
      try {
        const inputs: Record<string, { path: string; dtype: string; shape: number[] }> = {};
        for (const [name, { data, shape }] of Object.entries(inputsFor(w))) {
          const file = path.join(dir, `${name}.bin`);
          writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // little-endian, as x86 and ARM
          inputs[name] = { path: file, dtype: data instanceof Int32Array ? "int32" : "float32", shape };
        }
        // One thread means one everywhere: torch.set_num_threads covers PyTorch's own kernels, the
        // variables cover OpenMP and the BLAS's own thread pool (OpenBLAS ignores set_num_threads).
        const threadVars = multiThreaded
          ? { OPENBLAS_NUM_THREADS: String(cores) }
          : { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
        const config = {
          library: name, workload: { id: w.id, kind: w.kind, size: w.size }, quick, timing,
          threads: multiThreaded ? null : 1, inputs,
          constants: { ...CNN, chainX0: CHAIN_X0, lr: w.kind === "cnn" ? CNN.lr : MLP.lr },
        };
        return await runPython(exe, workerScript(), config, { ...process.env, ...threadVars });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
