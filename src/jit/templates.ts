import type { DType } from "../core/dtype.js";
import { ieeePow } from "../kernels/binary.js";
import { SATURATION, sech2, sigmoidSlope } from "../kernels/fused.js";
import type { Primitive } from "../core/primitive.js";
import { prims as elementwisePrims } from "../ops/elementwise.js";
import { mathPrims } from "../ops/math.js";
import { fusedGradPrims } from "../ops/fused-grad.js";
import { castPrim, stopPrim, wherePrim } from "../ops/select.js";
import { broadcastPrim, reshapePrim } from "../ops/layout.js";

// Per elementwise primitive, the scalar expression its js kernel computes, as a snippet over operand
// variable names. The fused-loop generator (codegen.ts) strings these together; the snippets are ours,
// fixed here, and the names they are given are generated identifiers (v0, v1, …): no text from a user
// ever reaches the generated code.

/** Scalar helpers the snippets call, passed to every generated kernel as `H`. */
export const HELPERS = {
  pow: ieeePow,
  sigmoid: (v: number): number => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  },
  tanhGrad: (x: number, y: number, ct: number): number => (Math.abs(y) <= SATURATION ? ct * (1 - y * y) : ct * sech2(x)),
  sigmoidGrad: (x: number, y: number, ct: number): number => (y <= SATURATION ? ct * y * (1 - y) : ct * sigmoidSlope(x)),
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

/** The snippet of each fusible primitive, by name. Values are plain numbers; results are rounded by the caller to the output dtype. */
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
  tanhGrad: h("tanhGrad"),
  sigmoidGrad: h("sigmoidGrad"),
  reluGrad: (a) => `(${a[0]} <= 0 ? 0 : ${a[1]})`,
  squareGrad: (a) => `2 * ${a[0]} * ${a[1]}`,
  where: (a) => `(${a[0]} ? ${a[1]} : ${a[2]})`,
  // cast: the rounding to the output dtype is the conversion (bool: x ≠ 0, NaN true, as castConcrete).
  cast: (a, p) => (p === "bool" ? `(${a[0]} !== 0 ? 1 : 0)` : a[0]!),
  // Same elements in the same order (reshape), or one element repeated (broadcastTo from a scalar).
  reshape: (a) => a[0]!,
  broadcastTo: (a) => a[0]!,
  stopGradient: (a) => a[0]!,
};

/** The expression that stores `expr` as the typed array of `dtype` would (float32 rounding, int32 wrapping). */
export function rounded(expr: string, dtype: DType): string {
  switch (dtype) {
    case "float32": return `F(${expr})`;
    case "int32": return `((${expr}) | 0)`;
    case "bool": return `((${expr}) !== 0 ? 1 : 0)`;
    default: return `(${expr})`;
  }
}

let byPrim: Map<Primitive, Snippet> | null = null;

/**
 * The snippet of a library primitive, or undefined when it is not fusible. Keyed by the primitive object,
 * not its name: a user's customVjp may be called "exp" too.
 */
export function snippetOf(prim: Primitive): Snippet | undefined {
  if (byPrim === null) {
    byPrim = new Map();
    const all: Primitive[] = [
      ...Object.values(elementwisePrims), ...Object.values(mathPrims), ...Object.values(fusedGradPrims),
      castPrim as Primitive, stopPrim, wherePrim, broadcastPrim as Primitive, reshapePrim as Primitive,
    ] as Primitive[];
    for (const q of all) {
      const s = SNIPPETS[q.name];
      if (s !== undefined) byPrim.set(q, s);
    }
  }
  return byPrim.get(prim);
}
