import type { Tensor } from "../core/tensor.js";
import { AnomalyError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";

// Stack frames whose file lies under chainrule's own code are library frames; the first frame outside
// it is the user's call site. That code is src/ when run from source and dist/ when installed, and under
// source maps (node --enable-source-maps, tsx) an installed dist/ frame is reported at its src/ file, so
// both folders of the package count.
const HERE = new URL("..", import.meta.url); // file:///…/src/ or file:///…/dist/
const LIB_DIRS: readonly URL[] = /\/(src|dist)\/$/.test(HERE.pathname)
  ? [new URL("../src/", HERE), new URL("../dist/", HERE)]
  : [HERE];
/** Each library folder as a URL, a path, and (on Windows) a backslashed path, as frames may show any. */
const LIB_PREFIXES: readonly string[] = LIB_DIRS.flatMap((u) => {
  const path = decodeURIComponent(u.pathname);
  return path.includes("\\") || /^\/[A-Za-z]:\//.test(path) ? [u.href, path, path.slice(1).replaceAll("/", "\\")] : [u.href, path];
});
// The engine files that call differentiation rules: an op run below one of their frames is part of a rule.
const ENGINE_FRAME = /[\\/]autodiff[\\/](?:bind|reverse)\.[cm]?[jt]s:\d+/;

function isLibraryFrame(frame: string): boolean {
  return LIB_PREFIXES.some((p) => frame.includes(p));
}

/**
 * Frames with no file of their own: Node internals, native code, eval'd text. Judged by the location
 * (the part in parentheses), not the function name: tsx names top-level arrow functions `<anonymous>`
 * while giving them the user's file, as in `at <anonymous> (/home/me/model.ts:3:47)`.
 */
function isNativeFrame(frame: string): boolean {
  const location = /\(([^()]*)\)$/.exec(frame)?.[1] ?? frame.replace(/^at /, "");
  return location.startsWith("node:") || location.includes("<anonymous>") || location === "native" || !/:\d+:\d+$/.test(location);
}

/** Stack lines below the caller, with a limit high enough to get past the library's own frames. */
function stackLines(limit: number): string[] {
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  try {
    return (new Error().stack ?? "").split("\n").slice(2).map((l) => l.trim());
  } finally {
    Error.stackTraceLimit = prev;
  }
}

/**
 * @internal Global switch for `detectAnomaly`. The engine reads `enabled` once per op, so anomaly
 * checks cost nothing when off.
 */
export const anomalyState = {
  enabled: false,
  /** The first stack frame outside chainrule (file:line:column): where user code created the node. */
  callSite(): string {
    const frame = stackLines(64).find((l) => l.startsWith("at ") && !isLibraryFrame(l) && !isNativeFrame(l));
    return frame?.replace(/^at /, "") ?? "unknown (no stack frame outside chainrule)";
  },
};

/**
 * True when the op being checked runs inside a differentiation rule (a JVP/VJP rule, or the engine
 * fitting a cotangent) rather than directly in user code. Intermediates of a rule may be legitimately
 * non-finite (pow's rule computes log(0) in the branch that `where` masks out at a = 0), so such ops are
 * not checked one by one: the engine checks what the rule returns. Only looked at once a non-finite
 * value has appeared, so normal runs pay nothing.
 */
function insideRule(): boolean {
  const lines = stackLines(Infinity).filter((l) => l.startsWith("at "));
  let i = 0;
  // Skip checkForward and the bind frames that led to this op (bind recurses once per transform level).
  while (i < lines.length && !ENGINE_FRAME.test(lines[i]!)) i++;
  while (i < lines.length && ENGINE_FRAME.test(lines[i]!)) i++;
  for (; i < lines.length; i++) if (ENGINE_FRAME.test(lines[i]!) && isLibraryFrame(lines[i]!)) return true;
  return false;
}

function stats(x: Tensor): string {
  const d = x.data;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      finite++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const range = finite > 0 ? `min ${min}, max ${max}, mean ${sum / finite}` : "no finite values";
  const bad = nan + inf > 0 ? ` (${nan} NaN, ${inf} ±Infinity)` : "";
  return `${x.dtype}${fmtShape(x.shape)} ${range}${bad}`;
}

/** @internal Which values `checkForward` is looking at: op outputs, VJP-rule outputs, or JVP-rule tangents. */
export type AnomalyPhase = "forward" | "backward" | "jvp";

function firstNonFinite(x: Tensor): number {
  if (x.dtype !== "float32" && x.dtype !== "float64") return -1;
  const d = x.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/**
 * @internal Called by the engine while anomaly detection is on: throws AnomalyError if `out` holds a
 * non-finite value that its inputs did not already hold. Names the op, the phase (forward, or backward
 * for a rule's cotangent), input statistics and the user's call site.
 * @param x the op's inputs (forward), the incoming cotangent (backward) or the input tangents (jvp)
 * @param site where the node was created (recorded at forward time); defaults to the current call site
 * @param primals the op's inputs, printed too when `x` holds cotangents or tangents
 */
export function checkForward(
  op: string,
  x: Tensor[],
  out: Tensor,
  phase: AnomalyPhase = "forward",
  site?: string,
  primals?: readonly Tensor[],
): void {
  const bad = firstNonFinite(out);
  if (bad < 0) return;
  // A non-finite input was either reported where it was made or came from outside detectAnomaly.
  if (x.some((xi) => firstNonFinite(xi) >= 0)) return;
  if (phase === "forward" && insideRule()) return;
  const label = phase === "backward" ? () => "incoming cotangent" : phase === "jvp" ? (i: number) => `tangent ${i}` : (i: number) => `input ${i}`;
  const lines = x.map((xi, i) => `  ${label(i)}: ${stats(xi)}`);
  if (primals) primals.forEach((p, i) => lines.push(`  input ${i}: ${stats(p)}`));
  const what =
    phase === "backward" ? `its VJP rule produced a gradient containing ${out.data[bad]}`
    : phase === "jvp" ? `its JVP rule produced a tangent containing ${out.data[bad]}`
    : `produced ${out.data[bad]}`;
  const pass = phase === "jvp" ? "forward-mode" : phase;
  throw new AnomalyError(
    `${op}: ${pass} pass: ${what} at flat index ${bad} of shape ${fmtShape(out.shape)}, from finite inputs\n${lines.join("\n")}\n` +
      `  ${op} was called at ${site ?? anomalyState.callSite()}\n` +
      `  (the first non-finite value found by detectAnomaly; check the inputs' domain there, e.g. log/sqrt/div at 0)`,
  );
}

/**
 * Runs `fn` with anomaly detection on (PyTorch's `torch.autograd.detect_anomaly`): every op's output
 * is checked in the forward pass and every VJP rule's output in the backward pass, and the first
 * non-finite value (NaN or ±Infinity) throws an AnomalyError naming the op, the phase, statistics of the
 * op's inputs and the line of your code that called the op. Slow (it records a stack trace per op), so
 * use it to debug, not to train. Off by default; when off it costs one boolean check per op.
 *
 * Restores the previous setting when `fn` returns or throws (or, when `fn` returns a promise, when the
 * promise settles; other code running meanwhile is checked too). Nested calls are allowed.
 * Ops inside differentiation rules are not checked one by one (a rule may compute a masked-out
 * non-finite branch); what the rule returns is.
 * @param fn the computation to check, e.g. a forward pass and `loss.backward()`, or a `grad` call
 * @returns whatever `fn` returns
 * @throws AnomalyError at the first non-finite value produced from finite inputs
 */
export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomalyState.enabled;
  anomalyState.enabled = true;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    anomalyState.enabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      anomalyState.enabled = prev;
    }) as T;
  }
  anomalyState.enabled = prev;
  return result;
}
