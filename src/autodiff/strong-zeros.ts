import type { Tensor } from "../core/tensor.js";
import { isFloat, type TypedArray } from "../core/dtype.js";
// This check reads values, which a rule otherwise never does (it composes ops); used by the elementwise rules in
// src/core/define.ts and by prod, it asks the kernel table for the sum.
import { kernels } from "../kernels/registry.js";
import { requestingNaNMarks, takeNaNFreeMark, takeZeroFreeMark } from "../kernels/nan-marks.js";
import { broadcastTo, cast, equal, logicalAnd, logicalOr, mul, where, zerosLike } from "../ops/index.js";
import { sameShape } from "../core/shape.js";
import { stagedTracer } from "./trace.js";

/**
 * Zeros are strong in the chain rule's products: where an elementwise op's local partial is 0, or its
 * incoming tangent or cotangent is a structural zero (see `structuralZeros`; a computed 0 is not one), the
 * contribution is 0, whatever the other factor (Inf or NaN included).
 * IEEE arithmetic gives 0·Inf = NaN instead: in the untaken branch of `where(x > 0, sqrt(x), …)` at x < 0
 * (reverse mode), in sqrt(maximum(0, b)) at b < 0 (forward mode: sqrt'(0) = ∞ times maximum's tangent 0),
 * or under a partial that underflowed to 0 (sigmoid'(−750)); PyTorch and JAX pass the NaN on and poison
 * the derivative; chainrule does not. Making 0 absorbing on both sides keeps forward mode (v·∂₁·∂₂…) and
 * reverse mode (…∂₂·∂₁·ct) equal along a chain, whichever end a zero comes from.
 * `c` is the contribution ∂·v; `zeroWhere` (called only when needed) says where ∂ is 0 or v structurally 0.
 * A product is NaN exactly where a factor is NaN, or one is infinite and the other 0, so only a
 * contribution that has a NaN needs the repair. Compute `c` inside `withNaNMarks`: the wasm kernels then
 * report a NaN-free result as they write it, and the check costs nothing more; otherwise it costs one sum.
 * Contractions (matmul, conv, reductions) mix elements and keep IEEE semantics.
 */
export function strongZeros(c: Tensor, zeroWhere: () => Tensor): Tensor {
  if (!isFloat(c.dtype)) return c;
  const staged = stagedTracer(c);
  if (staged !== null) {
    // Under jit: a NaN now means this program always repairs (right for every value); otherwise it takes the
    // fast path, with a check fused into its loop that sends a call meeting a NaN to eager evaluation.
    if (mayHoldNaN(staged._primal!._data!)) return where(zeroWhere(), 0, c);
    staged._trace!.guardNoNaN?.(staged);
    return c;
  }
  const d = c._data ?? c._concreteValue(true)._data; // the whole batch under vmap: the repair is elementwise
  // A GPU value is never read back here: the repair runs unconditionally there (same values, a few more kernels).
  if (d === null) return where(zeroWhere(), 0, c);
  return mayHoldNaN(d) ? where(zeroWhere(), 0, c) : c;
}

/**
 * Whether `t` is a concrete one-element tensor holding a finite non-zero number (the 2 in `mul(x, 2)`, a
 * value f closes over): a product with such a factor is NaN exactly where the other factor is NaN, and
 * never 0 where the other is finite and non-zero, so strongZeros' repair cannot change it. Rules skip the
 * check then, which under jit also keeps the program free of a NaN guard per product.
 */
export function finiteNonZeroScalar(t: Tensor): boolean {
  const d = t._data;
  if (d === null || d.length !== 1) return false;
  const v = d[0]!;
  return v !== 0 && v - v === 0;
}

/**
 * Runs `compute` (the kernels that produce contributions for `strongZeros`) with NaN marks requested: kernels
 * that can check their output while it is still in cache mark it NaN-free (src/kernels/nan-marks.ts).
 */
export function withNaNMarks<T>(compute: () => T): T {
  return requestingNaNMarks(compute);
}

/**
 * Below this many elements the check is a scalar loop that costs less than asking the kernels for marks
 * (and tiny ops run the js kernels, which do not mark): the per-op cost of small graphs stays as it was.
 */
export const MARKS_FROM = 65;

/** a·b computed for `strongZeros`: with NaN marks requested when either operand is large enough to use them. */
export function productForStrongZeros(a: Tensor, b: Tensor): Tensor {
  return a.size < MARKS_FROM && b.size < MARKS_FROM ? mul(a, b) : requestingNaNMarks(() => mul(a, b));
}

/**
 * Whether `d` may hold a NaN: no, if the kernel that wrote it marked it NaN-free; else from one sum through the backend's reduction (a SIMD pass in wasm, about a
 * tenth of a scalar scan's time on 10⁶ elements): the sum is NaN whenever an element is. It is also NaN,
 * rarely, when infinities of both signs meet; then the repair runs where it was not needed, and still
 * gives the same values.
 */
function mayHoldNaN(d: TypedArray): boolean {
  if (d.length < MARKS_FROM) {
    for (let k = 0; k < d.length; k++) if (d[k] !== d[k]) return true;
    return false;
  }
  if (takeNaNFreeMark(d)) return false;
  const total = d instanceof Float32Array ? new Float32Array(1) : new Float64Array(1);
  kernels().reduce(d, [d.length], [0], total, "sum");
  return total[0] !== total[0];
}


// Structural zeros (JAX's symbolic zeros, per element): the elements of a tangent or cotangent known to be 0
// whatever the perturbation, because a piecewise rule selected them away (relu at x ≤ 0, the loser of
// maximum, where's other branch), a partial was exactly 0 on the way, or the caller's tangent or cotangent
// does not move them. Only these are strong; a value that is 0 by computation (1 − 1 along the direction
// (1, 1), a cancelling sum, a matmul) is an ordinary number, and 0·∞ = NaN there as in IEEE arithmetic and in
// both modes of PyTorch. So forward mode's tangent meets the same ∞ that reverse mode's cotangent meets
// before any cancellation: mseLoss at (∞, 1) is NaN in both. A mask is a bool tensor that broadcasts to its
// tensor; a tensor without one has no structural zero. Kept beside the tensor (a jit tracer's in its `_mask`
// field, which every new tensor starts without) so that every op that does not know about masks simply
// drops them: safe, as IEEE.
// Under jit a mask may be kept as a thunk, computed (and so staged) only if a later rule asks for it: most
// masks of a staged program are never read, and recording them would double the steps traced.
type Mask = Tensor | (() => Tensor | null);
const masks = new WeakMap<Tensor, Mask>();

type MaskTable = { get(k: Tensor): Mask | undefined; set(k: Tensor, v: Mask): unknown; delete(k: Tensor): unknown };

/** The masks of jit's tracers, in each tracer's own `_mask` field (see `tableOf`). */
const onTracer: MaskTable = {
  get: (t) => t._mask,
  set: (t, v) => (t._mask = v),
  delete: (t) => (t._mask = undefined),
};

/**
 * Where t's mask is kept: for a tracer of a jit trace, on the tracer (its `_mask`), so it dies with the
 * tracer. A WeakMap entry is an ephemeron the garbage collector must revisit, and a staged scalar chain makes
 * ~10⁵ of them (most of its tracing time); a Map on the trace kept every mask, and every tracer its thunk
 * reads, alive until the program was built (chain-10k's first jit call on js: ~86 → ~71 ms CPU). For
 * anything else, in the WeakMap.
 */
function tableOf(t: Tensor): MaskTable {
  const tr = t._trace;
  return tr !== null && tr.kind === "stage" ? onTracer : masks;
}

/** The structural zeros of tangent or cotangent `t` (true where it is one), or null if it has none known. */
export function structuralZeros(t: Tensor): Tensor | null {
  const table = tableOf(t);
  const m = table.get(t);
  if (typeof m !== "function") return m ?? null;
  const v = m();
  if (v === null) table.delete(t);
  else table.set(t, v);
  return v;
}

/**
 * Records v's structural zeros as t's (t = v times a finite non-zero factor, or v scaled): the same mask, or,
 * while v's is still a thunk (under jit), a thunk reading it, so nothing is staged unless a rule asks. Returns t.
 */
export function sameZerosAs(t: Tensor, v: Tensor): Tensor {
  const m = tableOf(v).get(v);
  // A thunk is shared, not wrapped: every thunk remembers its result (see `lazyMask`), and sharing keeps
  // neither v nor a closure per scaled cotangent alive.
  if (m !== undefined && isFloat(t.dtype)) tableOf(t).set(t, m);
  return t;
}

/** Records `mask` (bool, broadcastable to t) as t's structural zeros; returns t. A null mask records nothing. */
export function withStructuralZeros(t: Tensor, mask: Tensor | null): Tensor {
  if (mask !== null && isFloat(t.dtype)) tableOf(t).set(t, mask);
  return t;
}

/**
 * where(cond, 0, value): a piecewise rule's contribution with the branches not taken selected away; in
 * both modes those zeros are structural, as are the ones `v` (the incoming tangent or cotangent) already had.
 * @param cond bool, true where the input is not selected
 * @param v the incoming tangent or cotangent `value` was made from
 */
export function selectedAway(cond: Tensor, v: Tensor, value: Tensor): Tensor {
  const mv = structuralZeros(v);
  return withStructuralZeros(where(cond, 0, value), mv === null ? cond : logicalOr(cond, mv));
}

/** Structural zeros of a sum of tangents or cotangents: where every term has one (a term without a mask has none). */
export function sumZeros(a: Tensor, b: Tensor): Tensor | null {
  const ma = structuralZeros(a), mb = structuralZeros(b);
  return ma === null || mb === null ? null : logicalAnd(ma, mb);
}

/**
 * p·v (p a partial, v a tangent or cotangent) with strong zeros (see strongZeros) and its structural zeros
 * recorded: v's, and wherever p is exactly 0 (both modes make that zero strong, so they stay equal along a
 * chain). Structural zeros are zeros of the result, so a result without any zero needs no mask: the check
 * is the result's, which the kernel that wrote it may already have made (see `withNaNMarks`).
 */
export function strongProduct(p: Tensor, v: Tensor): Tensor {
  const c = productForStrongZeros(p, v);
  return markedContribution(c, v, () => p);
}

/**
 * A contribution `c` = ∂·v computed some other way (a fused kernel), repaired as in `strongProduct`;
 * `partial` gives the partial ∂ (null for a constant one, never 0), asked only if c has a NaN or a zero.
 */
export function markedContribution(c: Tensor, v: Tensor, partial: () => Tensor | null): Tensor {
  let zeros: Tensor | null | undefined;
  const mask = (): Tensor | null => {
    if (zeros !== undefined) return zeros;
    const mv = structuralZeros(v); // read here, not before: under jit v's own mask may be a thunk not yet computed
    // The zeros of c are often v's alone (computed ones, as a loss's ignored rows): a partial without any
    // zero (a scan that stops at the first) adds no mask and no op.
    const p = partial();
    const mp = p === null || !mayHoldZero(p) ? null : equal(p, 0);
    return (zeros = mp === null ? mv : mv === null ? mp : logicalOr(mp, mv));
  };
  const d = isFloat(c.dtype) && stagedTracer(c) === null ? (c._data ?? c._concreteValue(true)._data) : null;
  if (d !== null) {
    // Eagerly, one look at the contribution answers both questions (see inspect).
    const { nan, zero } = inspect(d);
    if (!nan && !zero) return c;
    const m = mask();
    // With no zero known on either side, a NaN stays: none of it is a strong zero.
    return withStructuralZeros(nan && m !== null ? where(m, 0, c) : c, m);
  }
  // Under jit (strongZeros guards the staged program) or on a device (values not read back).
  const repaired = strongZeros(c, () => mask() ?? cast(zerosLike(c), "bool"));
  if (repaired === c && !mayHoldZero(c)) return c;
  if (repaired === c && zeros === undefined && stagedTracer(c) !== null) {
    // Staged and not repaired: the mask is computed only if a later rule reads it (see `masks`).
    if (isFloat(c.dtype)) tableOf(c).set(c, lazyMask(tableOf(v).get(v), partial));
    return c;
  }
  return withStructuralZeros(repaired, mask());
}

/**
 * `markedContribution`'s mask as a thunk for a staged contribution: v's mask as it is now (none, a mask, or
 * v's own thunk, which remembers its result too) or the partial's zeros. It holds what it reads and nothing
 * more: not v or the contribution, since a staged scalar chain keeps ~10⁴ such thunks, each of which would
 * otherwise keep those tracers and their values alive until the program is built.
 */
function lazyMask(mv: Mask | undefined, partial: () => Tensor | null): () => Tensor | null {
  let zeros: Tensor | null | undefined;
  return () => {
    if (zeros !== undefined) return zeros;
    const m = typeof mv === "function" ? mv() : (mv ?? null);
    mv = undefined;
    const p = partial();
    const mp = p === null || !mayHoldZero(p) ? null : equal(p, 0);
    return (zeros = mp === null ? m : m === null ? mp : logicalOr(mp, m));
  };
}

/**
 * Whether `d` holds a NaN and whether it holds a zero: from the marks of the wasm kernel that wrote it
 * (both consumed), else from one pass that looks for both (on the js backend and for float64 this replaces
 * the NaN check's sum and a separate scan for zeros), or from the sum alone when only NaN is unknown.
 */
function inspect(d: TypedArray): { nan: boolean; zero: boolean } {
  const big = d.length >= MARKS_FROM;
  const nanFree = big && takeNaNFreeMark(d), zeroFree = big && takeZeroFreeMark(d);
  if (nanFree && zeroFree) return { nan: false, zero: false };
  if (zeroFree) return { nan: mayHoldNaN(d), zero: false };
  let nan = false, zero = false;
  for (let k = 0; k < d.length; k++) {
    const x = d[k]!;
    if (x !== x) nan = true;
    else if (x === 0) zero = true;
    else continue;
    if (zero && (nan || nanFree)) break;
  }
  return { nan, zero };
}

/**
 * Whether `p` may hold an exact zero: no, if the wasm kernel that wrote it marked it zero-free (it checks each
 * chunk while in cache, when marks are requested); else from a scan; under jit or on a device, assumed.
 */
export function mayHoldZero(p: Tensor): boolean {
  const staged = stagedTracer(p);
  if (staged !== null) {
    // A staged constant (grad's lifted seed) has its value now and on every call: look at it.
    const c = staged._trace!.constantOf?.(staged) ?? null;
    if (c === null) return true;
    p = c;
  }
  const d = p._data ?? p._concreteValue(true)._data;
  if (d === null) return true;
  if (d.length >= MARKS_FROM && takeZeroFreeMark(d)) return false; // checked by the kernel that wrote it
  for (let k = 0; k < d.length; k++) if (d[k] === 0) return true;
  return false;
}

/**
 * A linear op's tangent `result = f(t)` with t's structural zeros carried through the same op: `f` applied to
 * the mask (broadcast to t's shape first; `f` must accept a bool tensor, as reshape, broadcastTo, transpose
 * and slice do). For a sum, pass `all` over the summed axes: a sum is a structural zero where every term is.
 */
export function carryZeros(t: Tensor, result: Tensor, f: (mask: Tensor) => Tensor): Tensor {
  const m = structuralZeros(t);
  if (m === null) return result;
  return withStructuralZeros(result, f(sameShape(m.shape, t.shape) ? m : broadcastTo(m, t.shape)));
}

/**
 * A tangent or cotangent given by the caller (jvp's tangents, vjp's and backward's cotangents), with its zero
 * elements marked structural: a direction that does not move an element is the elementwise form of a null
 * tangent, so the derivative along e_b of f(a, b) is the same with the tangent [0, 1] as with a closed-over a.
 */
export function seedZeros(t: Tensor): Tensor {
  return isFloat(t.dtype) && mayHoldZero(t) ? withStructuralZeros(t, equal(t, 0)) : t;
}
