import { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { Primitive } from "../core/primitive.js";
import { gradMode, recording, type Node } from "../autodiff/trace.js";
import { Module } from "../nn/module.js";
import { tensor } from "../ops/creation.js";

// The forward program of a function, read off the engine's own recorded graph: the example inputs become
// requiresGrad leaves, so every op that depends on them is recorded (with every operand value saved), and
// whatever does not depend on them (weights, and values computed from weights alone) is a constant.

/** A value of the captured program: a graph input, a constant (its value), or the output of step `step`. */
export type ProgramValue =
  | { readonly kind: "input"; readonly index: number; readonly shape: Shape; readonly dtype: Tensor["dtype"] }
  | { readonly kind: "const"; readonly value: Tensor; readonly name: string | null }
  | { readonly kind: "step"; readonly step: number; readonly shape: Shape; readonly dtype: Tensor["dtype"] };

/** One primitive application of the captured program. */
export interface ProgramStep {
  readonly prim: Primitive;
  readonly params: unknown;
  readonly inputs: readonly ProgramValue[];
  readonly shape: Shape;
  readonly dtype: Tensor["dtype"];
}

/** A captured forward program: steps in execution order, and its output. */
export interface Program {
  readonly inputs: readonly { readonly shape: Shape; readonly dtype: Tensor["dtype"] }[];
  readonly steps: readonly ProgramStep[];
  readonly output: ProgramValue;
}

/** What can be exported: a function of tensors returning one tensor, or a module (its `forward`). */
export type Exportable = Module | ((...inputs: Tensor[]) => Tensor);

/**
 * Runs `f` once on the example inputs and returns its program.
 * @throws ValueError if an example is not a float tensor or f does not return a tensor
 */
export function captureProgram(op: string, f: Exportable, examples: readonly Tensor[]): Program {
  const names = new Map<Tensor, string>();
  let run: (...xs: Tensor[]) => Tensor;
  if (f instanceof Module) {
    for (const [name, p] of Object.entries(f.stateDict())) names.set(p, name);
    run = (x) => f.forward(x);
    if (examples.length !== 1) throw new ValueError(`${op}: a module takes one input, got ${examples.length} example inputs`);
  } else run = f;
  examples.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new ValueError(`${op}: example input ${i} must be a tensor`);
    if (!isFloat(x.dtype)) throw new ValueError(`${op}: example input ${i} has dtype ${x.dtype}; the exported graph's inputs are float tensors`);
  });
  const leaves = examples.map((x) => tensor(x, { requiresGrad: true }));
  const prevSave = recording.saveAll, prevMode = gradMode.enabled;
  recording.saveAll = true;
  gradMode.enabled = true;
  // A module is exported as used for inference: eval mode (no dropout, BatchNorm's running statistics).
  const modes = f instanceof Module ? modesOf(f) : [];
  if (f instanceof Module) f.eval();
  let out: unknown;
  try {
    out = run(...leaves);
  } finally {
    recording.saveAll = prevSave;
    gradMode.enabled = prevMode;
    for (const [m, training] of modes) m.training = training;
  }
  if (!(out instanceof Tensor)) throw new ValueError(`${op}: the function must return one tensor`);
  return toProgram(op, out, leaves, names);
}

/** Every module under `m` (itself included) with its current mode, to restore mixed modes exactly. */
function modesOf(m: Module): [Module, boolean][] {
  const out: [Module, boolean][] = [];
  const stack = [m];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    out.push([cur, cur.training]);
    for (const [, child] of cur.children()) stack.push(child);
  }
  return out;
}

function toProgram(op: string, out: Tensor, leaves: readonly Tensor[], names: ReadonlyMap<Tensor, string>): Program {
  const steps: ProgramStep[] = [];
  const stepOf = new Map<Node, number>();
  const consts = new Map<Tensor, ProgramValue>();
  const constant = (t: Tensor): ProgramValue => {
    let v = consts.get(t);
    if (v === undefined) consts.set(t, (v = { kind: "const", value: t, name: names.get(t) ?? null }));
    return v;
  };
  const valueOfNode = (n: Node): ProgramValue => {
    if (n.prim === null) {
      const leaf = n.leaf;
      const index = leaf === null ? -1 : leaves.indexOf(leaf);
      if (index >= 0) return { kind: "input", index, shape: n.shape, dtype: n.dtype };
      // A requiresGrad tensor other than the inputs (a module's parameter): its value is a constant.
      const value = leaf ?? (n.out instanceof Tensor ? n.out : null);
      if (value === null) throw new ValueError(`${op}: internal error: a leaf without a value`);
      return constant(names.has(value) ? value : leaf !== null ? leaf : value);
    }
    return { kind: "step", step: stepOf.get(n)!, shape: n.shape, dtype: n.dtype };
  };
  // Post-order depth-first walk from the output (iterative: deep programs must not overflow the stack).
  const root = out._node;
  if (root === null) return { inputs: leaves.map((l) => ({ shape: l.shape, dtype: l.dtype })), steps, output: constant(out) };
  const stack: [Node, number][] = [[root, 0]];
  const visited = new Set<Node>([root]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (node.prim !== null && next < node.arity) {
      top[1]++;
      const p = node.input(next);
      if (p !== null && !(p instanceof Tensor) && !visited.has(p)) {
        visited.add(p);
        stack.push([p, 0]);
      }
      continue;
    }
    stack.pop();
    if (node.prim === null) continue;
    const inputs: ProgramValue[] = [];
    for (let i = 0; i < node.arity; i++) {
      const p = node.input(i);
      if (p === null) throw new ValueError(`${op}: internal error: ${node.prim.name} lost operand ${i}`);
      inputs.push(p instanceof Tensor ? constant(p) : valueOfNode(p));
    }
    stepOf.set(node, steps.length);
    steps.push({ prim: node.prim, params: node.params, inputs, shape: node.shape, dtype: node.dtype });
  }
  return { inputs: leaves.map((l) => ({ shape: l.shape, dtype: l.dtype })), steps, output: valueOfNode(root) };
}
