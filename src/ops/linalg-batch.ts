import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { sizeOf } from "../core/shape.js";
import { broadcastingRule, type BatchRule } from "../core/batching.js";
import { bind } from "../autodiff/bind.js";
import { reshape } from "./layout.js";

// The batching rule of the matmul primitive. The generic rule (matmul broadcasts leading dimensions, so
// the batch is one more of them) is always correct, but it runs B products of one example each: for
// per-example gradients that is B matrix–vector products, each reading the whole shared matrix. Two
// cases are far better served by another shape of the same work, found from the shapes alone:
// - a batched left operand against a shared matrix: the batch folds into the rows, one [B·m, k]·[k, n]
//   product (a layer applied to a batch of examples is one GEMM, as without vmap);
// - a shared matrix against batched column vectors (a pullback through W·v, the rows of jacrev): the
//   product of the transposes, [B, k]·op(a)ᵀ, again one GEMM.
// Per-example weight gradients xᵢᵀ·δᵢ (both operands batched, inner dimension 1) stay batched outer
// products in one primitive call, which the kernel runs as a strided batch of rank-1 GEMMs, each writing
// its block of the output once. A broadcast multiply [B, m, 1]·[B, 1, n] would compute the same, but the
// binary kernels materialise both broadcast operands at full size first: measured 2.5× slower.
// A 1-wide operand stored transposed is the same memory as untransposed, so such flags are dropped
// first and the cases above apply to pullbacks too.

/** Which operands the primitive reads transposed (as in linalg.ts); null is neither. */
export interface Transposes {
  readonly a: boolean;
  readonly b: boolean;
}

const generic = broadcastingRule<Transposes | null>(2);

/** The flags object for (ta, tb), null for neither, so parameters stay comparable to the primitive's own. */
type Flags = (ta: boolean, tb: boolean) => Transposes | null;

/**
 * The batching rule of matmul (see the comment above). `flags` builds the primitive's parameters from
 * two transpose flags. Operands reaching the rule have rank ≥ 2 per example (matmul promotes vectors).
 */
export function matmulBatchRule(flags: Flags): BatchRule<Transposes | null> {
  return (x, batched, tr, size, self) => {
    let a = x[0]!, b = x[1]!;
    let ta = tr?.a ?? false, tb = tr?.b ?? false;
    const ba = batched[0]!, bb = batched[1]!;
    // A transposed operand with a core dimension of 1 is the untransposed one, reshaped (no copy).
    if (ta && (a.shape[a.rank - 1] === 1 || a.shape[a.rank - 2] === 1)) [a, ta] = [swapCore(a), false];
    if (tb && (b.shape[b.rank - 1] === 1 || b.shape[b.rank - 2] === 1)) [b, tb] = [swapCore(b), false];
    const prim = self as Primitive<Transposes | null>;
    const k = a.shape[a.rank - (ta ? 2 : 1)]!;

    // Batched rows against a shared matrix: one GEMM over all rows of all examples.
    if (ba && !bb && !ta && b.rank === 2) {
      const rows = a.shape.slice(0, -1);
      const out = bind(prim, [reshape(a, [sizeOf(rows), k]), b], flags(false, tb));
      return reshape(out, [...rows, out.shape[1]!]);
    }
    // A shared matrix against batched columns: out_i = op(a)·b_i, so the stacked out_iᵀ = b_iᵀ·op(a)ᵀ.
    if (bb && !ba && a.rank === 2 && b.shape[b.rank - 1] === 1) {
      const lead = b.shape.slice(0, -2);
      const out = bind(prim, [reshape(b, [sizeOf(lead), k]), a], flags(false, !ta));
      return reshape(out, [...lead, out.shape[1]!, 1]);
    }
    return generic([a, b], batched, flags(ta, tb), size, self);
  };
}

/** The same memory read as [..., q, p] instead of [..., p, q]; only valid when p or q is 1. */
function swapCore(t: Tensor): Tensor {
  const s = [...t.shape];
  [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1]!, s[s.length - 2]!];
  return reshape(t, s);
}
