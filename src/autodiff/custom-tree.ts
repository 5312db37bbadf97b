import { Tensor } from "../core/tensor.js";
import { GradientError, ValueError } from "../core/errors.js";
import { isFloat, type DType } from "../core/dtype.js";
import { fmtShape, sameShape, sizeOf } from "../core/shape.js";
import { cast, concat, reshape, slice, toTensor } from "../ops/index.js";
import { leaves, rebuild } from "./tree.js";

// Pytrees at the boundary of a custom rule. The rules themselves (custom.ts) work on a flat list of
// tensors in and one tensor out, one trace level at a time; these adapters bring structured arguments
// and outputs to that form and back:
// - arguments: the leaves of the differentiable arguments, in order; the non-differentiable ones
//   (`nondiffArgnums`) are closed over and passed through untouched;
// - outputs: several output leaves are packed into one flat vector (concatenated) and unpacked by
//   slices, so a node still has one output and every transform (reverse, forward, vmap) sees ordinary
//   differentiable, batchable ops around it. The cotangent of the packed vector is the concatenation
//   of the leaves' cotangents, which the slices' own VJPs build.

function describe(v: unknown): string {
  return v === null ? "null" : v === undefined ? "undefined" : Array.isArray(v) ? "an array" : typeof v;
}

/**
 * The arguments of one call, split into the flat differentiable leaves and a way to rebuild the
 * argument list from new leaves.
 */
export class FlatArgs {
  /** Indices of the differentiable arguments. */
  readonly diff: number[];
  /** Number of leaves of each differentiable argument. */
  readonly counts: number[];
  /** The differentiable leaves, in order (numbers as they were given). */
  readonly leaves: (Tensor | number)[];

  /** @throws ValueError for a nondiffArgnums entry past the last argument */
  constructor(
    name: string,
    readonly raw: readonly unknown[],
    nondiff: ReadonlySet<number>,
  ) {
    for (const i of nondiff) if (i >= raw.length) throw new ValueError(`${name}: nondiffArgnums names argument ${i}, but the function was called with ${raw.length} argument(s)`);
    this.diff = raw.flatMap((_, i) => (nondiff.has(i) ? [] : [i]));
    this.counts = this.diff.map((i) => leaves(raw[i]).length);
    this.leaves = this.diff.flatMap((i) => leaves(raw[i]));
  }

  /** The argument list with the differentiable leaves replaced by `xs`; the others as given, or `fill` when set. */
  rebuild(xs: readonly unknown[], fill?: (i: number) => unknown): unknown[] {
    const out = this.raw.map((a, i) => (fill === undefined ? a : fill(i)));
    let k = 0;
    this.diff.forEach((i, a) => {
      out[i] = rebuild(this.raw[i], xs.slice(k, (k += this.counts[a]!)));
    });
    return out;
  }

  /** Flattens per-argument trees (bwd's cotangents) to per-leaf values; null or undefined covers a whole argument. */
  flattenPerArgument(name: string, what: string, trees: readonly unknown[]): unknown[] {
    return this.diff.flatMap((i, a) => {
      const c = trees[i];
      if (c === null || c === undefined) return new Array<null>(this.counts[a]!).fill(null);
      if (typeof c === "number" && this.counts[a] === 1) return [c];
      const cl = leaves(c);
      if (cl.length !== this.counts[a]) throw new GradientError(`${name}: ${what} with ${cl.length} leaves for argument ${i}, expected ${this.counts[a]} (the argument's structure)`);
      return cl;
    });
  }
}

/**
 * Packs a custom function's output, a tensor or a pytree of float tensors, into one tensor and back.
 * The first `pack` of a call fixes the layout (the structure, shapes and dtypes); later packs (the
 * same function at another level, fwd, a tangent) must match it. One instance serves one call.
 */
export class OutputPacking {
  private tree: unknown = undefined;
  private shapes: number[][] = [];
  private dtypes: DType[] = [];
  /** True when the output is one tensor: packing is the identity. */
  private single = true;
  private dtype: DType = "float32";

  constructor(private readonly name: string) {}

  /**
   * The output as one tensor (a pytree's leaves flattened and concatenated). `what` names the value in
   * errors ("f's output", "the JVP rule's tangent").
   * @throws GradientError when it does not match the layout
   */
  pack(out: unknown, what: string): Tensor {
    const first = this.tree === undefined;
    if (out instanceof Tensor && (first || this.single)) {
      if (first) this.tree = out;
      return out;
    }
    const ls = leaves(out);
    if (first) {
      if (typeof out === "number") {
        this.tree = out;
        return toTensor(out);
      }
      if (ls.length === 0) throw new GradientError(`${this.name}: ${what} must be a tensor or a pytree of tensors, got ${describe(out)}`);
      const ts = ls.map((l) => (l instanceof Tensor ? l : toTensor(l)));
      for (const [k, t] of ts.entries()) {
        if (!isFloat(t.dtype)) throw new GradientError(`${this.name}: leaf ${k} of ${what} has dtype ${t.dtype}; a custom rule's pytree outputs must be float tensors`);
      }
      this.tree = out;
      this.single = false;
      this.shapes = ts.map((t) => [...t.shape]);
      this.dtypes = ts.map((t) => t.dtype);
      this.dtype = this.dtypes.includes("float64") ? "float64" : "float32";
    }
    if (this.single) {
      if (!(out instanceof Tensor) && typeof out !== "number") throw new GradientError(`${this.name}: ${what} is ${describe(out)}, but f's output is one tensor`);
      return out instanceof Tensor ? out : toTensor(out);
    }
    if (ls.length !== this.shapes.length) throw new GradientError(`${this.name}: ${what} has ${ls.length} leaves, expected ${this.shapes.length} (the structure of f's output)`);
    const parts = ls.map((l, k) => {
      const t = l instanceof Tensor ? l : toTensor(l);
      const s = this.shapes[k]!;
      if (!sameShape(t.shape, s)) throw new GradientError(`${this.name}: leaf ${k} of ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(s)} (the shape of f's output)`);
      const flat = reshape(t, [sizeOf(s)]);
      return flat.dtype === this.dtype ? flat : cast(flat, this.dtype);
    });
    return parts.length === 1 ? parts[0]! : concat(parts, 0);
  }

  /** The packed tensor (or its cotangent or tangent) as f's output structure. */
  unpack(flat: Tensor): unknown {
    if (this.single) return flat;
    let at = 0;
    const parts = this.shapes.map((s, k) => {
      const n = sizeOf(s);
      const piece = reshape(this.shapes.length === 1 ? flat : slice(flat, [at], [at + n]), s);
      at += n;
      return piece.dtype === this.dtypes[k] ? piece : cast(piece, this.dtypes[k]!);
    });
    return rebuild(this.tree, parts);
  }
}
