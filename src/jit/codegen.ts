import type { TypedArray } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import type { OpStep, Program } from "./program.js";
import type { Group } from "./schedule.js";
import { HELPERS, rounded, snippetOf } from "./templates.js";

/**
 * A fused kernel: reads `inputs` (each n elements, 1 read once, or a trailing-dimensions row repeated),
 * writes `outputs` (n elements each); returns 1 when a NaN check of the group failed, else 0.
 */
export type FusedKernel = (inputs: readonly TypedArray[], outputs: readonly TypedArray[], n: number) => number;

// Generated kernels by source text: a program retraced for a new shape, or a long chain split into parts
// that repeat, compiles each distinct loop once.
const compiled = new Map<string, FusedKernel>();

/**
 * The source of a group's loop. Operands get local names (a0, a1, … inputs; t0, t1, … values), so the
 * text depends only on the group's structure. Every fragment comes from SNIPPETS (templates.ts) or from
 * this function; nothing a user wrote is part of it.
 */
export function groupSource(prog: Program, g: Group): string {
  const local = new Map<number, string>();
  const head: string[] = [];
  const load: string[] = [];
  g.inputs.forEach((v, k) => {
    const m = sizeOf(prog.values[v]!.shape);
    const name = `a${k}`;
    local.set(v, name);
    if (m === 1) head.push(`const ${name} = I[${k}][0];`);
    else {
      head.push(`const A${k} = I[${k}];`);
      // A bias-like operand (the output's trailing dimensions) repeats every m elements.
      load.push(m === g.size ? `const ${name} = A${k}[i];` : `const ${name} = A${k}[i % ${m}];`);
    }
  });
  const body: string[] = [];
  g.members.forEach((k, j) => {
    const s = prog.steps[k]!;
    if (s.kind === "guard") {
      const v = local.get(s.arg)!;
      body.push(`if (${v} !== ${v}) bad = 1;`);
      return;
    }
    const name = `t${j}`;
    const expr = snippetOf(s.prim)!(s.args.map((a) => local.get(a)!), s.params);
    body.push(`const ${name} = ${rounded(expr, prog.values[s.out]!.dtype)};`);
    local.set(s.out, name);
  });
  g.outputs.forEach((v, k) => head.push(`const O${k} = O[${k}];`));
  const store = g.outputs.map((v, k) => `O${k}[i] = ${local.get(v)!};`);
  return [
    `"use strict";`,
    `const F = Math.fround;`,
    `return function fused(I, O, n) {`,
    `let bad = 0;`,
    ...head,
    `for (let i = 0; i < n; i++) {`,
    ...load,
    ...body,
    ...store,
    `}`,
    `return bad;`,
    `};`,
  ].join("\n");
}

/** The compiled kernel of a group (generated once per distinct source). */
export function fusedKernel(prog: Program, g: Group): FusedKernel {
  const src = groupSource(prog, g);
  let k = compiled.get(src);
  if (k === undefined) {
    // Code generated from the program's structure and our fixed snippets (see groupSource), never from
    // user text: this is the "generate the fused loops" of the design, not an eval of input.
    k = (new Function("H", src) as (h: typeof HELPERS) => FusedKernel)(HELPERS);
    compiled.set(src, k);
  }
  return k;
}

/** One fused step on scalars: the step's snippet as a function of its operands, rounded to its dtype. */
export type ScalarOp = (a: number, b: number, c: number) => number;
const scalarOps = new Map<string, ScalarOp>();

/**
 * The scalar function of an op step (generated once per snippet text), for groups of one element: a scalar
 * program (a long chain of one-element ops) runs its group as a list of these calls instead of compiling
 * one loop per group, which would cost more to generate than it saves.
 */
export function scalarOp(prog: Program, s: OpStep): ScalarOp {
  const expr = rounded(snippetOf(s.prim)!(["a", "b", "c"].slice(0, s.args.length), s.params), prog.values[s.out]!.dtype);
  let f = scalarOps.get(expr);
  if (f === undefined) {
    // Generated from our snippets only (see groupSource).
    f = (new Function("H", `"use strict"; const F = Math.fround; return (a, b, c) => ${expr};`) as (h: typeof HELPERS) => ScalarOp)(HELPERS);
    scalarOps.set(expr, f);
  }
  return f;
}
