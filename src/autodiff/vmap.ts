import { Tensor } from "../core/tensor.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";
import { moveAxis } from "../core/batching.js";
import { broadcastTo, reshape, toTensor } from "../ops/index.js";
import { Trace } from "./trace.js";
import { leaves, rebuild, type Pytree } from "./tree.js";

/**
 * Where the batch axis is, for one leaf: an axis (negative counts from the end) or null for "not
 * batched". Given for a whole argument or output it applies to every leaf under it; given as a tree,
 * it must mirror the argument's structure (a prefix of it, as JAX's `in_axes`).
 */
export type AxisTree = number | null | readonly AxisTree[] | { readonly [key: string]: AxisTree };

/** Options for `vmap`. */
export interface VmapOptions {
  /**
   * Batch axis of each argument: one AxisTree for all arguments, or an array with one entry per
   * argument. Default 0 (every leaf of every argument is batched along its first axis).
   */
  inAxes?: AxisTree;
  /** Where the batch axis goes in each output leaf (an AxisTree over the output). Default 0. */
  outAxes?: AxisTree;
}

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/**
 * Spreads an axis tree over the leaves of `tree`: a number or null covers everything under it.
 * @throws ValueError naming `where` when the axis tree's structure does not match
 */
function axesOf(spec: AxisTree | undefined, tree: unknown, where: string): (number | null)[] {
  if (spec === undefined || spec === null || typeof spec === "number") {
    if (typeof spec === "number" && !Number.isInteger(spec)) throw new ValueError(`vmap: ${where}: an axis must be an integer or null, got ${spec}`);
    return leaves(tree).map(() => (spec === undefined ? 0 : spec));
  }
  if (tree instanceof Tensor || typeof tree === "number") {
    throw new ValueError(`vmap: ${where} is a single tensor, but its axes are given as ${describe(spec)}; give a number or null`);
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length) {
      throw new ValueError(`vmap: ${where}: the axes are an array of ${spec.length}, but the value is ${Array.isArray(tree) ? `an array of ${tree.length}` : describe(tree)}`);
    }
    return spec.flatMap((s, i) => axesOf(s, tree[i], `${where}[${i}]`));
  }
  if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
    throw new ValueError(`vmap: ${where}: the axes are an object, but the value is ${describe(tree)}`);
  }
  const o = tree as Record<string, unknown>;
  const s = spec as Record<string, AxisTree>;
  const keys = Object.keys(o);
  for (const k of Object.keys(s)) if (!(k in o)) throw new ValueError(`vmap: ${where}: the axes name key "${k}", which the value does not have (keys: ${keys.join(", ")})`);
  return keys.flatMap((k) => {
    if (!(k in s)) throw new ValueError(`vmap: ${where}: the axes have no entry for key "${k}"`);
    return axesOf(s[k], o[k], `${where}.${k}`);
  });
}

/** `axis` in [−rank, rank) as a non-negative axis. @throws ShapeError naming `where` */
function normalize(axis: number, rank: number, where: string, shape: readonly number[]): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`vmap: ${where} has shape ${fmtShape(shape)}, which has no axis ${axis}; expected an axis in [${-rank}, ${rank - 1}] or null`);
  return a;
}

/**
 * Vectorizing map (JAX's `vmap`): `vmap(f)` evaluates f on every example of a batch at once. Inside f
 * each batched argument looks like one example (its batch axis removed); every op runs once on the
 * whole batch through its primitive's batching rule, never as a loop over examples. Composes with
 * `grad`, `vjp`, `jvp`, `jacfwd`, `jacrev`, `nameScope` and itself in any order: `vmap(grad(loss),
 * { inAxes: [null, 0, 0] })(params, xs, ys)` gives per-example gradients.
 * @param f takes and returns pytrees of tensors
 * @param options.inAxes per argument: the batch axis (negative from the end), null for an argument
 *   shared by all examples, or a tree of those mirroring the argument (default 0)
 * @param options.outAxes where the batch axis goes in the outputs (default 0); an output that does not
 *   depend on the batch is repeated along it, except under null
 * @returns a function of the same arguments returning f's outputs with a batch axis
 * @throws ValueError when batched arguments disagree in batch size (naming both), when no argument is
 *   batched, or when an axis tree does not match its argument; ShapeError for an axis out of range
 */
export function vmap<Args extends Pytree[], Out extends Pytree>(f: (...args: Args) => Out, options: VmapOptions = {}): (...args: Args) => Out {
  if (typeof f !== "function") throw new ValueError(`vmap: f must be a function, got ${describe(f)}; e.g. vmap((x) => x.sum())`);
  return (...args: Args): Out => {
    const inAxes = options.inAxes;
    let perArg: (AxisTree | undefined)[];
    if (Array.isArray(inAxes)) {
      if (inAxes.length !== args.length) {
        throw new ValueError(`vmap: inAxes has ${inAxes.length} entries, but the function was called with ${args.length} argument(s); give one entry per argument (or one number for all)`);
      }
      perArg = inAxes as AxisTree[];
    } else if (inAxes !== undefined && inAxes !== null && typeof inAxes === "object") {
      throw new ValueError("vmap: inAxes must be a number, null, or an array with one entry per argument; got an object");
    } else perArg = args.map(() => inAxes as number | null | undefined);

    // First pass: the batch size, and which argument set it (for the error).
    let size = -1;
    let sizeFrom = "";
    const prepared = args.map((arg, i) => {
      const axes = axesOf(perArg[i], arg, `argument ${i}`);
      const ls = leaves(arg);
      return ls.map((leaf, j) => {
        const where = ls.length > 1 ? `argument ${i} (leaf ${j})` : `argument ${i}`;
        const axis = axes[j]!;
        if (axis === null) return { value: leaf, axis: null };
        const t = leaf instanceof Tensor ? leaf : toTensor(leaf);
        const a = normalize(axis, t.rank, where, t.shape);
        const n = t.shape[a]!;
        if (size === -1) {
          size = n;
          sizeFrom = `${where} has size ${n} along axis ${a}`;
        } else if (n !== size) {
          throw new ValueError(`vmap: batch sizes differ: ${sizeFrom}, but ${where} has size ${n} along axis ${a} (shape ${fmtShape(t.shape)}); every batched argument needs the same size along its inAxes`);
        }
        return { value: t, axis: a };
      });
    });
    if (size === -1) throw new ValueError("vmap: no argument is batched (every inAxes entry is null); at least one argument needs a batch axis");

    const trace = new Trace("batch", undefined, size);
    const boxed = args.map((arg, i) =>
      rebuild(arg, prepared[i]!.map(({ value, axis }) => (axis === null ? value : Tensor._boxBatch(moveAxis(value as Tensor, axis, 0), trace)))),
    );
    const out = (f as (...a: unknown[]) => unknown)(...boxed);
    const outLeaves = leaves(out);
    const outAxes = axesOf(options.outAxes, out, "the output");
    const results = outLeaves.map((leaf, k) => {
      const where = outLeaves.length > 1 ? `output leaf ${k}` : "the output";
      const t = leaf instanceof Tensor ? leaf : toTensor(leaf);
      const axis = outAxes[k]!;
      const batched = t._trace === trace;
      if (axis === null) {
        if (batched) throw new ValueError(`vmap: ${where} depends on the batch, but its outAxes entry is null; give it an axis`);
        return t;
      }
      const full = batched ? t._primal! : broadcastTo(reshape(t, [1, ...t.shape]), [size, ...t.shape]);
      return moveAxis(full, 0, normalize(axis, full.rank, where, full.shape));
    });
    return rebuild(out, results) as Out;
  };
}
