// chainrule's side of the README's edge-conventions table (see pytorch.py): value and derivative(s) of each op
// at the inputs of cases.json, float64. Run with `npx tsx tools/edge-conventions/chainrule.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as cr from "../../src/index.js";
import { grad, tensor, type Tensor } from "../../src/index.js";
const text = readFileSync(new URL("./cases.json", import.meta.url), "utf8");
// JSON has no NaN or ±Infinity: the cases spell them bare; read them as strings first.
const C = JSON.parse(text.replace(/(?<!")-Infinity(?!")/g, '"-inf"').replace(/(?<![-"])Infinity(?!")/g, '"inf"').replace(/(?<!")NaN(?!")/g, '"nan"'), (_k, v) => (v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : v));
const s = (v: number) => (Object.is(v, -0) ? "-0.0" : Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v));
const f64 = (v: number | number[]) => tensor(v as number[], { dtype: "float64" });
const U: Record<string, (x: Tensor) => Tensor> = { relu: cr.relu, leakyRelu: (x) => cr.leakyRelu(x), elu: (x) => cr.elu(x), abs: cr.abs, sign: cr.sign, sqrt: cr.sqrt, rsqrt: cr.rsqrt, log: cr.log, log1p: cr.log1p, exp: cr.exp, expm1: cr.expm1, reciprocal: cr.reciprocal, square: cr.square, neg: cr.neg, cos: cr.cos, sinh: cr.sinh, cosh: cr.cosh, log2: cr.log2, log10: cr.log10, exp2: cr.exp2, acos: cr.acos, round: cr.round, sin: cr.sin, tan: cr.tan, tanh: cr.tanh, sigmoid: cr.sigmoid, softplus: cr.softplus, gelu: (x) => cr.gelu(x), erf: cr.erf, atan: cr.atan, asinh: cr.asinh, acosh: cr.acosh, atanh: cr.atanh, asin: cr.asin, floor: cr.floor, clip: (x) => cr.clip(x, -1, 1) };
const B: Record<string, (a: Tensor, b: Tensor) => Tensor> = { add: cr.add, mul: cr.mul, remainder: cr.remainder, maximum: cr.maximum, minimum: cr.minimum, div: cr.div, pow: cr.pow, atan2: cr.atan2, logaddexp: cr.logaddexp };
const R: Record<string, (x: Tensor) => Tensor> = { mean: (x) => cr.mean(x), variance: (x) => cr.variance(x), max: (x) => cr.max(x), min: (x) => cr.min(x), sum: (x) => cr.sum(x), prod: (x) => cr.prod(x), norm: (x) => cr.norm(x), std: (x) => cr.std(x), logsumexp: (x) => cr.nn.logsumexp(x) };
const out: Record<string, string[]> = {};
for (const [kind, table] of Object.entries(C) as [string, Record<string, Record<string, unknown[]>>][]) {
  for (const [op, edges] of Object.entries(table)) for (const [edge, cases] of Object.entries(edges)) cases.forEach((args, i) => {
    let r: string[];
    if (kind === "unary") { const x = f64(args as number); r = [s(U[op]!(x).item()), s(grad(U[op]!)(x).item())]; }
    else if (kind === "binary") { const [a, b] = (args as number[]).map((v) => f64(v)); const [ga, gb] = grad((p: Tensor, q: Tensor) => B[op]!(p, q), { argnums: [0, 1] })(a!, b!) as unknown as Tensor[]; r = [s(B[op]!(a!, b!).item()), s(ga!.item()), s(gb!.item())]; }
    else { const x = f64(args as number[]); r = [s(R[op]!(x).item()), ...Array.from(grad(R[op]!)(x).data).map(s)]; }
    out[`${op}|${edge}|${i}`] = r;
  });
}
writeFileSync(join(tmpdir(), "edge-conventions-chainrule.json"), JSON.stringify(out));
console.log(Object.keys(out).length);
