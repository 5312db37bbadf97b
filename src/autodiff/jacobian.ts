import { Tensor, type TensorLike } from "../core/tensor.js";
import { DTypeError, GradientError, ShapeError, ValueError } from "../core/errors.js";
import { allocate, isFloat, type DType } from "../core/dtype.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { reshape, slice, toTensor, transpose, zeros } from "../ops/index.js";
import { grad, jvp, vjp, type Grads } from "./transforms.js";
import { leaves, rebuild, type Pytree, type TensorTree } from "./tree.js";
import { vmap } from "./vmap.js";

// Jacobians through vmap (JAX's jacrev/jacfwd): the pullback is mapped over the rows of an identity
// (all output elements at once) and the JVP over its columns (all input elements at once), so one
// batched sweep replaces one sweep per element. Inputs and outputs are pytrees; the result nests as
// JAX's: the output's structure outside, the (selected) inputs' structure inside each output leaf.

/** Options for `jacfwd`, `jacrev` and `hessian`. */
export interface JacobianOptions<N extends number | readonly number[]> {
  /** Which positional arguments to differentiate: a number (default 0) or an array (gives an array of Jacobians). */
  argnums?: N;
}

/** `T` with every leaf replaced by `L`. */
type ReplaceLeaves<T, L> = T extends Tensor | number
  ? L
  : T extends readonly unknown[]
    ? { [K in keyof T]: ReplaceLeaves<T[K], L> }
    : T extends object
      ? { [K in keyof T]: ReplaceLeaves<T[K], L> }
      : never;

/**
 * The type of a Jacobian: the output's structure, each leaf holding the gradient structure of the
 * selected arguments (a tensor for a tensor output and a tensor argument).
 */
export type Jacobian<Args extends readonly unknown[], N, Out> = ReplaceLeaves<Out, Grads<Args, N>>;

/** Checks argnums and the selected arguments' leaves (float tensors or numbers). */
function selected(op: string, argnums: number | readonly number[], args: readonly unknown[]): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= args.length) {
      throw new ValueError(`${op}: argnums ${JSON.stringify(argnums)} is out of range: the function was called with ${args.length} argument(s)`);
    }
    const ls = leaves(args[a]);
    if (ls.length === 0 && !(args[a] instanceof Tensor)) {
      throw new ValueError(`${op}: argument ${a} must be a tensor, a number or a pytree of them, got ${args[a] === null ? "null" : typeof args[a]}`);
    }
    ls.forEach((l, j) => {
      if (l instanceof Tensor && !isFloat(l.dtype)) {
        throw new DTypeError(`${op}: cannot differentiate with respect to ${ls.length > 1 ? `leaf ${j} of argument ${a}` : `argument ${a}`}: it has dtype ${l.dtype}; only float32/float64 inputs have derivatives`);
      }
    });
  }
  return list;
}

/** f as a function of the selected arguments only, the others fixed. */
function partialOf(f: (...a: never[]) => unknown, args: readonly unknown[], nums: readonly number[]) {
  return (...xs: Pytree[]): Pytree => {
    const full = [...args];
    nums.forEach((i, k) => (full[i] = xs[k]));
    return (f as (...a: unknown[]) => Pytree)(...full);
  };
}

/** The output's leaves, checked to be float tensors. */
function outputLeaves(op: string, out: unknown): Tensor[] {
  return leaves(out).map((l, k, all) => {
    const t = l instanceof Tensor ? l : toTensor(l);
    if (!isFloat(t.dtype)) throw new GradientError(`${op}: f must return float tensors, got dtype ${t.dtype} for ${all.length > 1 ? `output leaf ${k}` : "the output"}`);
    return t;
  });
}

/**
 * For leaves of `sizes` elements stacked into one basis of `total` = Σ sizes vectors: leaf k's part of
 * the identity, shape [total, ...shape_k], 1 at row offset_k + i, element i.
 */
function identityParts(like: readonly { shape: readonly number[]; dtype: DType; device?: string }[]): Tensor[] {
  const sizes = like.map((l) => l.shape.reduce((p, d) => p * d, 1));
  const total = sizes.reduce((p, s) => p + s, 0);
  let offset = 0;
  return like.map((l, k) => {
    const n = sizes[k]!;
    const data = allocate(l.dtype, total * n);
    for (let i = 0; i < n; i++) data[(offset + i) * n + i] = 1;
    offset += n;
    const part = Tensor._concrete(data, [total, ...l.shape], l.dtype);
    // The basis lives where the values it perturbs live.
    return l.device === "webgpu" ? part.to("webgpu") : part;
  });
}

/** Rows [offset, offset + n) of a stacked result `r` ([total, ...]). */
const rowsOf = (r: Tensor, offset: number, n: number): Tensor => (r.shape[0] === n ? r : slice(r, [offset], [offset + n]));

/** Assembles the nested result: for output leaf k and input leaf j of argument a, `block(k, a, j)`. */
function nest(out: unknown, argnums: number | readonly number[], args: readonly unknown[], nums: readonly number[], block: (k: number, a: number, j: number) => Tensor): unknown {
  const outLeaves = leaves(out);
  return rebuild(
    out,
    outLeaves.map((_, k) => {
      const perArg = nums.map((i, a) => rebuild(args[i], leaves(args[i]).map((_l, j) => block(k, a, j))));
      return typeof argnums === "number" ? perArg[0] : perArg;
    }),
  );
}

/**
 * Jacobian by reverse mode (JAX's `jacrev`): one forward evaluation, then the pullback mapped with
 * `vmap` over every row of the identity at once (one batched backward sweep). Cheap when the output is
 * smaller than the input.
 * @param f takes tensors, numbers or pytrees; returns a float tensor or a pytree of them
 * @returns a function giving the Jacobian: for an output leaf of shape O and an input leaf of shape I, a
 *   tensor of shape [...O, ...I], nested as JAX's — the output's structure outside, the selected
 *   arguments' structure inside (an array of argument structures for an array `argnums`)
 * @throws GradientError when an output leaf is not a float tensor; DTypeError for int arguments;
 *   ValueError for argnums out of range
 */
export function jacrev<Args extends Pytree[], Out extends Pytree, const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Out,
  options: JacobianOptions<N> = {},
): (...args: Args) => Jacobian<Args, N, Out> {
  const argnums = options.argnums ?? 0;
  return (...args: Args): Jacobian<Args, N, Out> => {
    const nums = selected("jacrev", argnums, args);
    const [out, pullback] = vjp(partialOf(f as never, args, nums), ...(nums.map((i) => args[i]) as Pytree[]));
    const outs = outputLeaves("jacrev", out);
    const inLeaves = nums.map((i) => leaves(args[i]).map((l) => (l instanceof Tensor ? l : toTensor(l))));
    const total = outs.reduce((p, o) => p + o.size, 0);
    let block: (k: number, a: number, j: number) => Tensor;
    if (total === 0) {
      block = (k, a, j) => zeros([...outs[k]!.shape, ...inLeaves[a]![j]!.shape], outs[k]!.dtype);
    } else {
      const basis = identityParts(outs);
      const pulled = vmap((...cts: Tensor[]) => pullback(rebuild(out, cts) as Pytree) as Pytree)(...basis) as unknown as Pytree[];
      const stacked = pulled.map((tree) => leaves(tree) as Tensor[]);
      const offsets = outs.map((_, k) => outs.slice(0, k).reduce((p, o) => p + o.size, 0));
      block = (k, a, j) => {
        const o = outs[k]!;
        const r = rowsOf(stacked[a]![j]!, offsets[k]!, o.size);
        return reshape(r, [...o.shape, ...inLeaves[a]![j]!.shape]);
      };
    }
    return nest(out, argnums, args, nums, block) as Jacobian<Args, N, Out>;
  };
}

/**
 * Jacobian by forward mode (JAX's `jacfwd`): the JVP mapped with `vmap` over every column of the
 * identity at once (one batched forward sweep). Cheap when the input is smaller than the output.
 * @param f takes tensors, numbers or pytrees; returns a float tensor or a pytree of them
 * @returns the Jacobian, shaped and nested as `jacrev`'s
 * @throws GradientError when an output leaf is not a float tensor; DTypeError for int arguments;
 *   ValueError for argnums out of range
 */
export function jacfwd<Args extends Pytree[], Out extends Pytree, const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Out,
  options: JacobianOptions<N> = {},
): (...args: Args) => Jacobian<Args, N, Out> {
  const argnums = options.argnums ?? 0;
  return (...args: Args): Jacobian<Args, N, Out> => {
    const nums = selected("jacfwd", argnums, args);
    const partial = partialOf(f as never, args, nums);
    const primals = nums.map((i) => args[i] as Pytree);
    const inLeaves = nums.map((i) => leaves(args[i]).map((l) => (l instanceof Tensor ? l : toTensor(l))));
    const flatIn = inLeaves.flat();
    const total = flatIn.reduce((p, x) => p + x.size, 0);
    let out: unknown;
    let block: (k: number, a: number, j: number) => Tensor;
    if (total === 0) {
      out = partial(...primals);
      const outs = outputLeaves("jacfwd", out);
      block = (k, a, j) => zeros([...outs[k]!.shape, ...inLeaves[a]![j]!.shape], outs[k]!.dtype);
    } else {
      // Tangent trees shaped like the primals, each leaf its part of the identity's columns.
      const basis = identityParts(flatIn);
      let next = 0;
      const tangentTrees = primals.map((p, a) => rebuild(p, inLeaves[a]!.map(() => basis[next++]!)));
      const [value, pushed] = vmap((ts: Pytree[]) => jvp(partial, primals, ts), { outAxes: [null, 0] })(tangentTrees) as unknown as [Pytree, Pytree];
      out = value;
      const outs = outputLeaves("jacfwd", value);
      const cols = leaves(pushed) as Tensor[];
      const offsets: number[][] = [];
      let off = 0;
      inLeaves.forEach((ls, a) => (offsets[a] = ls.map((x) => ((off += x.size), off - x.size))));
      block = (k, a, j) => {
        const o = outs[k]!;
        const x = inLeaves[a]![j]!;
        const c = rowsOf(cols[k]!, offsets[a]![j]!, x.size); // [n_j, ...O]
        return reshape(transpose(reshape(c, [x.size, o.size])), [...o.shape, ...x.shape]);
      };
    }
    return nest(out, argnums, args, nums, block) as Jacobian<Args, N, Out>;
  };
}

/**
 * Hessian of a scalar function (JAX's `hessian`): `jacfwd(jacrev(f))`, forward-over-reverse, both
 * through vmap. Pytree arguments give JAX's nesting: H[a][b] holds ∂²f/∂a∂b for leaves a, b.
 * @param f returns a float scalar
 * @returns for an argument of shape I, the Hessian of shape [...I, ...I]; nested for pytrees and for an
 *   array `argnums` (one row of blocks per argument)
 * @throws GradientError when f does not return a float tensor
 */
export function hessian<Args extends Pytree[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Tensor,
  options: JacobianOptions<N> = {},
): (...args: Args) => Jacobian<Args, N, Grads<Args, N>> {
  const argnums = (options.argnums ?? 0) as N;
  return jacfwd(jacrev(f, { argnums }) as unknown as (...args: Args) => Pytree, { argnums }) as unknown as (...args: Args) => Jacobian<Args, N, Grads<Args, N>>;
}

/**
 * Hessian-vector product H·v without forming H, by forward-over-reverse: the JVP of `grad(f)` at
 * `primals` along `tangents` (one gradient evaluation's cost, a few times over).
 * @param f returns a float scalar
 * @param primals the point, one tensor, number or pytree per argument of f
 * @param tangents one direction per argument, with the structure and shapes of `primals`
 * @returns one tree per argument: Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ, shaped like that argument
 * @throws ValueError when primals and tangents differ in length or structure; ShapeError when a tangent's shape differs
 */
export function hvp<Args extends Pytree[]>(f: (...args: Args) => Tensor, primals: Args, tangents: Args): { [K in keyof Args]: TensorTree<Args[K]> } {
  if (primals.length !== tangents.length) {
    throw new ValueError(`hvp: primals and tangents must have the same length, got ${primals.length} and ${tangents.length}`);
  }
  if (primals.length === 0) throw new ValueError("hvp: needs at least one primal");
  const all = primals.map((_, i) => i);
  const gradAll = grad(f as (...a: unknown[]) => Tensor, { argnums: all }) as unknown as (...a: Pytree[]) => Pytree;
  const ts = primals.map((p, i) => {
    const pl = leaves(p);
    const tl = leaves(tangents[i]);
    if (pl.length !== tl.length) throw new ValueError(`hvp: tangent ${i} has ${tl.length} leaves, primal ${i} has ${pl.length}`);
    return rebuild(p, pl.map((leaf, j) => {
      const pt = leaf instanceof Tensor ? leaf : toTensor(leaf);
      const tt = toTensor(tl[j] as TensorLike, pt.dtype);
      if (!sameShape(tt.shape, pt.shape)) {
        throw new ShapeError(`hvp: tangent ${i}${pl.length > 1 ? ` (leaf ${j})` : ""} has shape ${fmtShape(tt.shape)}, expected ${fmtShape(pt.shape)} (its primal's shape)`);
      }
      return tt;
    }));
  });
  const pushed: unknown = jvp((...xs: Pytree[]) => gradAll(...xs), primals as Pytree[], ts as Pytree[])[1];
  return pushed as { [K in keyof Args]: TensorTree<Args[K]> };
}
