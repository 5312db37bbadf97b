import { Tensor, type TensorLike } from "../core/tensor.js";
import { GradientError, ShapeError, ValueError } from "../core/errors.js";
import { allocate, isFloat } from "../core/dtype.js";
import { fmtShape } from "../core/shape.js";
import { reshape, stack, toTensor, zeros } from "../ops/index.js";
import { grad, jvp, vjp } from "./transforms.js";

/** Options for `jacfwd`, `jacrev` and `hessian`. */
export interface JacobianOptions<N extends number | readonly number[]> {
  /** Which positional arguments to differentiate: a number (default 0) or an array (gives an array of Jacobians). */
  argnums?: N;
}

type Jacobians<N> = N extends number ? Tensor : Tensor[];

function selected(op: string, argnums: number | readonly number[], args: readonly unknown[]): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= args.length) {
      throw new ValueError(`${op}: argnums ${JSON.stringify(argnums)} is out of range: the function was called with ${args.length} argument(s)`);
    }
    const v = args[a];
    if (!(v instanceof Tensor) && typeof v !== "number") throw new ValueError(`${op}: argument ${a} must be a tensor or a number, got ${typeof v}`);
  }
  return list;
}

/** A concrete tensor of `like`'s shape and dtype that is 1 at flat index k and 0 elsewhere. */
function basis(like: Tensor, k: number): Tensor {
  const data = allocate(like.dtype, like.size);
  data[k] = 1;
  return Tensor._concrete(data, like.shape, like.dtype);
}

/**
 * Assembles a Jacobian of shape [...outShape, ...inShape] from per-element results: rows (gradients
 * shaped like the input, one per output element) or columns (tangents shaped like the output, one per
 * input element).
 */
function assemble(parts: Tensor[], outShape: readonly number[], inShape: readonly number[], kind: "rows" | "columns", dtype: Tensor["dtype"]): Tensor {
  const shape = [...outShape, ...inShape];
  if (parts.length === 0) return zeros(shape, dtype);
  return reshape(stack(parts, kind === "rows" ? 0 : outShape.length), shape);
}

function checkOutput(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new GradientError(`${op}: f must return a single tensor, got ${Array.isArray(out) ? "an array" : typeof out}`);
  if (!isFloat(out.dtype)) throw new GradientError(`${op}: f must return a float tensor, got dtype ${out.dtype}`);
  return out;
}

/**
 * Jacobian by reverse mode (JAX's `jacrev`): one forward evaluation, then one pullback per output
 * element. Cheap when the output is smaller than the input.
 * @param f returns one float tensor of shape O
 * @returns a function giving, for an argument of shape I, the Jacobian of shape [...O, ...I]
 *   (an array of them for an array `argnums`)
 * @throws GradientError when f returns something other than a float tensor
 */
export function jacrev<Args extends TensorLike[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Tensor,
  options: JacobianOptions<N> = {},
): (...args: Args) => Jacobians<N> {
  const argnums = options.argnums ?? 0;
  return (...args: Args): Jacobians<N> => {
    const nums = selected("jacrev", argnums, args);
    const primals = nums.map((i) => toTensor(args[i]!));
    const partial = (...xs: Tensor[]): Tensor => {
      const full = [...args] as unknown as TensorLike[];
      nums.forEach((i, k) => (full[i] = xs[k]!));
      return (f as (...a: TensorLike[]) => Tensor)(...full);
    };
    const [outRaw, pullback] = vjp(partial, ...primals);
    const out = checkOutput("jacrev", outRaw);
    const rows: Tensor[][] = nums.map(() => []);
    for (let k = 0; k < out.size; k++) {
      const cts = pullback(basis(out, k));
      cts.forEach((c, j) => rows[j]!.push(c));
    }
    const jacs = nums.map((_, j) => assemble(rows[j]!, out.shape, primals[j]!.shape, "rows", out.dtype));
    return (typeof argnums === "number" ? jacs[0]! : jacs) as Jacobians<N>;
  };
}

/**
 * Jacobian by forward mode (JAX's `jacfwd`): one JVP per input element. Cheap when the input is
 * smaller than the output.
 * @param f returns one float tensor of shape O
 * @returns a function giving, for an argument of shape I, the Jacobian of shape [...O, ...I]
 *   (an array of them for an array `argnums`)
 * @throws GradientError when f returns something other than a float tensor; DTypeError for int arguments
 */
export function jacfwd<Args extends TensorLike[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Tensor,
  options: JacobianOptions<N> = {},
): (...args: Args) => Jacobians<N> {
  const argnums = options.argnums ?? 0;
  return (...args: Args): Jacobians<N> => {
    const nums = selected("jacfwd", argnums, args);
    const jacs = nums.map((i) => {
      const x = toTensor(args[i]!);
      const one = (v: Tensor): Tensor => {
        const full = [...args] as unknown as TensorLike[];
        full[i] = v;
        return (f as (...a: TensorLike[]) => Tensor)(...full);
      };
      const cols: Tensor[] = [];
      let out: Tensor | null = null;
      for (let k = 0; k < x.size; k++) {
        const [o, t] = jvp(one, [x], [basis(x, k)]);
        out = checkOutput("jacfwd", o);
        cols.push(t);
      }
      if (out === null) out = checkOutput("jacfwd", one(x));
      return assemble(cols, out.shape, x.shape, "columns", out.dtype);
    });
    return (typeof argnums === "number" ? jacs[0]! : jacs) as Jacobians<N>;
  };
}

/**
 * Hessian of a scalar function (JAX's `hessian`): `jacfwd(jacrev(f))`, forward-over-reverse.
 * @param f returns a float scalar
 * @returns a function giving, for an argument of shape I, the Hessian of shape [...I, ...I]
 * @throws GradientError when f does not return a float tensor
 */
export function hessian<Args extends TensorLike[]>(f: (...args: Args) => Tensor, options: { argnums?: number } = {}): (...args: Args) => Tensor {
  const argnums = options.argnums ?? 0;
  return jacfwd(jacrev(f, { argnums }), { argnums }) as (...args: Args) => Tensor;
}

/**
 * Hessian-vector product H·v without forming H, by forward-over-reverse: the JVP of `grad(f)` at
 * `primals` along `tangents` (one gradient evaluation's cost, a few times over).
 * @param f returns a float scalar
 * @param primals the point, one tensor (or number) per argument of f
 * @param tangents one direction per argument, shaped like `primals`
 * @returns one tensor per argument: Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ
 * @throws ValueError when primals and tangents differ in length; ShapeError when a tangent's shape differs
 */
export function hvp<Args extends TensorLike[]>(f: (...args: Args) => Tensor, primals: Args, tangents: Args): Tensor[] {
  if (primals.length !== tangents.length) {
    throw new ValueError(`hvp: primals and tangents must have the same length, got ${primals.length} and ${tangents.length}`);
  }
  if (primals.length === 0) throw new ValueError("hvp: needs at least one primal");
  const all = primals.map((_, i) => i);
  const gradAll = grad(f as (...a: TensorLike[]) => Tensor, { argnums: all }) as (...a: TensorLike[]) => Tensor[];
  const ps = primals.map((p) => toTensor(p));
  const ts = tangents.map((t, i) => {
    const tt = toTensor(t, ps[i]!.dtype);
    if (tt.shape.length !== ps[i]!.shape.length || tt.shape.some((d, k) => d !== ps[i]!.shape[k])) {
      throw new ShapeError(`hvp: tangent ${i} has shape ${fmtShape(tt.shape)}, expected ${fmtShape(ps[i]!.shape)} (its primal's shape)`);
    }
    return tt;
  });
  const [, out] = jvp((...xs: Tensor[]) => gradAll(...xs), ps, ts);
  return out;
}
