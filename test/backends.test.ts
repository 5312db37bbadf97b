// The backend boundary as a user meets it: which backend is chosen, how to override it, and what happens
// when the choice cannot be honoured. Choices made from the environment run in child processes, since a
// backend is chosen once per process.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import { availableBackends, getBackend, getThreads, matmul, randn, setBackend, setThreads, ValueError } from "../src/index.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0";
const haveOpenBlas = existsSync(OPENBLAS);

/** Runs a module snippet against the sources in a fresh process with `env` added; returns stdout, stderr and the exit code. */
async function child(code: string, env: Record<string, string> = {}, preload?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const base = { ...process.env };
  delete base["CHAINRULE_BACKEND"];
  delete base["CHAINRULE_BLAS"];
  const args = ["--import", "tsx", ...(preload ? ["--import", preload] : []), "--input-type=module", "-e", code];
  try {
    const r = await run(process.execPath, args, { cwd: root, env: { ...base, ...env }, timeout: 60_000 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

const SRC = JSON.stringify(new URL("../src/index.ts", import.meta.url).href);
const REPORT = `import { getBackend, matmul, randn } from ${SRC};
const c = matmul(randn([64, 64], { seed: 1 }), randn([64, 64], { seed: 2 }));
console.log(JSON.stringify({ ...getBackend(), c0: c.data[0] }));`;

describe("choosing a backend", () => {
  const before = getBackend().name;
  afterAll(() => setBackend(before));

  it.runIf(haveOpenBlas)("picks blas when OpenBLAS is installed, and reports the library", async () => {
    const r = await child(REPORT);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { name: string; libraryPath: string; libraryVersion: string; threads: number };
    expect(info.name).toBe("blas");
    expect(info.libraryVersion).toMatch(/^OpenBLAS \d+\.\d+/);
    expect(info.libraryPath).toMatch(/libopenblas/);
    expect(r.stderr).toBe("");
  });

  it.each(["js", "wasm"] as const)("CHAINRULE_BACKEND=%s forces that backend", async (name) => {
    const r = await child(REPORT, { CHAINRULE_BACKEND: name });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe(name);
  });

  it("an unknown CHAINRULE_BACKEND is a ValueError listing the valid names, raised by the first op", async () => {
    const r = await child(`import { add } from ${SRC};
try { add(1, 2); } catch (e) { console.log(e.name + ": " + e.message); }`, { CHAINRULE_BACKEND: "cuda" });
    expect(r.stdout.trim()).toBe('ValueError: CHAINRULE_BACKEND: unknown backend "cuda"; expected one of blas, wasm, js');
  });

  it("the CLI prints a bad CHAINRULE_BACKEND as one line, exit status 2", async () => {
    const r = await child(`import { main } from ${JSON.stringify(new URL("../src/cli/main.ts", import.meta.url).href)};
process.exitCode = await main(["info"]);`, { CHAINRULE_BACKEND: "gpu" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('chainrule: CHAINRULE_BACKEND: unknown backend "gpu"; expected one of blas, wasm, js\n');
  });

  it("CHAINRULE_BLAS naming a missing file: one warning naming the path and the reason, then wasm", async () => {
    const r = await child(REPORT, { CHAINRULE_BLAS: "/nowhere/libopenblas.so" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe("wasm");
    // One line, written when the backend is chosen (before the program's own output).
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("ChainruleWarning"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/CHAINRULE_BLAS=\/nowhere\/libopenblas\.so cannot be loaded: .*; using the wasm backend instead/);
  });

  it("CHAINRULE_BLAS naming a library without CBLAS: one warning saying which symbol is missing, then wasm", async () => {
    const r = await child(REPORT, { CHAINRULE_BLAS: "libm.so.6" });
    expect(JSON.parse(r.stdout).name).toBe("wasm");
    expect(r.stderr).toMatch(/CHAINRULE_BLAS=libm\.so\.6 has no cblas_sgemm \(is it a CBLAS library\?\); using the wasm backend instead/);
  });

  it("CHAINRULE_BACKEND=blas where no BLAS can be used is an error that says how to get one", async () => {
    const r = await child(`import { add } from ${SRC};
try { add(1, 2); } catch (e) { console.log(e.name + ": " + e.message); }`, { CHAINRULE_BACKEND: "blas", CHAINRULE_BLAS: "/nowhere/lib.so" });
    expect(r.stdout).toMatch(/^ValueError: CHAINRULE_BACKEND=blas: CHAINRULE_BLAS=\/nowhere\/lib\.so cannot be loaded: .*; unset CHAINRULE_BACKEND to pick the best available backend$/m);
    expect(r.stderr).toBe(""); // no "using the wasm backend instead" warning when that is not what happens
  });

  it("an engine without WebAssembly SIMD falls back to js with one warning", async () => {
    const noSimd = "data:text/javascript," + encodeURIComponent("WebAssembly.validate = () => false;");
    const r = await child(REPORT, { CHAINRULE_BLAS: "/nowhere/lib.so" }, noSimd);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { name: string; simd: boolean };
    expect(info).toMatchObject({ name: "js", simd: false });
    expect(r.stderr).toMatch(/this JavaScript engine has no WebAssembly SIMD; chainrule uses its slower js kernels/);
  });

  it("setBackend rejects unknown names and switches at once", () => {
    expect(() => setBackend("gpu" as never)).toThrow(ValueError);
    expect(() => setBackend("gpu" as never)).toThrow('setBackend: unknown backend "gpu"; expected one of blas, wasm, js');
    const a = randn([40, 30], { seed: 3 }), b = randn([30, 20], { seed: 4 });
    const results = availableBackends().map((name) => {
      setBackend(name);
      expect(getBackend().name).toBe(name);
      return matmul(a, b).data;
    });
    for (const r of results) for (let i = 0; i < r.length; i++) expect(Math.abs(r[i]! - results[0]![i]!)).toBeLessThan(1e-4);
  });

  it.runIf(haveOpenBlas)("setThreads reaches the BLAS library's own thread count", () => {
    setBackend("blas");
    const require = createRequire(import.meta.url);
    const koffi = require("koffi") as { load(p: string): { func(d: string): () => number } };
    const libThreads = koffi.load(getBackend().libraryPath!).func("int openblas_get_num_threads()");
    const was = getThreads();
    try {
      setThreads(1);
      expect(libThreads()).toBe(1);
      setThreads(2);
      expect(libThreads()).toBe(2);
    } finally {
      setThreads(was);
    }
  });

  it.runIf(haveOpenBlas)("blas shares only large products between its threads (small ones would leave its idle threads spinning), with the same values", () => {
    setBackend("blas");
    const require = createRequire(import.meta.url);
    const koffi = require("koffi") as { load(p: string): { func(d: string): () => number } };
    const libThreads = koffi.load(getBackend().libraryPath!).func("int openblas_get_num_threads()");
    const was = getThreads();
    try {
      setThreads(2);
      // [352, 64]·[64, 256]: one of the names transformer's products, 5.8·10⁶ multiply-adds, below BLAS_PARALLEL_MIN.
      const a = randn([352, 64], { seed: 5 }), b = randn([64, 256], { seed: 6 });
      const small2 = matmul(a, b).data;
      expect(libThreads()).toBe(1);
      // [512, 512]·[512, 256]: 2²⁶ multiply-adds, exactly BLAS_PARALLEL_MIN.
      const big = matmul(randn([512, 512], { seed: 7 }), randn([512, 256], { seed: 8 }));
      expect(big.shape).toEqual([512, 256]);
      expect(libThreads()).toBe(2);
      setThreads(1);
      const small1 = matmul(a, b).data;
      expect(libThreads()).toBe(1);
      for (let i = 0; i < small1.length; i++) expect(small2[i]).toBe(small1[i]);
    } finally {
      setThreads(was);
    }
  });
});

describe("threads as a user sees them", () => {
  it("a bad CHAINRULE_THREADS is one warning line, written when the count is first needed, and the default count", async () => {
    const r = await child(`import { getThreads, matmul, randn } from ${SRC};
console.log(JSON.stringify({ threads: getThreads(), c: matmul(randn([8, 8], { seed: 1 }), randn([8, 8], { seed: 2 })).shape }));`, { CHAINRULE_THREADS: "lots" });
    expect(r.code, r.stderr).toBe(0);
    const cores = (await import("node:os")).availableParallelism();
    expect(JSON.parse(r.stdout)).toEqual({ threads: Math.max(1, Math.min(cores, 4)), c: [8, 8] });
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `ChainruleWarning: CHAINRULE_THREADS="lots" is not a whole number from 1 to 64; using ${Math.max(1, Math.min(cores, 4))} thread${Math.min(cores, 4) === 1 ? "" : "s"}`,
    ]);
  });

  it("CHAINRULE_THREADS=1 keeps products on one thread: threadsReady stays 1 after a large product", async () => {
    const r = await child(`import { getBackend, matmul, randn } from ${SRC};
matmul(randn([256, 256], { seed: 1 }), randn([256, 256], { seed: 2 }));
await new Promise((res) => setTimeout(res, 300));
matmul(randn([256, 256], { seed: 1 }), randn([256, 256], { seed: 2 }));
const b = getBackend();
console.log(JSON.stringify({ threads: b.threads, threadsReady: b.threadsReady }));`, { CHAINRULE_THREADS: "1", CHAINRULE_BACKEND: "wasm" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ threads: 1, threadsReady: 1 });
  });

  it("threadsReady counts the helper threads once the first large product has started them (wasm backend)", async () => {
    const r = await child(`import { getBackend, matmul, randn, setThreads } from ${SRC};
setThreads(2);
const before = getBackend().threadsReady;
const a = randn([256, 256], { seed: 1 }), b = randn([256, 256], { seed: 2 });
matmul(a, b);
let ready = 1;
for (let i = 0; i < 100 && ready < 2; i++) { await new Promise((res) => setTimeout(res, 50)); ready = getBackend().threadsReady; }
console.log(JSON.stringify({ before, ready, threads: getBackend().threads }));`, { CHAINRULE_BACKEND: "wasm" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: 1, ready: 2, threads: 2 });
  });
});
