// Replays the programs of test/fixtures/pytorch-differential.json.gz (written by tools/pytorch-differential.py)
// through chainrule: the op names, the register rules and the output out = sum(last · w) mirror that script.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import {
  abs, add, asinh, atan, atan2, clip, cos, cosh, div, elu, equal, erf, exp, exp2, expm1, floor, gelu, greater, isnan, jvp, leakyRelu,
  log, log1p, log2, logaddexp, max, maximum, mean, min, minimum, mul, neg, nn, norm, pow, prod, reciprocal, relu, rsqrt,
  sigmoid, sign, sin, sinh, softplus, sqrt, square, std, sub, sum, tan, tanh, tensor, valueAndGrad, where, type Tensor,
} from "../../src/index.js";
import { sweepMagnitudes, withinRounding } from "./conditioning.js";
import type { StepFn } from "./programs.js";

/** One instruction: [op, operand registers…, axis for reductions (the rank for all axes)]. */
export type Instr = [string, number, ...number[]];

/** A program: inputs (all of one shape), instructions, output weights w and directions v (tensors as space-separated text). */
export interface Program {
  shape: number[];
  inputs: string[];
  ops: Instr[];
  w: string;
  v: string[];
}

/** A program with PyTorch's results, as the fixture stores it. */
export interface StoredProgram extends Program {
  out: string;
  grads: string[];
  /** Null where PyTorch has no forward-mode rule for some op of the program. */
  tangent: string | null;
  /** Per register (inputs first), the sum of its elements: value, tangent, gradient (null: none). */
  values: (string | null)[];
  regTangents: (string | null)[];
  regGrads: (string | null)[];
}

export interface Fixture {
  torch: string;
  seed: number;
  programs: StoredProgram[];
}

export function loadFixture(): Fixture {
  const bytes = readFileSync(new URL("../fixtures/pytorch-differential.json.gz", import.meta.url));
  return JSON.parse(gunzipSync(bytes).toString("utf8")) as Fixture;
}

export const num = (s: string): number => (s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s));
export const nums = (s: string): number[] => (s === "" ? [] : s.split(" ").map(num));
export const f64 = (s: string, shape: readonly number[]): Tensor => tensor(nums(s), { dtype: "float64", shape: [...shape] });

type Unary = (x: Tensor) => Tensor;
type Binary = (a: Tensor, b: Tensor) => Tensor;
export const UNARY: Record<string, Unary> = {
  neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tan, tanh, sigmoid, relu, erf,
  softplus, gelu: (x) => gelu(x), leakyRelu: (x) => leakyRelu(x, 0.01), elu: (x) => elu(x, 1), atan, sinh, cosh, asinh,
  log2, exp2, floor, clip: (x) => clip(x, -1, 1),
};
export const BINARY: Record<string, Binary> = { add, sub, mul, div, pow, maximum, minimum, atan2, logaddexp };
export const REDUCE: Record<string, (x: Tensor, axes: number[] | undefined) => Tensor> = {
  sum: (x, a) => sum(x, a, true),
  mean: (x, a) => mean(x, a, true),
  max: (x, a) => max(x, a, true),
  min: (x, a) => min(x, a, true),
  prod: (x, a) => prod(x, a, true),
  logsumexp: (x, a) => nn.logsumexp(x, a, true),
  norm: (x, a) => norm(x, "euclidean", a, true),
  std: (x, a) => std(x, a, true),
};

/**
 * PyTorch's conventions where chainrule documents a different one, to confirm a difference is that one:
 * sign(NaN) = 0, and maximum/minimum return their first operand at a tie of +0 and −0.
 */
export const TORCH_STYLE: Record<string, (...x: Tensor[]) => Tensor> = {
  sign: (x) => where(isnan(x), 0, sign(x)),
  maximum: (a, b) => where(equal(a, b), a, maximum(a, b)),
  minimum: (a, b) => where(equal(a, b), a, minimum(a, b)),
};

/**
 * Replacements for some ops of a program, by name: PyTorch's convention (TORCH_STYLE), or a rule planted
 * wrong to test the shrinker (test/shrink.test.ts).
 */
export type OpOverride = Readonly<Record<string, (...x: Tensor[]) => Tensor>>;

/** TORCH_STYLE's entries for `ops`. */
export const torchStyle = (ops: readonly string[]): OpOverride => Object.fromEntries(ops.map((o) => [o, TORCH_STYLE[o]!]));

/** Runs one instruction on the registers so far; ops named in `override` run its function instead. */
export function step(ins: Instr, r: readonly Tensor[], rank: number, override?: OpOverride): Tensor {
  const [op, a, b, c] = ins;
  if (override?.[op]) return override[op](...operandsOf(ins).map((i) => r[i]!));
  if (op in UNARY) return UNARY[op]!(r[a]!);
  if (op in BINARY) return BINARY[op]!(r[a]!, r[b!]!);
  if (op === "where") return where(greater(r[a]!, 0), r[b!]!, r[c!]!);
  const axes = b === rank ? undefined : [b!];
  return REDUCE[op]!(r[a]!, axes);
}

/** All registers, inputs first; from register `from` on, with register `from` replaced by `at` (for its gradient). */
export function registers(p: Program, xs: readonly Tensor[], from = -1, at?: Tensor, override?: OpOverride): Tensor[] {
  const r: Tensor[] = [...xs];
  if (from >= 0 && from < xs.length) r[from] = at!;
  const rank = p.shape.length;
  for (let k = 0; k < p.ops.length; k++) {
    const i = xs.length + k;
    r.push(i === from ? at! : step(p.ops[k]!, r, rank, override));
  }
  return r;
}

/** chainrule's results for a program, in the fixture's terms. */
export interface Results {
  out: number;
  grads: number[][];
  tangent: number;
}

/** chainrule's results for a program (ops in `override` replaced); w "" stands for ones of the output's shape. */
export function replay(p: Program, override?: OpOverride): { xs: Tensor[]; vs: Tensor[]; w: Tensor; res: Results } {
  const xs = p.inputs.map((s) => f64(s, p.shape));
  const vs = p.v.map((s) => f64(s, p.shape));
  const probe = registers(p, xs, -1, undefined, override);
  const outShape = probe[probe.length - 1]!.shape;
  const w = p.w === "" ? tensor(new Float64Array(outShape.reduce((a, d) => a * d, 1)).fill(1), { dtype: "float64", shape: [...outShape] }) : f64(p.w, outShape);
  const f = (a: Tensor[]) => {
    const r = registers(p, a, -1, undefined, override);
    return sum(mul(r[r.length - 1]!, w));
  };
  const [value, g] = valueAndGrad(f)(xs);
  const [, t] = jvp(f, [xs], [vs]);
  return { xs, vs, w, res: { out: value.item(), grads: g.map((gi) => Array.from(gi.data)), tangent: t.item() } };
}

/** A register's summary as tools/pytorch-differential.py's `summary`: weighted finite sum, and the counts of NaN, +∞, −∞. */
export interface Summary {
  sum: number;
  nan: number;
  pinf: number;
  minf: number;
}

export function summarize(t: Tensor): Summary {
  const s: Summary = { sum: 0, nan: 0, pinf: 0, minf: 0 };
  Array.from(t.data).forEach((v, k) => {
    if (Number.isFinite(v)) s.sum += v * (1 + (k % 7) / 8);
    else if (Number.isNaN(v)) s.nan++;
    else if (v > 0) s.pinf++;
    else s.minf++;
  });
  return s;
}

export function parseSummary(text: string): Summary {
  const [sum, counts] = text.split("|");
  const [nan, pinf, minf] = counts === undefined ? [0, 0, 0] : counts.split(",").map(Number);
  return { sum: num(sum!), nan: nan!, pinf: pinf!, minf: minf! };
}

/** Whether two summaries agree: same counts of specials and sums within `rtol` of their size. */
export function sameSummary(a: Summary, b: Summary, rtol = 1e-6): boolean {
  return a.nan === b.nan && a.pinf === b.pinf && a.minf === b.minf && Math.abs(a.sum - b.sum) <= rtol * (Math.abs(a.sum) + Math.abs(b.sum)) + 1e-300;
}

/** chainrule's summaries of each register: its value, its tangent (along vs) and the gradient of out with respect to it. */
export function registerSummaries(p: StoredProgram, xs: Tensor[], vs: Tensor[], w: Tensor): { values: Summary[]; tangents: Summary[]; grads: Summary[] } {
  const r = registers(p, xs);
  const values = r.map(summarize);
  const [, tr] = jvp((a: Tensor[]) => registers(p, a), [xs], [vs]);
  const tangents = tr.map(summarize);
  const grads = r.map((ri, i) => {
    const [, g] = valueAndGrad((at: Tensor) => {
      const rr = registers(p, xs, i, at);
      return sum(mul(rr[rr.length - 1]!, w));
    })(ri);
    return summarize(g);
  });
  return { values, tangents, grads };
}

/** The program as text, only the registers `upTo` depends on. */
export function programText(p: StoredProgram, upTo = p.inputs.length + p.ops.length - 1, mark?: number): string {
  const n = p.inputs.length;
  const live = new Set<number>([upTo]);
  for (let i = upTo; i >= n; i--) {
    if (!live.has(i)) continue;
    const ins = p.ops[i - n]!;
    const operands = ins[0] in UNARY ? [ins[1]] : ins[0] === "where" ? [ins[1], ins[2]!, ins[3]!] : ins[0] in BINARY ? [ins[1], ins[2]!] : [ins[1]];
    for (const o of operands) live.add(o);
  }
  const lines: string[] = [];
  p.inputs.forEach((s, i) => { if (live.has(i)) lines.push(`  x${i} = [${s.split(" ").join(", ")}]  # shape [${p.shape.join(",")}]`); });
  const name = (i: number) => (i < n ? `x${i}` : `v${i}`);
  const rank = p.shape.length;
  for (let i = n; i <= upTo; i++) {
    if (!live.has(i)) continue;
    const [op, a, b, c] = p.ops[i - n]!;
    const rhs = op in UNARY ? `${op}(${name(a)})` : op in BINARY ? `${op}(${name(a)}, ${name(b!)})` : op === "where" ? `where(${name(a)} > 0, ${name(b!)}, ${name(c!)})`
      : `${op}(${name(a)}, ${b === rank ? "all axes" : `axis ${b}`}, keepDims)`;
    lines.push(`  ${name(i)} = ${rhs}${i === mark ? "   <- the libraries part here" : ""}`);
  }
  if (upTo === n + p.ops.length - 1) lines.push(`  out = sum(${name(upTo)} * w), w = [${p.w.split(" ").join(", ")}]`);
  return lines.join("\n");
}

// ---- comparison and the documented differences ----

/** Equal as IEEE values (NaN equals NaN, ±∞ only itself), or within `rtol` of their size. */
export function close(a: number, b: number, rtol = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rtol * (Math.abs(a) + Math.abs(b)) + 1e-300;
}

/** ⟨g, v⟩ over the elements where v ≠ 0 (a zero direction is a strong zero), and the size of its terms. */
export function dual(g: readonly (readonly number[])[], v: readonly (readonly number[])[]): { value: number; scale: number } {
  let value = 0, scale = 0;
  g.forEach((gi, i) => gi.forEach((x, j) => {
    const d = v[i]![j]!;
    if (d !== 0) { value += x * d; scale += Math.abs(x * d); }
  }));
  return { value, scale };
}

/** Whether a tangent agrees with reverse mode's ⟨∇out, v⟩. */
export function modesAgree(tangent: number, d: { value: number; scale: number }, rtol = 1e-8): boolean {
  return close(tangent, d.value, rtol) || Math.abs(tangent - d.value) <= rtol * d.scale;
}

/** Where chainrule and PyTorch first part, found from the per-register summaries. */
export interface Divergence {
  /** "value": the first register whose value differs; "tangent": the first whose tangent differs; "gradient": the last whose gradient differs. */
  kind: "value" | "tangent" | "gradient";
  register: number;
  /** The op defining the register (value, tangent), or the ops reading it (gradient). */
  ops: string[];
}

/** The program's instructions as steps of the rounding bound (test/helpers/conditioning.ts): one register each. */
function stepFns(p: Program): StepFn[] {
  const rank = p.shape.length;
  return p.ops.map((ins) => {
    const operands = [...new Set(operandsOf(ins))]; // a register read twice is one operand
    return {
      operands,
      apply: (...xs: Tensor[]) => {
        const r: Tensor[] = [];
        operands.forEach((d, k) => (r[d] = xs[k]!));
        return step(ins, r, rank);
      },
    };
  });
}

export function operandsOf(ins: Instr): number[] {
  const [op, a, b, c] = ins;
  if (op in UNARY) return [a];
  if (op in BINARY) return [a, b!];
  if (op === "where") return [a, b!, c!];
  return [a];
}

/** The registers `upTo` depends on (itself included). */
export function liveRegisters(p: StoredProgram, upTo = p.inputs.length + p.ops.length - 1): Set<number> {
  const n = p.inputs.length;
  const live = new Set<number>([upTo]);
  for (let i = upTo; i >= n; i--) if (live.has(i)) for (const o of operandsOf(p.ops[i - n]!)) live.add(o);
  return live;
}

/** Where the libraries first part, over the registers the output depends on. */
export function locate(p: StoredProgram, s: ReturnType<typeof registerSummaries>): Divergence | null {
  const n = p.inputs.length;
  const live = liveRegisters(p);
  const opAt = (i: number) => (i < n ? "input" : p.ops[i - n]![0]);
  const v = s.values.findIndex((x, i) => live.has(i) && !sameSummary(x, parseSummary(p.values[i]!)));
  if (v >= 0) return { kind: "value", register: v, ops: [opAt(v)] };
  const t = s.tangents.findIndex((x, i) => live.has(i) && p.regTangents[i] !== null && !sameSummary(x, parseSummary(p.regTangents[i]!)));
  if (t >= 0) return { kind: "tangent", register: t, ops: [opAt(t)] };
  for (let i = s.grads.length - 1; i >= 0; i--) {
    if (!live.has(i) || p.regGrads[i] === null || sameSummary(s.grads[i]!, parseSummary(p.regGrads[i]!))) continue;
    const readers = p.ops.filter((ins, k) => live.has(n + k) && operandsOf(ins).includes(i)).map((ins) => ins[0]);
    return { kind: "gradient", register: i, ops: [...new Set(readers)] };
  }
  return null;
}

/**
 * The documented differences (README, "Edge conventions"): each is a predicate on a program whose results
 * differ from PyTorch's, checked in this order; a difference that none explains fails the replay.
 */
export const KINDS = {
  signNaN: "sign(NaN) is NaN (NumPy); PyTorch gives 0 — confirmed by re-running with PyTorch's sign",
  signedZero: "maximum/minimum at a tie of +0 and −0 return the second operand (NumPy), PyTorch the first; it shows where the sign of a zero matters (atan2, division by 0) — confirmed by re-running with PyTorch's rule",
  torchNaN: "exact zeros: chainrule gives a number where PyTorch's 0·∞ gives NaN (strong zeros, selection)",
  torchModes: "PyTorch's forward mode differs from its own reverse mode (mask products); chainrule's agrees with PyTorch's reverse mode",
  atNaN: "derivatives where the value is already NaN (abs'(NaN), maximum(NaN, ·) in forward mode, …): conventions differ",
  infCancellation: "chainrule NaN where PyTorch gives ±∞: an infinite cotangent meets x − mean(x) inside a composite (std, variance, norm, logsumexp), whose two terms give ∞ − ∞",
  // A size rule, not conditioning.ts's bound: that bounds one library's two sweeps of ⟨∇f, v⟩ against each
  // other, while a difference from PyTorch may be in a value or in one gradient entry.
  illConditioned: "ill-conditioned arithmetic: an intermediate beyond 1e15 or a nonzero below 1e-200 in magnitude (rounding differs)",
} as const;
export type Kind = keyof typeof KINDS;
/** The outcome of replaying one program. */
export interface Verdict {
  /** null: agrees with PyTorch everywhere. */
  kind: Kind | "unexplained" | null;
  /**
   * chainrule's own forward and reverse mode: agree; or one of them is NaN and the other a number (an ∞
   * that one mode multiplies once and the other per term, ∞·(a + b) against ∞·a + ∞·b; PyTorch's own modes
   * part the same way on some); or "ill-conditioned": they differ by no more than the first-order rounding
   * bound of their chain-rule sums (test/helpers/conditioning.ts, as the fuzz test); else "disagree", which
   * fails the replay.
   */
  ownModes: "agree" | "one NaN" | "ill-conditioned" | "disagree";
  detail: string;
}

const hasNaN = (t: Tensor) => Array.from(t.data).some((v) => Number.isNaN(v));

export function judge(p: StoredProgram): Verdict {
  const { xs, vs, w, res } = replay(p);
  const vv = vs.map((v) => Array.from(v.data));
  const ours = dual(res.grads, vv);
  const regs = registers(p, xs);
  const magnitudes = regs.flatMap((r) => Array.from(r.data)).filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  const illConditioned = magnitudes.some((m) => m > 1e15 || m < 1e-200);
  const ownModes = modesAgree(res.tangent, ours) || Math.abs(res.tangent - ours.value) <= 1e-12 ? "agree"
    : Number.isNaN(res.tangent) !== Number.isNaN(ours.value) ? "one NaN"
    : withinRounding(res.tangent, ours.value, sweepMagnitudes(xs, stepFns(p), w, vs), p.ops.length) ? "ill-conditioned" : "disagree";
  const tg = p.grads.map(nums);
  const tt = p.tangent === null ? null : num(p.tangent);
  const tOut = num(p.out);
  // Gradients compare with an absolute floor at 1e-10 of the largest finite gradient: entries that
  // cancel to ~0 (e.g. through x/x) are rounding noise in both libraries.
  let gScale = 1;
  for (const g of [...tg, ...res.grads]) for (const x of g) if (Number.isFinite(x)) gScale = Math.max(gScale, Math.abs(x));
  const near = (a: number, b: number, floor: number) => close(a, b) || (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= floor);
  const diffs: { what: string; ours: number; torch: number }[] = [];
  if (!near(res.out, tOut, 1e-12 * Math.max(1, Math.abs(tOut)))) diffs.push({ what: "out", ours: res.out, torch: tOut });
  tg.forEach((g, i) => g.forEach((x, j) => {
    if (!near(res.grads[i]![j]!, x, 1e-10 * gScale)) diffs.push({ what: `d out/d x${i}[${j}]`, ours: res.grads[i]![j]!, torch: x });
  }));
  if (tt !== null && !near(res.tangent, tt, 1e-10 * Math.max(1, ours.scale))) diffs.push({ what: "tangent", ours: res.tangent, torch: tt });
  if (diffs.length === 0) return { kind: null, ownModes, detail: "" };

  const n = p.inputs.length;
  const sums = registerSummaries(p, xs, vs, w);
  const at = locate(p, sums);
  const text = (mark?: number) => programText(p, at && at.kind !== "gradient" && at.register >= n ? at.register : undefined, mark);
  const detail = `${diffs.slice(0, 6).map((d) => `  ${d.what}: chainrule ${d.ours}, PyTorch ${d.torch}`).join("\n")}\n` +
    `first difference: ${at ? `${at.kind} of v${at.register} (${at.ops.join(", ")})` : "not located"}\n${text(at?.register)}`;
  const verdict = (kind: Kind | "unexplained"): Verdict => ({ kind, ownModes, detail });

  // A value difference that PyTorch's own convention for one op removes (checked up to the output).
  const agreesWith = (ops: string[]): boolean => {
    const r = registers(p, xs, -1, undefined, torchStyle(ops));
    return r.every((t, i) => !liveRegisters(p).has(i) || sameSummary(summarize(t), parseSummary(p.values[i]!)));
  };
  if (at?.kind === "value") {
    if (p.ops.some((ins) => ins[0] === "sign") && agreesWith(["sign"])) return verdict("signNaN");
    if (p.ops.some((ins) => ins[0] === "maximum" || ins[0] === "minimum") && agreesWith(["maximum", "minimum"])) return verdict("signedZero");
  }
  if (at?.kind === "value") return verdict(illConditioned ? "illConditioned" : "unexplained");
  const numeric = diffs.filter((d) => !(Number.isNaN(d.torch) && !Number.isNaN(d.ours)));
  if (numeric.length === 0) return verdict("torchNaN");
  // PyTorch's tangent disagrees with its own gradient, chainrule's agrees with its own and with PyTorch's gradient.
  const torchModes = tt !== null && !modesAgree(tt, dual(tg, vv));
  if (torchModes && numeric.every((d) => d.what === "tangent") && ownModes === "agree") return verdict("torchModes");
  // The op where they part already has a NaN value (in both libraries: the value summaries agree).
  const partAt = at === null ? [] : at.kind === "tangent" ? [at.register] : p.ops.map((ins, k) => [ins, n + k] as const).filter(([ins]) => operandsOf(ins).includes(at.register)).map(([, r]) => r);
  if (partAt.some((r) => hasNaN(regs[r]!))) return verdict("atNaN");
  const composite = p.ops.some((ins) => ["std", "norm", "logsumexp"].includes(ins[0]));
  if (composite && numeric.every((d) => Number.isNaN(d.ours) && !Number.isFinite(d.torch))) return verdict("infCancellation");
  if (illConditioned) return verdict("illConditioned");
  return verdict("unexplained");
}
