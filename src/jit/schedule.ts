import { sizeOf } from "../core/shape.js";
import type { OpStep, Program } from "./program.js";
import { isFusiblePrim, isSumPrim } from "./fusible.js";

// Fusion: which steps run together in one loop. A group is a run of elementwise steps over the same number
// of elements (an operand may also be a single element, read once); it runs as one pass over memory, and
// only the values used outside it are written out.

/** A fused group: its steps (indices into `Program.steps`), the values it reads and the ones it writes out. */
export interface Group {
  /** Op steps, and NaN checks of member values (guard steps), in program order. */
  readonly members: readonly number[];
  /** Elements per value (every member's output has this many). */
  readonly size: number;
  /** Values read from outside the group, in order of first use. */
  readonly inputs: readonly number[];
  /** Member outputs used after the group or returned by the program. */
  readonly outputs: readonly number[];
  /**
   * Outputs of the members that are full sums (one element each): accumulated inside the loop and written
   * out after it, in the order of their steps.
   */
  readonly sums: readonly number[];
}

/**
 * What a group writes out: its elementwise members' outputs read outside it, and its full sums (elementwise
 * members are never sums: sum is not fusible). One pass: a scalar chain's group has ~10⁵ members.
 */
function groupOutputs(steps: Program["steps"], members: readonly number[], escapes: Uint8Array): { outputs: number[]; sums: number[] } {
  const outputs: number[] = [], sums: number[] = [];
  for (let i = 0; i < members.length; i++) {
    const s = steps[members[i]!]!;
    if (s.kind !== "op") continue;
    if (isSumPrim(s.prim)) sums.push(s.out);
    else if (escapes[s.out] === 1) outputs.push(s.out);
  }
  return { outputs, sums };
}

/** What the compiled program runs, in order: one primitive step, or one fused group. */
export type Item = { readonly kind: "step"; readonly step: number } | { readonly kind: "group"; readonly group: Group };

/**
 * Past this many steps a group is split: one generated function per part keeps each small enough for
 * V8 to compile quickly and optimise (a long scalar chain would otherwise make one enormous function).
 */
export const MAX_GROUP_STEPS = 400;

/**
 * How a fused loop reads an operand of m elements for an output of n: "full" (m = n, same order), "scalar"
 * (m = 1, read once), "suffix" (the operand's shape, without leading 1s, is the output's trailing dimensions,
 * as a bias row: element i reads i mod m), or null when it broadcasts some other way (not fusible).
 */
export function operandMode(operand: readonly number[], out: readonly number[]): "full" | "scalar" | "suffix" | null {
  const m = sizeOf(operand), n = sizeOf(out);
  if (m === n) return "full";
  if (m === 1) return "scalar";
  let k = 0;
  while (k < operand.length && operand[k] === 1) k++;
  const core = operand.slice(k);
  if (core.length > out.length) return null;
  const tail = out.slice(out.length - core.length);
  return core.every((d, i) => d === tail[i]) ? "suffix" : null;
}

/** Whether a step can join a fused group: a library elementwise primitive whose operands each have a fused read mode. */
export function isFusible(prog: Program, s: OpStep): boolean {
  if (!isFusiblePrim(s.prim)) return false;
  const out = s.shape;
  const n = sizeOf(out);
  if (n === 0) return false;
  for (let i = 0; i < s.args.length; i++) {
    const shape = prog.values[s.args[i]!]!.shape;
    // Same size or one element: the common cases, decided without building anything.
    if (shape === out || shape.length === 0) continue;
    const m = sizeOf(shape);
    if (m === n || m === 1) continue;
    if (operandMode(shape, out) === null) return false;
  }
  return true;
}

/**
 * Whether step `s` is a sum of all the elements of a float32 value (to one element) that the loop could
 * accumulate as it computes that value (XLA's reduction fusion): float64 accumulation in the order of the
 * backend's reduce kernel, so the result is that kernel's to the bit (see FusedSpec.sums).
 */
function isFullSum(prog: Program, s: OpStep): boolean {
  if (!isSumPrim(s.prim) || sizeOf(s.shape) !== 1) return false;
  const x = prog.values[s.args[0]!]!;
  return x.dtype === "float32" && sizeOf(x.shape) > 1;
}

/**
 * Orders the program into items. Greedy, in program order: an elementwise step joins the open group when it
 * has the group's size and reads nothing computed by a step that must wait for the group; so does a full sum
 * of a value the group computes (its result is ready only after the loop: what reads it waits). Any other
 * step that reads a value of the open group waits (it runs right after the group), and one that does not runs
 * at once.
 * Linear in the program's size (typed arrays, no per-value sets): a scalar chain records ~10⁵ steps.
 */
export function schedule(prog: Program): Item[] {
  const steps = prog.steps;
  const nValues = prog.values.length;
  // Per value: the group that computes it (−1: none), and the group whose waiting steps compute it.
  const producedIn = new Int32Array(nValues).fill(-1);
  const waitsFor = new Int32Array(nValues).fill(-1);
  const groupOfStep = new Int32Array(steps.length).fill(-1);
  const plan: ({ kind: "step"; step: number } | { kind: "group"; id: number })[] = [];
  const groups: { members: number[]; size: number }[] = [];
  let open = -1;
  let waiting: number[] = [];
  const close = (): void => {
    if (open >= 0) plan.push({ kind: "group", id: open });
    for (const k of waiting) plan.push({ kind: "step", step: k });
    open = -1;
    waiting = [];
  };
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k]!;
    if (s.kind === "op" && isFusible(prog, s)) {
      const n = sizeOf(s.shape);
      if (open >= 0) {
        const g = groups[open]!;
        // One-element groups run as calls on registers (compile.ts), so they need no size limit.
        let blocked = n !== g.size || (n > 1 && g.members.length >= MAX_GROUP_STEPS);
        for (let i = 0; !blocked && i < s.args.length; i++) if (waitsFor[s.args[i]!] === open) blocked = true;
        if (blocked) close();
      }
      if (open < 0) {
        open = groups.length;
        groups.push({ members: [], size: n });
      }
      groups[open]!.members.push(k);
      groupOfStep[k] = open;
      producedIn[s.out] = open;
      continue;
    }
    if (s.kind === "op" && open >= 0 && producedIn[s.args[0]!] === open && isFullSum(prog, s)) {
      groups[open]!.members.push(k); // accumulated inside the loop
      groupOfStep[k] = open;
      waitsFor[s.out] = open;
      continue;
    }
    if (s.kind === "guard" && s.test === "noNaN" && open >= 0 && producedIn[s.arg] === open) {
      groups[open]!.members.push(k); // checked inside the loop, on the value in a register
      groupOfStep[k] = open;
      continue;
    }
    let dependent = false;
    if (open >= 0) {
      if (s.kind === "op") {
        for (let i = 0; !dependent && i < s.args.length; i++) dependent = producedIn[s.args[i]!] === open || waitsFor[s.args[i]!] === open;
      } else dependent = producedIn[s.arg] === open || waitsFor[s.arg] === open;
    }
    if (dependent) {
      waiting.push(k);
      if (s.kind === "op") waitsFor[s.out] = open;
    } else plan.push({ kind: "step", step: k });
  }
  close();

  // Which group values are read outside their group (or returned): those are written out.
  const escapes = new Uint8Array(nValues);
  for (const v of prog.outputs) escapes[v] = 1;
  const seenBy = new Int32Array(nValues).fill(-1);
  const inputs: number[][] = groups.map(() => []);
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k]!;
    const g = groupOfStep[k]!;
    const nArgs = s.kind === "op" ? s.args.length : 1;
    for (let i = 0; i < nArgs; i++) {
      const a = s.kind === "op" ? s.args[i]! : s.arg;
      const p = producedIn[a]!;
      if (p >= 0 && p !== g) escapes[a] = 1;
      if (g >= 0 && p !== g && seenBy[a] !== g) {
        seenBy[a] = g;
        inputs[g]!.push(a);
      }
    }
  }
  const done: Group[] = groups.map((g, id) => ({ members: g.members, size: g.size, inputs: inputs[id]!, ...groupOutputs(steps, g.members, escapes) }));
  return plan.map((p) => (p.kind === "step" ? p : { kind: "group", group: done[p.id]! }));
}
