import type { Tensor } from "../core/tensor.js";
import { bind } from "../autodiff/bind.js";
import { prune, type Program, type Step, type ValueDef } from "./program.js";

// A recorded program as a function again, and a joint forward-and-backward program cut in two. Together
// they let a jitted function called under grad/vjp run its forward pass and its pullback as two compiled
// programs, the forward one handing its residuals to the backward one (JAX's partial evaluation of a jaxpr
// into known and unknown parts, done here by a dependency sweep over the flat step list).

/**
 * The program as a function of its inputs (flat tensors, in `prog.inputs` order), applying each primitive
 * with `bind`: under a transform (a Hessian differentiates the pullback program, vmap batches it) every
 * step meets the transform's rules as if the original code ran. Guards are not replayed: the library rules
 * that recorded them record them again when they run.
 */
export function replay(prog: Program): (...inputs: Tensor[]) => Tensor[] {
  return (...inputs: Tensor[]): Tensor[] => {
    const vals = new Array<Tensor>(prog.values.length);
    prog.inputs.forEach((id, k) => (vals[id] = inputs[k]!));
    prog.values.forEach((v, id) => {
      if (v.kind === "const") vals[id] = v.value;
    });
    for (const s of prog.steps) {
      if (s.kind !== "op") continue;
      const x = s.args.map((a) => vals[a]!);
      vals[s.out] = bind(s.prim, x, s.params);
    }
    return prog.outputs.map((id) => vals[id]!);
  };
}

/** A joint program cut into its forward part and its backward part (see `splitJoint`). */
export interface SplitProgram {
  /** Inputs: the primals; outputs: f's outputs, then the residuals. */
  readonly forward: Program;
  /** Inputs: the primals, the residuals, then the cotangents; outputs: the primals' cotangents. */
  readonly backward: Program;
  /** Number of residuals (forward values the backward part reads). */
  readonly residuals: number;
}

/**
 * Cuts the program of `(xs, cts) ↦ (f(xs), pullback(cts))` in two: a step belongs to the backward part when
 * it depends on a cotangent, else to the forward part. Forward values that backward steps read (or return)
 * are the residuals: outputs of the forward program, inputs of the backward one, so nothing is computed
 * twice. NaN checks go to the backward part (they guard the fast paths of VJP rules); their forward values
 * become residuals too. Equality checks (a rule read a traced value) stay with the value they check.
 * @param joint inputs: `nIn` primals then the cotangents; outputs: `nOut` values of f then the cotangents of the primals
 */
export function splitJoint(joint: Program, nIn: number, nOut: number): SplitProgram {
  const { values, steps } = joint;
  const dep = new Uint8Array(values.length);
  for (const id of joint.inputs.slice(nIn)) dep[id] = 1;
  const fwd: Step[] = [], bwd: Step[] = [];
  for (const s of steps) {
    if (s.kind === "guard") {
      // An equality check goes where its value is computed: in the forward program for a forward value (a
      // tie test of a VJP rule reads the primals), so the forward call already knows the cut is valid.
      (s.test === "equal" && dep[s.arg] === 0 ? fwd : bwd).push(s);
      continue;
    }
    let d = 0;
    for (const a of s.args) d |= dep[a]!;
    dep[s.out] = d;
    (d === 1 ? bwd : fwd).push(s);
  }
  // Residuals: values computed by forward steps that the backward part needs, in value order.
  const isResidual = new Uint8Array(values.length);
  const need = (v: number): void => {
    if (dep[v] === 0 && values[v]!.kind === "op") isResidual[v] = 1;
  };
  for (const s of bwd) {
    if (s.kind === "op") s.args.forEach(need);
    else if (s.test === "noNaN") need(s.arg);
  }
  const gradOuts = joint.outputs.slice(nOut);
  gradOuts.forEach(need);
  const residuals: number[] = [];
  isResidual.forEach((r, v) => {
    if (r === 1) residuals.push(v);
  });
  const primals = joint.inputs.slice(0, nIn);
  const forward = prune({ values, inputs: primals, steps: fwd, outputs: [...joint.outputs.slice(0, nOut), ...residuals] });
  const asInputs: ValueDef[] = values.map((v, id) => (isResidual[id] === 1 ? { kind: "input", shape: v.shape, dtype: v.dtype } : v));
  const backward = prune({ values: asInputs, inputs: [...primals, ...residuals, ...joint.inputs.slice(nIn)], steps: bwd, outputs: gradOuts });
  return { forward, backward, residuals: residuals.length };
}
