import { Tensor, type TensorLike } from "../core/tensor.js";
import { DTypeError, GradientError, ShapeError, ValueError } from "../core/errors.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { isFloat } from "../core/dtype.js";
import { Node, Trace } from "./trace.js";
import { backwardTape } from "./reverse.js";
import { seedZeros, sumZeros, withStructuralZeros } from "./strong-zeros.js";
import { leaves, rebuild, type Pytree, type TensorTree } from "./tree.js";
import { add, cast, onesLike, toTensor, zerosLike } from "../ops/index.js";

function asTensor(op: string, what: string, v: unknown): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === "number") return toTensor(v);
  throw new ValueError(`${op}: ${what} must be a tensor or a number, got ${v === null ? "null" : typeof v}`);
}

function checkDifferentiable(op: string, where: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(`${op}: cannot differentiate with respect to ${where}: it has dtype ${t.dtype}; only float32/float64 inputs have gradients (cast with .astype("float32"), or leave it out of argnums)`);
  }
}

/** @throws ValueError when `f` is not a function (e.g. `grad(5)`) */
function checkFunction(op: string, f: unknown): void {
  if (typeof f !== "function") throw new ValueError(`${op}: f must be a function, got ${f === null ? "null" : typeof f}; e.g. ${op}((x) => x.square())`);
}

function normalizeArgnums(op: string, argnums: number | readonly number[], nargs: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= nargs) {
      throw new ValueError(`${op}: argnums ${JSON.stringify(argnums)} is out of range: the function was called with ${nargs} argument(s)`);
    }
  }
  return list;
}

/** One reverse trace over `args[argnums]`: the boxed leaves and a pullback to their cotangents. */
function traceReverse(op: string, f: (...args: never[]) => unknown, args: readonly unknown[], argnums: readonly number[]) {
  const trace = new Trace("reverse");
  const inputs: { primal: Tensor; node: Node }[][] = [];
  const boxedArgs = [...args];
  for (const a of argnums) {
    const ls = leaves(args[a]);
    const boxes = ls.map((leaf, j) => {
      const primal = asTensor(op, `argument ${a}`, leaf);
      checkDifferentiable(op, ls.length > 1 ? `leaf ${j} of argument ${a}` : `argument ${a}`, primal);
      const box = Tensor._box(primal, trace);
      const node = Node.leaf(primal);
      box._node = node;
      box.name = primal.name;
      return { box, primal, node };
    });
    inputs.push(boxes);
    boxedArgs[a] = rebuild(args[a], boxes.map((b) => b.box));
  }
  const out = (f as (...xs: unknown[]) => unknown)(...boxedArgs);
  const unbox = (v: unknown): { value: Tensor; node: Node | null } => {
    const t = asTensor(op, "the function's output", v);
    return t._trace === trace ? { value: t._primal!, node: t._node } : { value: t, node: null };
  };
  // `once`: the caller will not pull back again (grad, valueAndGrad), so the sweep may release the graph.
  const pullback = (outputs: { value: Tensor; node: Node | null }[], cts: Tensor[], once = false): TensorLike[][] => {
    for (const group of inputs) for (const i of group) i.node.ct = null;
    // Cotangents are linear: seeding every output at once and sweeping the tape once gives the sum
    // of the per-output sweeps.
    outputs.forEach((o, k) => {
      if (o.node === null) return;
      const ct = seedZeros(cts[k]!);
      o.node.ct = o.node.ct === null ? ct : withStructuralZeros(add(o.node.ct, ct), sumZeros(o.node.ct, ct));
    });
    backwardTape(trace.tape!, once);
    return inputs.map((g) => g.map((i) => {
      const c = i.node.ct;
      i.node.ct = null;
      return c ?? zerosLike(i.primal);
    }));
  };
  return { out, unbox, pullback, argsTree: argnums.map((a) => args[a]) };
}

function checkCotangent(op: string, ct: Tensor, out: Tensor, k: number): Tensor {
  if (!sameShape(ct.shape, out.shape)) {
    throw new ShapeError(`${op}: cotangent ${k} has shape ${fmtShape(ct.shape)}, expected ${fmtShape(out.shape)} (the output's shape)`);
  }
  return ct.dtype === out.dtype || !isFloat(out.dtype) ? ct : cast(ct, out.dtype);
}

/**
 * Reverse mode with an explicit cotangent (JAX's `vjp`). Evaluates `f(...primals)` once, recording
 * the graph, and returns the output and a pullback that maps an output cotangent to one cotangent per
 * primal. The pullback can be called many times. Primals and outputs may be pytrees.
 * @param primals float tensors (or numbers, taken as float32 scalars, or pytrees of them)
 * @returns `[out, pullback]`; `pullback(ct)` needs `ct` with the structure and shapes of `out`
 * @throws DTypeError for an int/bool primal; ShapeError for a cotangent of the wrong shape
 */
export function vjp<Args extends Pytree[], Out extends Pytree>(
  f: (...args: Args) => Out,
  ...primals: Args
): [Out, (ct: Out) => Args] {
  checkFunction("vjp", f);
  const argnums = primals.map((_, i) => i);
  const r = traceReverse("vjp", f as (...args: never[]) => unknown, primals, argnums);
  const outs = leaves(r.out).map(r.unbox);
  const value = rebuild(r.out, outs.map((o) => o.value)) as Out;
  const pullback = (ct: Out): Args => {
    const ctLeaves = leaves(ct);
    if (ctLeaves.length !== outs.length) {
      throw new ShapeError(`vjp: the cotangent has ${ctLeaves.length} tensor(s), expected ${outs.length} (one per output)`);
    }
    const cts = ctLeaves.map((c, k) => checkCotangent("vjp", asTensor("vjp", `cotangent ${k}`, c), outs[k]!.value, k));
    const grads = r.pullback(outs, cts);
    return primals.map((p, i) => rebuild(p, grads[i]!)) as unknown as Args;
  };
  return [value, pullback];
}

function scalarSeed(op: string, out: Tensor): Tensor {
  if (out.size !== 1) {
    throw new GradientError(`${op}: f must return a scalar (shape []), got shape ${fmtShape(out.shape)}; use vjp with an explicit cotangent`);
  }
  if (!isFloat(out.dtype)) throw new DTypeError(`${op}: f must return a float scalar, got dtype ${out.dtype}`);
  // Under jit the seed is staged, as JAX's ones_like is: the pullback's broadcast of it (sum's VJP) then
  // reads one element in a fused loop instead of a full-size constant, and jit drops the products by it.
  return out._trace?.liftConstant?.(onesLike(out)) ?? onesLike(out);
}

/** The gradients that `argnums` selects: the tree of one argument, or a tuple of trees for an array of argnums. */
export type Grads<Args extends readonly unknown[], N> = N extends number
  ? TensorTree<Args[N]>
  : { [K in keyof N]: N[K] extends number ? TensorTree<Args[N[K]]> : never };

/** Options for `grad` and `valueAndGrad`. */
export interface GradOptions<N extends number | readonly number[]> {
  /** Which positional arguments to differentiate: a number (default 0) or an array (gives an array of gradients). */
  argnums?: N;
}

function gradCore(op: string, f: (...args: never[]) => unknown, args: unknown[], argnums: number | readonly number[], hasAux: boolean) {
  const nums = normalizeArgnums(op, argnums, args.length);
  const r = traceReverse(op, f, args, nums);
  let outV: unknown = r.out;
  let aux: unknown = undefined;
  if (hasAux) {
    if (!Array.isArray(r.out) || r.out.length !== 2) throw new ValueError(`${op}: with hasAux, f must return [value, aux]`);
    [outV, aux] = r.out as [unknown, unknown];
  }
  const o = r.unbox(outV);
  const seed = scalarSeed(op, o.value);
  const grads = r.pullback([o], [seed], true);
  const trees = nums.map((a, i) => rebuild(args[a], grads[i]!));
  return { value: o.value, aux, grads: typeof argnums === "number" ? trees[0] : trees };
}

/**
 * The gradient transform (JAX's `grad`): returns a function computing ∂f/∂args[argnums] by one
 * reverse-mode sweep. Composable: `grad(grad(f))` gives second derivatives.
 * @param f returns a float scalar (shape [])
 * @returns a function of the same arguments returning gradients shaped like the chosen arguments
 * @throws GradientError when f returns a non-scalar (use `vjp`); DTypeError for int/bool arguments
 */
export function grad(f: (x: Tensor) => Tensor, options?: { argnums?: 0 }): (x: Tensor) => Tensor;
export function grad<Args extends unknown[]>(f: (...args: Args) => Tensor, options?: { argnums?: 0 }): (...args: Args) => TensorTree<Args[0]>;
export function grad<Args extends unknown[], const N extends number>(f: (...args: Args) => Tensor, options: { argnums: N }): (...args: Args) => TensorTree<Args[N]>;
export function grad<Args extends unknown[], const N extends readonly number[]>(f: (...args: Args) => Tensor, options: { argnums: N }): (...args: Args) => Grads<Args, N>;
export function grad(f: (...args: never[]) => Tensor, options: { argnums?: number | readonly number[] } = {}): (...args: never[]) => unknown {
  checkFunction("grad", f);
  const argnums = options.argnums ?? 0;
  return (...args: unknown[]) => gradCore("grad", f, args, argnums, false).grads;
}

/**
 * Like `grad`, also returning the value: `[value, grads]`, or `[[value, aux], grads]` with `hasAux`
 * when f returns `[value, aux]` (JAX's `value_and_grad`).
 * @throws GradientError when the value is not a scalar
 */
export function valueAndGrad(f: (x: Tensor) => Tensor, options?: { argnums?: 0; hasAux?: false }): (x: Tensor) => [Tensor, Tensor];
export function valueAndGrad<Args extends unknown[]>(
  f: (...args: Args) => Tensor,
  options?: { argnums?: 0; hasAux?: false },
): (...args: Args) => [Tensor, TensorTree<Args[0]>];
export function valueAndGrad<Args extends unknown[], const N extends number | readonly number[]>(
  f: (...args: Args) => Tensor,
  options: { argnums: N; hasAux?: false },
): (...args: Args) => [Tensor, Grads<Args, N>];
export function valueAndGrad<Args extends unknown[], Aux>(
  f: (...args: Args) => [Tensor, Aux],
  options: { argnums?: 0; hasAux: true },
): (...args: Args) => [[Tensor, Aux], TensorTree<Args[0]>];
export function valueAndGrad<Args extends unknown[], Aux, const N extends number | readonly number[]>(
  f: (...args: Args) => [Tensor, Aux],
  options: { argnums: N; hasAux: true },
): (...args: Args) => [[Tensor, Aux], Grads<Args, N>];
export function valueAndGrad(
  f: (...args: never[]) => unknown,
  options: { argnums?: number | readonly number[]; hasAux?: boolean } = {},
): (...args: never[]) => unknown {
  checkFunction("valueAndGrad", f);
  return (...args: unknown[]) => {
    const r = gradCore("valueAndGrad", f, args, options.argnums ?? 0, options.hasAux ?? false);
    return options.hasAux ? [[r.value, r.aux], r.grads] : [r.value, r.grads];
  };
}

/**
 * Forward mode (JAX's `jvp`): evaluates f at `primals` while pushing `tangents` through each op's JVP
 * rule, one sweep for one input direction.
 * @param primals float tensors or pytrees
 * @param tangents same structure, shapes and float dtypes as `primals`
 * @returns `[out, tangentOut]`; tangentOut is zeros where the output does not depend on the inputs
 * @throws ShapeError when a tangent's shape differs from its primal's
 */
export function jvp<Args extends Pytree[], Out extends Pytree>(
  f: (...args: Args) => Out,
  primals: Args,
  tangents: Args,
): [Out, Out] {
  checkFunction("jvp", f);
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new ValueError(`jvp: primals and tangents must be arrays of the same length, got ${Array.isArray(primals) ? primals.length : typeof primals} and ${Array.isArray(tangents) ? tangents.length : typeof tangents}`);
  }
  const trace = new Trace("forward");
  const boxedArgs = primals.map((p, i) => {
    const ps = leaves(p);
    const ts = leaves(tangents[i]);
    if (ps.length !== ts.length) throw new ValueError(`jvp: tangent ${i} has ${ts.length} leaves, primal ${i} has ${ps.length}`);
    const boxes = ps.map((leaf, j) => {
      const primal = asTensor("jvp", `primal ${i}`, leaf);
      checkDifferentiable("jvp", `primal ${i}`, primal);
      let t = asTensor("jvp", `tangent ${i}`, ts[j]);
      if (!sameShape(t.shape, primal.shape)) {
        throw new ShapeError(`jvp: tangent ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(primal.shape)} (its primal's shape)`);
      }
      if (t.dtype !== primal.dtype) t = cast(t, primal.dtype);
      const box = Tensor._box(primal, trace);
      box._tangent = seedZeros(t);
      box.name = primal.name;
      return box;
    });
    return rebuild(p, boxes);
  });
  const out = (f as (...xs: unknown[]) => unknown)(...boxedArgs);
  const outLeaves = leaves(out).map((v) => asTensor("jvp", "the function's output", v));
  const values = outLeaves.map((t) => (t._trace === trace ? t._primal! : t));
  const tans = outLeaves.map((t, k) => (t._trace === trace && t._tangent !== null ? t._tangent : zerosLike(values[k]!)));
  return [rebuild(out, values) as Out, rebuild(out, tans) as Out];
}
