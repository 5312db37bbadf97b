import type { Tensor, TensorLike } from "../core/tensor.js";
import { fmtShape, normalizeAxis, sizeOf } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { operand } from "./operands.js";
import { broadcastTo, reshape, transpose } from "./layout.js";
import { sum } from "./reduce.js";
import { matmul } from "./linalg.js";
import { diagonal } from "./matrix-parts.js";

// einsum and tensordot lowered to diagonal, sum, transpose, reshape and matmul (as opt_einsum and
// NumPy's tensordot do), so their gradients are those ops' rules and products run on the GEMM kernels.

/** A tensor with one label per dimension: letters, or "…k" for the k-th broadcast (ellipsis) dimension from the right. */
interface Labelled {
  t: Tensor;
  labels: string[];
}

const LETTER = /^[a-zA-Z]$/;

/** Splits one operand's subscripts into letters and "..." (at most one). */
function parseTerm(term: string, what: string, spec: string): (string | "...")[] {
  const out: (string | "...")[] = [];
  for (let i = 0; i < term.length; ) {
    if (term.startsWith("...", i)) {
      if (out.includes("...")) throw new ValueError(`einsum: ${what} has more than one "..." in "${spec}"`);
      out.push("...");
      i += 3;
    } else if (LETTER.test(term[i]!)) out.push(term[i++]!);
    else throw new ValueError(`einsum: invalid character ${JSON.stringify(term[i])} in ${what} of "${spec}"; subscripts are letters a–z, A–Z and "..."`);
  }
  return out;
}

/** Labels for an operand: letters as given, its "..." dimensions as "…k" counted from the right, so they broadcast. */
function labelDims(term: (string | "...")[], rank: number, index: number, spec: string): string[] {
  const letters = term.filter((s) => s !== "...").length;
  const hasEllipsis = term.includes("...");
  if (hasEllipsis ? rank < letters : rank !== letters) {
    throw new ShapeError(`einsum: operand ${index} has rank ${rank} but its subscripts "${term.join("")}" name ${letters} dimensions${hasEllipsis ? " plus \"...\"" : ""} in "${spec}"`);
  }
  const nEll = rank - letters;
  const labels: string[] = [];
  for (const s of term) {
    if (s === "...") for (let k = nEll - 1; k >= 0; k--) labels.push(`…${k}`);
    else labels.push(s);
  }
  return labels;
}

/** Takes the diagonal of repeated labels within one operand (ii → i), as NumPy. */
function diagonals(x: Labelled, spec: string): Labelled {
  let { t, labels } = x;
  for (;;) {
    const dup = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (dup < 0) return { t, labels };
    const firstAt = labels.indexOf(labels[dup]!);
    if (t.shape[firstAt] !== t.shape[dup]) {
      throw new ShapeError(`einsum: subscript "${labels[dup]}" is repeated in one operand over dimensions of sizes ${t.shape[firstAt]} and ${t.shape[dup]} in "${spec}"`);
    }
    t = diagonal(t, 0, firstAt, dup);
    labels = [...labels.filter((_, i) => i !== firstAt && i !== dup), labels[dup]!];
  }
}

/** Sums out the labels of x that `keep` does not list. */
function sumUnused(x: Labelled, keep: ReadonlySet<string>): Labelled {
  const axes = x.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return x;
  return { t: sum(x.t, axes), labels: x.labels.filter((l) => keep.has(l)) };
}

function permuteTo(x: Labelled, order: readonly string[]): Tensor {
  const perm = order.map((l) => x.labels.indexOf(l));
  return perm.every((p, i) => p === i) ? x.t : transpose(x.t, perm);
}

/** Contracts two labelled operands over their shared labels not in `keep`; shared labels in `keep` are batch dimensions. */
function contract(a: Labelled, b: Labelled, keep: ReadonlySet<string>, sizes: ReadonlyMap<string, number>): Labelled {
  const inB = new Set(b.labels);
  const shared = a.labels.filter((l) => inB.has(l));
  const batch = shared.filter((l) => keep.has(l));
  const summed = shared.filter((l) => !keep.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !a.labels.includes(l));
  const dims = (ls: readonly string[]) => ls.map((l) => sizes.get(l)!);
  // Broadcast dimensions ("...") of size 1 stretch to the other operand's size.
  const at = broadcastTo(permuteTo(a, [...batch, ...left, ...summed]), dims([...batch, ...left, ...summed]));
  const bt = broadcastTo(permuteTo(b, [...batch, ...summed, ...right]), dims([...batch, ...summed, ...right]));
  const nb = sizeOf(dims(batch)), nl = sizeOf(dims(left)), ns = sizeOf(dims(summed)), nr = sizeOf(dims(right));
  const prod = matmul(reshape(at, [nb, nl, ns]), reshape(bt, [nb, ns, nr]));
  return { t: reshape(prod, dims([...batch, ...left, ...right])), labels: [...batch, ...left, ...right] };
}

/**
 * Einstein summation with NumPy's subscripts: `einsum("ij,jk->ik", a, b)` is a matrix product,
 * `"ii->i"` a diagonal, `"ii"` a trace, `"...ij,...jk->...ik"` a batched product with broadcast leading
 * dimensions, `"i,j"` an outer product (implicit output: the letters used once, alphabetically, after the
 * broadcast dimensions — NumPy's rule). Lowered to diagonal, sum, transpose, reshape and matmul, so the
 * gradient in every argument comes from those ops' rules; operands are contracted left to right.
 * @param subscripts comma-separated operand terms, optionally "->" and the output term; spaces ignored
 * @returns the output term's dimensions in order; dtype as matmul (float; ints give float32) unless no product is needed
 * @throws ValueError for bad subscripts (unknown characters, a wrong operand count, an output letter not in any input or repeated);
 *         ShapeError when a term's length does not match its operand's rank or a letter's sizes differ
 */
export function einsum(subscripts: string, ...operands: TensorLike[]): Tensor {
  const spec = subscripts.replace(/\s+/g, "");
  const arrow = spec.indexOf("->");
  const lhs = arrow < 0 ? spec : spec.slice(0, arrow);
  const terms = lhs.split(",");
  if (terms.length !== operands.length) {
    throw new ValueError(`einsum: "${subscripts}" has ${terms.length} operand term(s) but ${operands.length} tensor(s) were given`);
  }
  if (operands.length === 0) throw new ValueError("einsum: needs at least one operand");
  let xs: Labelled[] = terms.map((term, i) => {
    const t = operand("einsum", operands[i]!);
    return { t, labels: labelDims(parseTerm(term, `operand ${i}`, spec), t.rank, i, spec) };
  });
  // Every letter's size must agree; broadcast dimensions may also be 1.
  const sizes = new Map<string, number>();
  xs.forEach((x, i) =>
    x.labels.forEach((l, d) => {
      const n = x.t.shape[d]!;
      const seen = sizes.get(l);
      if (seen === undefined) sizes.set(l, n);
      else if (seen !== n) {
        if (l.startsWith("…") && (seen === 1 || n === 1)) sizes.set(l, seen === 1 ? n : seen);
        else throw new ShapeError(`einsum: subscript "${l.startsWith("…") ? "..." : l}" has size ${n} in operand ${i} (shape ${fmtShape(x.t.shape)}) but ${seen} elsewhere in "${spec}"`);
      }
    }),
  );
  const ellipsis = [...sizes.keys()].filter((l) => l.startsWith("…")).sort((p, q) => Number(q.slice(1)) - Number(p.slice(1)));
  let outLabels: string[];
  if (arrow < 0) {
    const counts = new Map<string, number>();
    for (const x of xs) for (const l of x.labels) if (!l.startsWith("…")) counts.set(l, (counts.get(l) ?? 0) + 1);
    outLabels = [...ellipsis, ...[...counts].filter(([, n]) => n === 1).map(([l]) => l).sort()];
  } else {
    const outTerm = parseTerm(spec.slice(arrow + 2), "the output", spec);
    outLabels = [];
    for (const s of outTerm) {
      if (s === "...") outLabels.push(...ellipsis);
      else {
        if (outLabels.includes(s)) throw new ValueError(`einsum: output subscript "${s}" appears more than once in "${spec}"`);
        if (!sizes.has(s)) throw new ValueError(`einsum: output subscript "${s}" does not appear in any input of "${spec}"`);
        outLabels.push(s);
      }
    }
  }
  xs = xs.map((x) => diagonals(x, spec));
  const needed = (from: number): Set<string> => new Set([...outLabels, ...xs.slice(from).flatMap((x) => x.labels)]);
  // Sum out what only one operand uses, then contract left to right.
  let acc = sumUnused(xs[0]!, needed(1));
  for (let i = 1; i < xs.length; i++) {
    const keep = needed(i + 1);
    const b = sumUnused(xs[i]!, new Set([...keep, ...acc.labels]));
    acc = contract(sumUnused(acc, new Set([...keep, ...b.labels])), b, keep, sizes);
  }
  acc = sumUnused(acc, new Set(outLabels));
  const shape = outLabels.map((l) => sizes.get(l)!);
  return broadcastTo(permuteTo(acc, outLabels), shape);
}

/**
 * Tensor contraction over chosen axes (NumPy's and PyTorch's tensordot): `axes` = N contracts the last N
 * axes of a with the first N of b; `[axesA, axesB]` pairs the listed axes in order. Lowered to transpose,
 * reshape and matmul, so gradients come from those ops.
 * @returns shape: a's free axes then b's free axes
 * @throws ShapeError when paired axes differ in size or an axis is out of range; ValueError for mismatched axis lists
 */
export function tensordot(a: TensorLike, b: TensorLike, axes: number | readonly [number | readonly number[], number | readonly number[]] = 2): Tensor {
  const x = operand("tensordot", a), y = operand("tensordot", b);
  let ax: number[], bx: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > x.rank || axes > y.rank) {
      throw new ValueError(`tensordot: axes must be an integer in [0, ${Math.min(x.rank, y.rank)}] for shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}, got ${axes}`);
    }
    ax = Array.from({ length: axes }, (_, i) => x.rank - axes + i);
    bx = Array.from({ length: axes }, (_, i) => i);
  } else {
    const list = (v: number | readonly number[]) => (typeof v === "number" ? [v] : [...v]);
    ax = list(axes[0]).map((v) => normalizeAxis("tensordot", v, x.rank));
    bx = list(axes[1]).map((v) => normalizeAxis("tensordot", v, y.rank));
    if (ax.length !== bx.length) throw new ValueError(`tensordot: axes lists differ in length: [${ax.join(",")}] and [${bx.join(",")}]`);
  }
  ax.forEach((p, i) => {
    if (x.shape[p] !== y.shape[bx[i]!]) {
      throw new ShapeError(`tensordot: axis ${p} of a (size ${x.shape[p]}, shape ${fmtShape(x.shape)}) and axis ${bx[i]} of b (size ${y.shape[bx[i]!]}, shape ${fmtShape(y.shape)}) differ`);
    }
  });
  const freeA = x.shape.map((_, i) => i).filter((i) => !ax.includes(i));
  const freeB = y.shape.map((_, i) => i).filter((i) => !bx.includes(i));
  const k = sizeOf(ax.map((i) => x.shape[i]!));
  const sa = freeA.map((i) => x.shape[i]!), sb = freeB.map((i) => y.shape[i]!);
  const xa = reshape(transpose(x, [...freeA, ...ax]), [sizeOf(sa), k]);
  const yb = reshape(transpose(y, [...bx, ...freeB]), [k, sizeOf(sb)]);
  return reshape(matmul(xa, yb), [...sa, ...sb]);
}
