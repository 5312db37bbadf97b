import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import type { DType, TypedArray } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";

// A staged program: what `jit` records from one run of f. Values are numbered; each is an input of f, a
// constant (a concrete tensor f used that does not depend on its inputs), or the output of one step.

/** One value of a program: its number is its index in `Program.values`. */
export type ValueDef =
  | { readonly kind: "input"; readonly shape: Shape; readonly dtype: DType }
  | { readonly kind: "const"; readonly shape: Shape; readonly dtype: DType; readonly value: Tensor }
  | OpStep;

/**
 * A primitive application: `out = prim(args…)`. The step is also the definition of its output value (its
 * entry in `Program.values`, with the output's shape and dtype): one object per step, as a scalar chain
 * records ~10⁵ of them.
 */
export interface OpStep {
  readonly kind: "op";
  readonly prim: Primitive;
  readonly params: unknown;
  readonly args: readonly number[];
  readonly out: number;
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * A check recorded when a library rule read a staged value while tracing (labels made one-hot, an index
 * range check): the program is right only while that value equals what tracing saw. A call where it
 * differs runs f eagerly instead.
 */
export interface GuardStep {
  readonly kind: "guard";
  readonly arg: number;
  /** "equal": the value must equal `expected`; "noNaN": it must hold no NaN (checked inside a fused loop when it can be). */
  readonly test: "equal" | "noNaN";
  readonly expected: TypedArray | null;
}

export type Step = OpStep | GuardStep;

/** The recorded program of one signature. */
export interface Program {
  readonly values: readonly ValueDef[];
  /** Value numbers of f's tensor inputs, in leaf order. */
  readonly inputs: readonly number[];
  readonly steps: readonly Step[];
  /** Value numbers of f's output leaves, in leaf order. */
  readonly outputs: readonly number[];
  /**
   * The `nameScope` path active when a step was recorded, for steps recorded inside one: a jitted function
   * called inside another jit is inlined under the scope of its name, so the printed program shows which
   * lines came from it (as JAX's pjit shows its own program).
   */
  readonly scopes?: ReadonlyMap<Step, string>;
}

/**
 * The program without the steps nothing needs (dead-code elimination): a step is kept when the outputs depend
 * on it, or an equality guard does (its check must run). NaN checks are kept only for values still computed.
 * `grad`'s program, for one, no longer computes the forward result it discards.
 */
export function prune(prog: Program): Program {
  // Index loops over typed arrays: a scalar chain records ~10⁵ steps.
  const all = prog.steps, n = all.length;
  const live = new Uint8Array(prog.values.length);
  for (const v of prog.outputs) live[v] = 1;
  for (let k = 0; k < n; k++) {
    const s = all[k]!;
    if (s.kind === "guard" && s.test === "equal") live[s.arg] = 1;
  }
  let kept = 0;
  for (let k = n - 1; k >= 0; k--) {
    const s = all[k]!;
    if (s.kind !== "op") continue;
    if (live[s.out] !== 1) continue;
    kept++;
    const args = s.args;
    for (let i = 0; i < args.length; i++) live[args[i]!] = 1;
  }
  let guards = 0;
  for (let k = 0; k < n; k++) {
    const s = all[k]!;
    if (s.kind === "guard" && live[s.arg] === 1) guards++;
  }
  if (kept + guards === n) return prog;
  const steps: Step[] = [];
  for (let k = 0; k < n; k++) {
    const s = all[k]!;
    if (live[s.kind === "op" ? s.out : s.arg] === 1) steps.push(s);
  }
  return { ...prog, steps };
}
