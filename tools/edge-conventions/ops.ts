// chainrule's side of docs/edge-conventions.md: each op of cases.json as a call (mirroring the op of the same
// name in pytorch.py), and its value, gradient of sum(value) per float input, and forward-mode tangent along
// ones, float64. Rendered by render.ts; checked by test/edge-conventions.test.ts.
import { readFileSync } from "node:fs";
import * as cr from "../../src/index.js";
import { grad, jvp, tensor, type Tensor } from "../../src/index.js";

type Op = (...x: Tensor[]) => Tensor;
const nn = cr.nn;
const idx = [2, 0];

/** Each covered op: called with the case's arguments (floats as float64 tensors, {"int": …} as int32). */
export const OPS: Record<string, Op> = {
  relu: cr.relu, leakyRelu: (x) => cr.leakyRelu(x), elu: (x) => cr.elu(x), abs: cr.abs, sign: cr.sign, sqrt: cr.sqrt, rsqrt: cr.rsqrt, log: cr.log, log1p: cr.log1p,
  exp: cr.exp, expm1: cr.expm1, reciprocal: cr.reciprocal, square: cr.square, neg: cr.neg, cos: cr.cos, sinh: cr.sinh, cosh: cr.cosh, log2: cr.log2, log10: cr.log10,
  exp2: cr.exp2, acos: cr.acos, round: cr.round, sin: cr.sin, tan: cr.tan, tanh: cr.tanh, sigmoid: cr.sigmoid, softplus: cr.softplus, gelu: (x) => cr.gelu(x),
  erf: cr.erf, atan: cr.atan, asinh: cr.asinh, acosh: cr.acosh, atanh: cr.atanh, asin: cr.asin, floor: cr.floor, clip: (x) => cr.clip(x, -1, 1),
  ceil: cr.ceil, trunc: cr.trunc, clipByValue: (x) => cr.clipByValue(x, -1, 1), nanToNum: (x) => cr.nanToNum(x), stopGradient: cr.stopGradient,
  isnan: cr.isnan, isinf: cr.isinf, isfinite: cr.isfinite, logicalNot: cr.logicalNot,
  add: cr.add, mul: cr.mul, remainder: cr.remainder, maximum: cr.maximum, minimum: cr.minimum, div: cr.div, pow: cr.pow, atan2: cr.atan2, logaddexp: cr.logaddexp,
  sub: cr.sub, mod: cr.mod, equal: cr.equal, notEqual: cr.notEqual, greater: cr.greater, greaterEqual: cr.greaterEqual, less: cr.less, lessEqual: cr.lessEqual,
  logicalAnd: cr.logicalAnd, logicalOr: cr.logicalOr, logicalXor: cr.logicalXor,
  mean: (x) => cr.mean(x), variance: (x) => cr.variance(x), max: (x) => cr.max(x), min: (x) => cr.min(x), sum: (x) => cr.sum(x), prod: (x) => cr.prod(x),
  norm: (x) => cr.norm(x), std: (x) => cr.std(x), logsumexp: (x) => nn.logsumexp(x), argmax: (x) => cr.argmax(x), argmin: (x) => cr.argmin(x), all: (x) => cr.all(x),
  any: (x) => cr.any(x), norm1: (x) => cr.norm(x, 1), normInf: (x) => cr.norm(x, Infinity),
  cumsum: (x) => cr.cumsum(x, 0), cumprod: (x) => cr.cumprod(x, 0), logcumsumexp: (x) => cr.logcumsumexp(x, 0), sort: (x) => cr.sort(x), argsort: (x) => cr.argsort(x),
  sortWithIndices: (x) => cr.sortWithIndices(x).indices, topk: (x) => cr.topk(x, 2).values,
  softmax: (x) => nn.softmax(x), logSoftmax: (x) => nn.logSoftmax(x), crossEntropy: (x, t) => nn.crossEntropy(x, t!), softmaxCrossEntropy: (x, p) => nn.softmaxCrossEntropy(x, p!),
  binaryCrossEntropyWithLogits: (x, t) => nn.binaryCrossEntropyWithLogits(x, t!), mseLoss: (a, b) => nn.mseLoss(a, b!), maxPool2d: (x) => nn.maxPool2d(x, 2),
  avgPool2d: (x) => nn.avgPool2d(x, 2), conv2d: (x, w) => nn.conv2d(x, w!), im2col: (x) => nn.im2col(x, 2), linear: (x, w) => nn.linear(x, w!),
  dot: cr.dot, matmul: cr.matmul, matmulNT: cr.matmulNT, outer: cr.outer, tensordot: (a, b) => cr.tensordot(a, b!, 1), einsum: (a, b) => cr.einsum("i,i->", a, b!),
  det: cr.det, slogdet: (a) => cr.slogdet(a)[1], inv: cr.inv, solve: cr.solve, cholesky: (a) => cr.cholesky(a), diagonal: (x) => cr.diagonal(x), matrixTrace: cr.matrixTrace,
  tril: (x) => cr.tril(x), triu: (x) => cr.triu(x),
  reshape: (x) => cr.reshape(x, [3, 1]), transpose: (x) => cr.transpose(x), permute: (x) => cr.permute(x, [1, 0]), flip: (x) => cr.flip(x, 0), expandDims: (x) => cr.expandDims(x, 0),
  squeeze: (x) => cr.squeeze(x, 0), broadcastTo: (x) => cr.broadcastTo(x, [2, 3]), tile: (x) => cr.tile(x, [2]), pad: (x) => cr.pad(x, [[1, 0]]), slice: (x) => cr.slice(x, 1, 3),
  split: (x) => cr.split(x, [1, 2])[1]!, concat: (a, b) => cr.concat([a, b!]), stack: (a, b) => cr.stack([a, b!]), gather: (x) => cr.gather(x, idx),
  take: (x) => cr.take(x, idx), takeAlongAxis: (x) => cr.takeAlongAxis(x, tensor(idx, { dtype: "int32" }), 0), scatterAdd: (x, u) => cr.scatterAdd(x, [0, 0], u!),
  where: (c, a, b) => cr.where(cr.greater(c, 0), a!, b!), sumToShape: (x) => cr.sumToShape(x, [1, 2]),
};

/**
 * Public functions that are not ops with edge values, and why: creation and random sampling (no input
 * values), transforms and utilities (act on functions or graphs), and aliases of a covered op.
 */
export const NOT_COVERED: Record<string, string> = Object.fromEntries([
  ...["arange", "eye", "full", "linspace", "ones", "onesLike", "zeros", "zerosLike", "randn", "uniform", "scalar", "tensor", "toTensor", "makeLeaf", "oneHot"].map((n) => [n, "creates a tensor"]),
  ...["grad", "valueAndGrad", "vjp", "jvp", "vmap", "jacfwd", "jacrev", "hessian", "hvp", "customVjp", "customJvp", "checkpoint", "jit", "checkGrads", "detectAnomaly", "noGrad", "zeroGrad", "nameScope", "currentScope", "trace", "toHTML"].map((n) => [n, "a transform or tool over functions and graphs"]),
  ...["treeMap", "treeLeaves", "treeFlatten", "treeUnflatten", "setBackend", "getBackend", "availableBackends", "setThreads", "getThreads", "axesOf", "requireFloat", "castConcrete", "initWebGPU"].map((n) => [n, "a utility"]),
  ["cast", "changes the dtype; values convert as JavaScript's typed arrays (NaN → 0 in integer types)"],
  ["dropout", "random; with p = 0 or in evaluation it is the identity"],
  ...["kaimingUniform", "kaimingNormal", "glorotUniform", "glorotNormal", "uniformInit"].map((n) => [n, "an initialiser (random values)"]),
  ...["mnistModel", "fitBigram", "charNLL", "trainCharModel", "sampleSequences", "countCorrect", "evaluate", "parameterValues", "trainClassifier", "trainClassifierOnDevice", "evaluateOnDevice", "checkpointModule", "checkpointSequential"]
    .map((n) => [n, "a model, training or evaluation helper over the ops above"]),
  ["scaledDotProductAttention", "a composite of matmul and softmax, whose rows apply (PyTorch 1.13 has no counterpart to compare)"],
]);

export type Arg = number | string | Arg[] | { int: number[] };
export interface Case { family: string; op: string; edge: string; index: number; args: Arg[] }
export interface Family { name: string; key: string; ops: Record<string, Record<string, Arg[][]>> }

export function loadCases(): { families: Family[]; cases: Case[] } {
  const doc = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url), "utf8")) as { families: Family[] };
  const cases: Case[] = [];
  for (const f of doc.families) for (const [op, edges] of Object.entries(f.ops)) for (const [edge, list] of Object.entries(edges)) list.forEach((args, index) => cases.push({ family: f.key, op, edge, index, args }));
  return { families: doc.families, cases };
}

const special = (v: Arg): unknown => (v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : Array.isArray(v) ? v.map(special) : v);
function decode(a: Arg): Tensor {
  if (typeof a === "object" && !Array.isArray(a)) return tensor(a.int, { dtype: "int32" });
  return tensor(special(a) as number[], { dtype: "float64" });
}
/** A number as pytorch.py writes it. */
export const fmt = (v: number): string => (Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : Object.is(v, -0) ? "-0.0" : String(v));

/** value; gradients of sum(value) per float input; tangent along ones; the op's error, or the derivative's. */
export interface Result { value?: string[]; grads?: string[][]; tangent?: string; error?: string; gradError?: string }

/** chainrule's value, gradients of sum(value) and tangent along ones for one case. */
export function evaluate(c: Case): Result {
  const f = OPS[c.op]!;
  const xs = c.args.map(decode);
  let y: Tensor;
  try {
    y = f(...xs);
  } catch (e) {
    return { error: (e as Error).message.split("\n")[0]!.slice(0, 120) };
  }
  const r: Result = { value: Array.from(y.data, (v) => fmt(Number(v))) };
  if (y.dtype !== "float64") return r;
  const floats = xs.map((x, i) => [x, i] as const).filter(([x]) => x.dtype === "float64").map(([, i]) => i);
  const g = (...fl: Tensor[]) => {
    const all = [...xs];
    floats.forEach((i, k) => (all[i] = fl[k]!));
    return cr.sum(f(...all));
  };
  const fl = floats.map((i) => xs[i]!);
  try {
    const gs = grad(g, { argnums: floats.map((_, k) => k) })(...fl) as unknown as Tensor[];
    r.grads = (Array.isArray(gs) ? gs : [gs]).map((t) => Array.from(t.data, (v) => fmt(v)));
    const [, t] = jvp((...a: Tensor[]) => g(...a), fl, fl.map((x) => cr.onesLike(x)));
    r.tangent = fmt(t.item());
  } catch (e) {
    r.gradError = (e as Error).message.split("\n")[0]!.slice(0, 120);
  }
  return r;
}
