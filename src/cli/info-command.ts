import os from "node:os";
import type { Command } from "commander";
import { availableBackends, getBackend } from "../kernels/registry.js";

/** The lines `chainrule info` prints: the backend in use, what computes, threads, SIMD, and what else could run. */
export function infoText(version: string): string {
  const b = getBackend();
  const available = availableBackends();
  const named = process.env["CHAINRULE_BLAS"]?.trim();
  const noBlas = available.includes("blas")
    ? "none in use (the blas backend is available)"
    : named ? `none: CHAINRULE_BLAS=${named} cannot be used` : "none found (apt-get install libopenblas0-pthread, or set CHAINRULE_BLAS=/path/to/lib)";
  const rows: [string, string][] = [
    ["chainrule", version],
    ["node", process.versions.node],
    ["backend", `${b.name}  (${b.detail})`],
    ["available", available.join(", ")],
    ["blas library", b.libraryPath ?? noBlas],
    ["blas version", b.libraryVersion ?? "-"],
    ["threads", `${b.threads} (setThreads or CHAINRULE_THREADS; ${os.availableParallelism()} cores)`],
    ["wasm simd", b.simd ? "yes" : "no"],
    ["override", `CHAINRULE_BACKEND=${process.env["CHAINRULE_BACKEND"] ?? "(unset: best available)"}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}

/** Registers `chainrule info`. */
export function registerInfoCommand(program: Command, version: string, write: (text: string) => void): void {
  program
    .command("info")
    .description("the compute backend in use (blas, wasm or js), the BLAS library and version, threads, WebAssembly SIMD")
    .option("--json", "print getBackend() as JSON")
    .action((opts: { json?: boolean }) => {
      write(opts.json ? JSON.stringify({ ...getBackend(), available: availableBackends() }) + "\n" : infoText(version));
    });
}
