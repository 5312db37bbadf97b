import type { Tensor } from "../core/tensor.js";
import { AnomalyError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";

/** Global switch for `detectAnomaly`; checked with one boolean read per op, so it is free when off. */
export const anomalyState = {
  enabled: false,
  /** The first stack frame outside chainrule: where user code created the node. */
  callSite(): string {
    const stack = new Error().stack?.split("\n").slice(1) ?? [];
    const frame = stack.find((l) => !/[\\/](src|dist)[\\/](core|ops|autodiff|kernels|nn)[\\/]/.test(l) && !l.includes("node:internal"));
    return frame?.trim().replace(/^at /, "") ?? "unknown";
  },
};

function stats(x: Tensor): string {
  const d = x.data;
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!Number.isFinite(v)) nonFinite++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return `${x.dtype}${fmtShape(x.shape)} min ${min} max ${max}${nonFinite ? ` (${nonFinite} non-finite)` : ""}`;
}

function firstNonFinite(x: Tensor): number {
  if (x.dtype !== "float32" && x.dtype !== "float64") return -1;
  const d = x.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/** Throws AnomalyError if `out` holds a non-finite value; names the op, phase, inputs and call site. */
export function checkForward(op: string, x: Tensor[], out: Tensor, phase: "forward" | "backward" = "forward", site?: string): void {
  const bad = firstNonFinite(out);
  if (bad < 0) return;
  if (x.some((xi) => firstNonFinite(xi) >= 0)) return; // the first op that produced it has already been reported
  const inputs = x.map((xi, i) => `  input ${i}: ${stats(xi)}`).join("\n");
  throw new AnomalyError(
    `${op}: ${phase} produced ${out.data[bad]} at flat index ${bad} of output ${fmtShape(out.shape)}\n${inputs}\n  created at ${site ?? anomalyState.callSite()}`,
  );
}
