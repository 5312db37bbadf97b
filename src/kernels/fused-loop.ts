import type { DType, TypedArray } from "../core/dtype.js";
import { ieeePow } from "./binary.js";
import { SATURATION, sech2, sigmoidSlope } from "./fused.js";
import { exp32, sigmoid32, tanh32 } from "./float32-math.js";

// Fused elementwise loops (for jit): a chain of elementwise ops over the same elements, computed in one pass
// with the intermediates in registers. The caller (src/jit) describes the chain as a FusedSpec of op names;
// the js kernel below generates one JavaScript loop per distinct spec from fixed per-op snippets. The snippets
// are ours, and the names they are given are generated identifiers (a0, t1, …): no text from a user ever
// reaches the generated code, which is what keeps `new Function` here safe.

/** How a fused loop reads an input: every element, one element (read once), or a row repeated every `period` elements. */
export type FusedRead = "full" | "scalar" | "suffix";

/** One step of a fused loop: `op` on registers `args` (inputs are registers 0…k−1, step j writes k + j). */
export interface FusedOp {
  /** A library elementwise primitive's name (add, tanh, where, cast, …), or "checkNaN" (no result; fails the loop on a NaN). */
  readonly op: string;
  readonly params: unknown;
  /** Result dtype: values are rounded to it as a typed array of that dtype would store them. */
  readonly dtype: DType;
  readonly args: readonly number[];
}

/** A fused loop over `size` elements. */
export interface FusedSpec {
  readonly size: number;
  readonly inputs: readonly { readonly dtype: DType; readonly read: FusedRead; readonly period: number }[];
  readonly ops: readonly FusedOp[];
  /** Registers written out, one output array each (of `size` elements, in the register's dtype). */
  readonly outputs: readonly number[];
  /**
   * Registers (float32) summed over all `size` elements, each into a one-element output array after those of
   * `outputs`: accumulated in float64 in the order of the backend's reduce kernel (see SumOrder), so the result
   * is that kernel's sum of the register's values to the bit.
   */
  readonly sums?: readonly number[];
  /**
   * The same ops as columns, which a producer may give so that nothing is built per op (jit's specOf does: a
   * scalar chain has ~10⁵ ops): then `ops` may be a getter that builds its objects only when a kernel asks.
   * The js one-element runner reads only the columns.
   */
  readonly columns?: FusedColumns;
}

/** A FusedSpec's ops as parallel arrays: op j is `names[j]` (or "checkNaN") with `params[j]`, result dtype `dtypes[j]`, on the `arity[j]` registers abc[3j…]. */
export interface FusedColumns {
  readonly names: readonly string[];
  readonly dtypes: readonly DType[];
  readonly params: readonly unknown[];
  readonly arity: Uint8Array;
  readonly abc: Int32Array;
}

/**
 * The order a fused loop sums in, that of the backend's reduce kernel for a float32 full sum: "sequential",
 * one running float64 sum from 0 (the js kernel, src/kernels/layout.ts's reduceInto); "lanes4", four running
 * sums over elements ≡ 0, 1, 2, 3 (mod 4) of the whole groups of four, combined as (s0 + s2) + (s1 + s3), then
 * the leftover elements in order (the wasm kernel, asm/layout.ts's reduceRun).
 */
export type SumOrder = "sequential" | "lanes4";

/** A compiled fused loop: reads `inputs`, writes `outputs`; returns 1 if a checkNaN step met a NaN, else 0. */
export type FusedRunner = (inputs: readonly TypedArray[], outputs: readonly TypedArray[]) => number;

/** Scalar helpers the snippets call, passed to every generated function as `H`. */
const HELPERS = {
  pow: ieeePow,
  exp32,
  tanh32,
  sigmoid32,
  sigmoid: (v: number): number => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  },
  sech2,
  sigmoidSlope,
  round: (v: number): number => {
    const f = Math.floor(v);
    const d = v - f;
    const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
    return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
  },
};

type Snippet = (a: readonly string[], params: unknown) => string;

const m = (fn: string): Snippet => (a) => `Math.${fn}(${a[0]})`;
const h = (fn: keyof typeof HELPERS): Snippet => (a) => `H.${fn}(${a.join(", ")})`;
const cmp = (op: string): Snippet => (a) => `(${a[0]} ${op} ${a[1]} ? 1 : 0)`;

/**
 * Per primitive name, the scalar expression its js kernel computes, over operand variable names. Values are
 * plain numbers; the generator rounds each result to its dtype. Exactly the js kernels' arithmetic, so a
 * fused loop gives the eager js backend's values bit for bit.
 */
export const SNIPPETS: Readonly<Record<string, Snippet>> = {
  add: (a) => `${a[0]} + ${a[1]}`,
  sub: (a) => `${a[0]} - ${a[1]}`,
  mul: (a) => `${a[0]} * ${a[1]}`,
  div: (a) => `${a[0]} / ${a[1]}`,
  pow: h("pow"),
  maximum: (a) => `(${a[0]} > ${a[1]} || ${a[0]} !== ${a[0]} ? ${a[0]} : ${a[1]})`,
  minimum: (a) => `(${a[0]} < ${a[1]} || ${a[0]} !== ${a[0]} ? ${a[0]} : ${a[1]})`,
  atan2: (a) => `Math.atan2(${a[0]}, ${a[1]})`,
  equal: cmp("==="),
  notEqual: cmp("!=="),
  greater: cmp(">"),
  greaterEqual: cmp(">="),
  less: cmp("<"),
  lessEqual: cmp("<="),
  neg: (a) => `-${a[0]}`,
  abs: m("abs"),
  sign: (a) => `(${a[0]} > 0 ? 1 : ${a[0]} < 0 ? -1 : ${a[0]})`,
  exp: m("exp"),
  expm1: m("expm1"),
  log: m("log"),
  log1p: m("log1p"),
  sqrt: m("sqrt"),
  rsqrt: (a) => `1 / Math.sqrt(${a[0]})`,
  square: (a) => `${a[0]} * ${a[0]}`,
  reciprocal: (a) => `1 / ${a[0]}`,
  sin: m("sin"),
  cos: m("cos"),
  tan: m("tan"),
  tanh: m("tanh"),
  sigmoid: h("sigmoid"),
  relu: (a) => `(${a[0]} <= 0 ? 0 : ${a[0]})`,
  round: h("round"),
  floor: m("floor"),
  ceil: m("ceil"),
  trunc: m("trunc"),
  log2: m("log2"),
  log10: m("log10"),
  exp2: (a) => `Math.pow(2, ${a[0]})`,
  asin: m("asin"),
  acos: m("acos"),
  atan: m("atan"),
  sinh: m("sinh"),
  cosh: m("cosh"),
  asinh: m("asinh"),
  acosh: m("acosh"),
  atanh: m("atanh"),
  // The saturating gradients (src/kernels/fused.ts) written out, so that only their rare far-out branch is a
  // call: a call V8 inlines counts against its inlining budget for the whole loop, which exp32 needs.
  tanhGrad: ([x, y, ct]) => `(Math.abs(${y}) <= ${SATURATION} ? ${ct} * (1 - ${y} * ${y}) : ${ct} * H.sech2(${x}))`,
  sigmoidGrad: ([x, y, ct]) => `(${y} <= ${SATURATION} ? ${ct} * ${y} * (1 - ${y}) : ${ct} * H.sigmoidSlope(${x}))`,
  reluGrad: (a) => `(${a[0]} <= 0 ? 0 : ${a[1]})`,
  squareGrad: (a) => `2 * ${a[0]} * ${a[1]}`,
  where: (a) => `(${a[0]} ? ${a[1]} : ${a[2]})`,
  // cast: the rounding to the output dtype is the conversion (bool: x ≠ 0, NaN true, as castConcrete).
  cast: (a, p) => (p === "bool" ? `(${a[0]} !== 0 ? 1 : 0)` : a[0]!),
  // Same elements in the same order (reshape), or a scalar or row repeated (broadcastTo).
  reshape: (a) => a[0]!,
  broadcastTo: (a) => a[0]!,
  stopGradient: (a) => a[0]!,
};

/**
 * Per primitive name, the expression of its js kernel for a float32 result where that differs: the kernels
 * use float32-math.ts's inlinable functions there (see src/kernels/unary.ts).
 */
const FLOAT32_SNIPPETS: Readonly<Record<string, Snippet>> = {
  exp: h("exp32"),
  tanh: h("tanh32"),
  sigmoid: h("sigmoid32"),
};

/** The scalar expression of step `op` with result `dtype` over operand names `a`: exactly its js kernel's arithmetic. */
function snippet(op: string, dtype: DType, a: readonly string[], params: unknown): string {
  return ((dtype === "float32" ? FLOAT32_SNIPPETS[op] : undefined) ?? SNIPPETS[op]!)(a, params);
}

/** The expression that stores `expr` as the typed array of `dtype` would (float32 rounding, int32 wrapping). */
function rounded(expr: string, dtype: DType): string {
  switch (dtype) {
    case "float32": return `F(${expr})`;
    case "int32": return `((${expr}) | 0)`;
    case "bool": return `((${expr}) !== 0 ? 1 : 0)`;
    default: return `(${expr})`;
  }
}

/** The source of a spec's loop: the text depends only on the spec, so equal specs share one compiled function. */
function loopSource(spec: FusedSpec, order: SumOrder): string {
  const head: string[] = [];
  const load: string[] = [];
  const name: string[] = [];
  spec.inputs.forEach((inp, k) => {
    name.push(`a${k}`);
    if (inp.read === "scalar") head.push(`const a${k} = I[${k}][0];`);
    else {
      head.push(`const A${k} = I[${k}];`);
      load.push(inp.read === "full" ? `const a${k} = A${k}[i];` : `const a${k} = A${k}[i % ${inp.period}];`);
    }
  });
  const body: string[] = [];
  spec.ops.forEach((s, j) => {
    if (s.op === "checkNaN") {
      const v = name[s.args[0]!]!;
      body.push(`if (${v} !== ${v}) bad = 1;`);
      name.push("");
      return;
    }
    const expr = snippet(s.op, s.dtype, s.args.map((r) => name[r]!), s.params);
    body.push(`const t${j} = ${rounded(expr, s.dtype)};`);
    name.push(`t${j}`);
  });
  spec.outputs.forEach((_, k) => head.push(`const O${k} = O[${k}];`));
  const store = spec.outputs.map((r, k) => `O${k}[i] = ${name[r]!};`);
  const sums = spec.sums ?? [];
  const nOut = spec.outputs.length;
  const tail: string[] = [];
  if (order === "sequential") {
    sums.forEach((r, q) => {
      head.push(`let s${q} = 0;`);
      store.push(`s${q} += ${name[r]!};`);
      tail.push(`O[${nOut + q}][0] = s${q};`);
    });
  } else if (sums.length > 0) {
    head.push(`const whole = n - (n & 3);`);
    sums.forEach((r, q) => {
      head.push(`const S${q} = new Float64Array(4), T${q} = new Float64Array(3);`);
      store.push(`if (i < whole) S${q}[i & 3] += ${name[r]!}; else T${q}[i - whole] = ${name[r]!};`);
      tail.push(`let s${q} = 0 + ((S${q}[0] + S${q}[2]) + (S${q}[1] + S${q}[3]));`);
      tail.push(`for (let j = 0; j < n - whole; j++) s${q} += T${q}[j];`);
      tail.push(`O[${nOut + q}][0] = 0 + s${q};`);
    });
  }
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
    ...tail,
    `return bad;`,
    `};`,
  ].join("\n");
}

// Compiled loops by source text, and scalar functions by expression: a program retraced for a new signature,
// or a repeated chain, compiles each distinct piece once.
type Loop = (inputs: readonly TypedArray[], outputs: readonly TypedArray[], n: number) => number;
const loops = new Map<string, Loop>();
type ScalarOp = (a: number, b: number, c: number) => number;
const scalarOps = new Map<string, ScalarOp>();
// By op, dtype, arity and params object: a long scalar chain looks its ops up without building any text
// or key string (a scalar chain of 10⁵ ops would allocate one per op).
const scalarByOp = new Map<string, Map<string, Map<unknown, ScalarOp>[]>>();

// The last few kinds looked up, compared with === (params by identity, as the maps below): a chain
// cycles through a handful of kinds, so most lookups end here instead of in four maps.
const RECENT = 8;
const recentOp: (string | undefined)[] = new Array(RECENT).fill(undefined);
const recentDtype: (string | undefined)[] = new Array(RECENT).fill(undefined);
const recentArity = new Int32Array(RECENT);
const recentParams: unknown[] = new Array(RECENT).fill(undefined);
const recentFn: (ScalarOp | undefined)[] = new Array(RECENT).fill(undefined);
let recentNext = 0;

function scalarOp(op: string, dtype: DType, n: number, params: unknown): ScalarOp {
  for (let i = 0; i < RECENT; i++) {
    if (recentOp[i] === op && recentDtype[i] === dtype && recentArity[i] === n && recentParams[i] === params) return recentFn[i]!;
  }
  const f = scalarOpLookup(op, dtype, n, params);
  const i = recentNext;
  recentNext = (recentNext + 1) % RECENT;
  recentOp[i] = op;
  recentDtype[i] = dtype;
  recentArity[i] = n;
  recentParams[i] = params;
  recentFn[i] = f;
  return f;
}

function scalarOpLookup(op: string, dtype: DType, n: number, params: unknown): ScalarOp {
  let byDtype = scalarByOp.get(op);
  if (byDtype === undefined) scalarByOp.set(op, (byDtype = new Map()));
  let byArity = byDtype.get(dtype);
  if (byArity === undefined) byDtype.set(dtype, (byArity = []));
  let byParams = byArity[n];
  if (byParams === undefined) byArity[n] = byParams = new Map();
  let f = byParams.get(params);
  if (f !== undefined) return f;
  const expr = rounded(snippet(op, dtype, ["a", "b", "c"].slice(0, n), params), dtype);
  f = scalarOps.get(expr);
  if (f === undefined) {
    // Generated from our snippets only (see the file comment).
    f = (new Function("H", `"use strict"; const F = Math.fround; return (a, b, c) => ${expr};`) as (h: typeof HELPERS) => ScalarOp)(HELPERS);
    scalarOps.set(expr, f);
  }
  byParams.set(params, f);
  return f;
}

/**
 * One-element loops run as calls on a register file instead: a scalar program (a long chain of one-element
 * ops) would spend more on generating and compiling a loop per group than the loop saves.
 */
function scalarRunner(spec: FusedSpec): FusedRunner {
  const k = spec.inputs.length;
  const c = spec.columns ?? columnsOf(spec.ops);
  const m = c.names.length;
  const regs = new Float64Array(k + m);
  // Parallel arrays, not an object per op: a scalar chain has ~10⁵ ops. A null function is a NaN check.
  const fns = new Array<ScalarOp | null>(m);
  for (let j = 0; j < m; j++) fns[j] = c.names[j] === "checkNaN" ? null : scalarOp(c.names[j]!, c.dtypes[j]!, c.arity[j]!, c.params[j]);
  const abc = c.abc;
  const outs = spec.outputs;
  const sums = spec.sums ?? [];
  return (inputs, outputs) => {
    for (let i = 0; i < k; i++) regs[i] = inputs[i]![0]!;
    for (let j = 0; j < m; j++) {
      const fn = fns[j]!;
      const a = regs[abc[3 * j]!]!;
      if (fn === null) {
        if (a !== a) return 1;
      } else regs[k + j] = fn(a, regs[abc[3 * j + 1]!]!, regs[abc[3 * j + 2]!]!);
    }
    for (let o = 0; o < outs.length; o++) outputs[o]![0] = regs[outs[o]!]!;
    // A sum of one element: 0 + x in either order (+0 for −0, as the reduce kernels' running sums from 0).
    for (let q = 0; q < sums.length; q++) outputs[outs.length + q]![0] = 0 + regs[sums[q]!]!;
    return 0;
  };
}

/** `ops` as columns (unused operand slots 0). */
function columnsOf(ops: readonly FusedOp[]): FusedColumns {
  const m = ops.length;
  const abc = new Int32Array(3 * m), arity = new Uint8Array(m);
  ops.forEach((o, j) => {
    arity[j] = o.args.length;
    for (let i = 0; i < o.args.length; i++) abc[3 * j + i] = o.args[i]!;
  });
  return { names: ops.map((o) => o.op), dtypes: ops.map((o) => o.dtype), params: ops.map((o) => o.params), arity, abc };
}

/** The ops of `columns` as objects (for a spec that gave columns only: see FusedSpec.columns). */
export function opsOfColumns(c: FusedColumns): FusedOp[] {
  return c.names.map((op, j) => ({ op, params: c.params[j], dtype: c.dtypes[j]!, args: Array.from(c.abc.subarray(3 * j, 3 * j + c.arity[j]!)) }));
}

/** Whether the js kernel can run `op` in a fused loop. */
export function jsFusible(op: string): boolean {
  return op in SNIPPETS;
}

/**
 * The js backend's fused loop: a generated JavaScript loop (or, for one element, calls on registers). Sums
 * go in `order`: the js reduce kernel's by default; the wasm backend asks for its own when it runs a loop here.
 */
export function jsFusedLoop(spec: FusedSpec, order: SumOrder = "sequential"): FusedRunner {
  if (spec.size === 1) return scalarRunner(spec);
  const src = loopSource(spec, order);
  let loop = loops.get(src);
  if (loop === undefined) {
    // Code generated from the spec's structure and our fixed snippets, never from user text.
    loop = (new Function("H", src) as (h: typeof HELPERS) => Loop)(HELPERS);
    loops.set(src, loop);
  }
  const n = spec.size, run = loop;
  return (inputs, outputs) => run(inputs, outputs, n);
}
