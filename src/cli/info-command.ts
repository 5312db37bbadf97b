import os from "node:os";
import type { Command } from "commander";
import { availableBackends, getBackend, unavailableReason } from "../kernels/registry.js";

/** The lines `chainrule info` prints: the backend in use, what computes, threads, SIMD, and what else could run. */
export function infoText(version: string): string {
  const b = getBackend();
  const available = availableBackends();
  // The registry's own reason (what was tried, how to install one), so the two never disagree.
  const blasReason = unavailableReason("blas");
  const noBlas = blasReason === null ? "none in use (the blas backend is available)" : `none: ${blasReason}`;
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
