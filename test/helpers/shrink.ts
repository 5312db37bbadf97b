// Shrinks a program of the PyTorch differential test (test/helpers/differential.ts) that still fails, by
// greedy delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002,
// one element at a time as in QuickCheck's shrinking): from the failing program, try one-step
// simplifications, most aggressive first — end the program at an earlier register, drop an instruction
// (its readers read its first operand instead), drop an input, cut the shape to one index along an axis,
// output weights w and directions v to ones, an input element to a simpler edge value — keep the first
// that still fails, and repeat until none does. Each accepted step makes the program strictly smaller (in
// instructions, inputs, elements, or the rank of its values in SIMPLE), so it ends.
//
// Whether a program fails is asked in batches (`fails`), so an oracle in another process (PyTorch, via
// `tools/pytorch-differential.py --eval`) is started once per round, not once per candidate.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { judge, nums, operandsOf, type Instr, type Program, type StoredProgram } from "./differential.js";

/** Input values from simplest to least simple; any other value ranks after them all. */
export const SIMPLE = [0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, -0, 1e300, -1e300, 1e-300] as const;
export const rankOf = (x: number): number => {
  const i = SIMPLE.findIndex((s) => Object.is(s, x));
  return i < 0 ? SIMPLE.length : i;
};

/** A number as the fixture writes it. */
export const text = (x: number): string => (Number.isNaN(x) ? "nan" : x === Infinity ? "inf" : x === -Infinity ? "-inf" : Object.is(x, -0) ? "-0" : String(x));
const enc = (xs: readonly number[]) => xs.map(text).join(" ");
const size = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/** The program with register `r` removed: its readers read `by` instead, and later registers move down by one. */
function removeRegister(p: Program, r: number, by: number): Program {
  const n = p.inputs.length;
  const map = (i: number) => (i === r ? (by > r ? by - 1 : by) : i > r ? i - 1 : i);
  const ops = p.ops.flatMap((ins, k): Instr[] => {
    if (n + k === r) return [];
    const count = operandsOf(ins).length;
    return [ins.map((x, j) => (j >= 1 && j <= count ? map(x as number) : x)) as Instr];
  });
  const inputs = r < n ? p.inputs.filter((_, i) => i !== r) : p.inputs;
  const v = r < n ? p.v.filter((_, i) => i !== r) : p.v;
  return { ...p, inputs, v, ops };
}

/** The program restricted to index j along `axis` (the axis keeps size 1, so reductions' axes stay valid). */
function slice(p: Program, axis: number, j: number): Program {
  const shape = p.shape.map((d, i) => (i === axis ? 1 : d));
  const inner = size(p.shape.slice(axis + 1)), dim = p.shape[axis]!;
  const keep = (t: string) => enc(nums(t).filter((_, k) => Math.floor(k / inner) % dim === j));
  return { ...p, shape, inputs: p.inputs.map(keep), v: p.v.map(keep), w: "" };
}

/** One-step simplifications of p, in groups from most to least aggressive. */
export function candidates(p: Program): Program[][] {
  const n = p.inputs.length, last = n + p.ops.length - 1;
  const structural: Program[] = [];
  // End at an earlier register (w becomes ones: the output's shape may change).
  for (let k = 0; k < p.ops.length - 1; k++) structural.push({ ...p, ops: p.ops.slice(0, k + 1), w: "" });
  // Drop an instruction other than the last: its readers read its first operand.
  for (let r = n; r < last; r++) structural.push(removeRegister(p, r, p.ops[r - n]![1]));
  // Drop an input: its readers read another input.
  if (n > 1) for (let i = 0; i < n; i++) structural.push(removeRegister(p, i, i === 0 ? 1 : 0));
  const shape: Program[] = [];
  p.shape.forEach((d, axis) => { if (d > 1) for (let j = 0; j < d; j++) shape.push(slice(p, axis, j)); });
  const ones: Program[] = [];
  if (p.w !== "") ones.push({ ...p, w: "" });
  if (p.v.some((t) => nums(t).some((x) => x !== 1))) ones.push({ ...p, v: p.v.map((t) => enc(nums(t).map(() => 1))) });
  const values: Program[] = [];
  p.inputs.forEach((t, i) => nums(t).forEach((x, k) => {
    for (let s = 0; s < rankOf(x); s++) {
      const xs = nums(t);
      xs[k] = SIMPLE[s]!;
      values.push({ ...p, inputs: p.inputs.map((u, m) => (m === i ? enc(xs) : u)) });
    }
  }));
  return [structural, shape, ones, values].filter((g) => g.length > 0);
}

/** Asks whether each program still fails; a batch at a time. */
export type Oracle = (programs: readonly Program[]) => boolean[];

export interface Shrunk {
  program: Program;
  /** Simplifications accepted, and programs tried. */
  steps: number;
  tried: number;
}

/** The smallest program reachable from `p` by accepted simplifications (p itself must fail). */
export function shrink(p: Program, fails: Oracle, maxSteps = 500): Shrunk {
  let cur = p, steps = 0, tried = 0;
  outer: while (steps < maxSteps) {
    for (const group of candidates(cur)) {
      const verdicts = fails(group);
      tried += group.length;
      const i = verdicts.indexOf(true);
      if (i >= 0) {
        cur = group[i]!;
        steps++;
        continue outer;
      }
    }
    break;
  }
  return { program: cur, steps, tried };
}

/** The Python with PyTorch: $PYTORCH_PYTHON, else Debian's /usr/bin/python3 (where python3-torch installs). */
const PYTHON = process.env.PYTORCH_PYTHON ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../tools/pytorch-differential.py", import.meta.url));

/**
 * PyTorch's results for programs, from `tools/pytorch-differential.py --eval`; null when that Python or
 * its torch is missing (the replay then prints the failing program unshrunk).
 */
export function torchResults(programs: readonly Program[]): StoredProgram[] | null {
  const input = JSON.stringify({ programs: programs.map((p) => ({ shape: p.shape, inputs: p.inputs, ops: p.ops, w: p.w === "" ? null : p.w, v: p.v })) });
  const r = spawnSync(PYTHON, [SCRIPT, "--eval"], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0 || r.error) return null;
  return (JSON.parse(r.stdout) as { programs: StoredProgram[] }).programs;
}

/** Whether a replay against PyTorch fails: a difference in no documented way, or chainrule's own modes disagree. */
export const replayFails = (p: StoredProgram): boolean => {
  const v = judge(p);
  return v.kind === "unexplained" || v.ownModes === "disagree";
};

/**
 * Shrinks a program that fails the PyTorch replay, asking PyTorch for each candidate's results; null when
 * PyTorch is not available.
 */
export function shrinkAgainstTorch(p: StoredProgram): (Shrunk & { stored: StoredProgram }) | null {
  if (torchResults([p]) === null) return null;
  const oracle: Oracle = (ps) => torchResults(ps)!.map(replayFails);
  const s = shrink(p, oracle);
  return { ...s, stored: torchResults([s.program])![0]! };
}

/** A program as text with its values (for a shrunk program, all of it is live). */
export function describe(p: Program): string {
  const n = p.inputs.length, rank = p.shape.length;
  const name = (i: number) => (i < n ? `x${i}` : `v${i}`);
  const lines = p.inputs.map((t, i) => `  x${i} = [${nums(t).map((x) => text(x)).join(", ")}]  # shape [${p.shape.join(",")}], direction [${nums(p.v[i]!).join(", ")}]`);
  p.ops.forEach((ins, k) => {
    const [op, a, b, c] = ins;
    const args = operandsOf(ins).length;
    const rhs = op === "where" ? `where(${name(a)} > 0, ${name(b!)}, ${name(c!)})` : args === 2 ? `${op}(${name(a)}, ${name(b!)})`
      : ["sum", "mean", "max", "min", "prod", "logsumexp", "norm", "std"].includes(op) ? `${op}(${name(a)}, ${b === rank ? "all axes" : `axis ${b}`}, keepDims)` : `${op}(${name(a)})`;
    lines.push(`  ${name(n + k)} = ${rhs}`);
  });
  lines.push(`  out = sum(${name(n + p.ops.length - 1)} * w), w = ${p.w === "" ? "ones" : `[${p.w.split(" ").join(", ")}]`}`);
  return lines.join("\n");
}


