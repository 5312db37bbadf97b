import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, isFloat, promote } from "../core/dtype.js";
import { broadcastShapes, fmtShape, sizeOf, stridesOf } from "../core/shape.js";
import { ShapeError } from "../core/errors.js";
import { matmulInto } from "../kernels/matmul.js";
import { bind } from "../autodiff/bind.js";
import { operand } from "./operands.js";
import { castConcrete } from "./creation.js";
import { reshape } from "./layout.js";
import { add, mul } from "./elementwise.js";
import { sum } from "./reduce.js";
import { matmulBatchRule } from "./linalg-batch.js";

/**
 * Which operands the matmul primitive reads transposed (their last two dimensions swapped); null is
 * neither. Only the rules use transposes: the VJP of a product is a product with a transposed operand,
 * and reading it through strides saves copying the transpose.
 */
interface Transposes {
  readonly a: boolean;
  readonly b: boolean;
}
const T = {
  nt: { a: false, b: true },
  tn: { a: true, b: false },
  tt: { a: true, b: true },
} as const;
const flags = (a: boolean, b: boolean): Transposes | null => (a ? (b ? T.tt : T.tn) : b ? T.nt : null);

/** op(X) @ op(Y) on the primitive, with the given transposes. */
const mm = (x: Tensor, y: Tensor, ta: boolean, tb: boolean): Tensor => bind(matmulPrim, [x, y], flags(ta, tb));

const matmulPrim: Primitive<Transposes | null> = {
  name: "matmul",
  // One GEMM (or a broadcast multiply) for the whole batch where the shapes allow; see linalg-batch.ts.
  batch: matmulBatchRule(flags),
  impl([x, y], tr) {
    let a = x!;
    let b = y!;
    const ta = tr?.a ?? false, tb = tr?.b ?? false;
    let dtype = promote(a.dtype, b.dtype);
    if (!isFloat(dtype)) dtype = "float32";
    if (a.dtype !== dtype) a = castConcrete(a, dtype);
    if (b.dtype !== dtype) b = castConcrete(b, dtype);
    const m = a.shape[a.rank - (ta ? 1 : 2)]!, k = a.shape[a.rank - (ta ? 2 : 1)]!, n = b.shape[b.rank - (tb ? 2 : 1)]!;
    const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
    const batch = broadcastShapes("matmul", batchA, batchB);
    const out = allocate(dtype, sizeOf(batch) * m * n);
    const nb = sizeOf(batch);
    // Batch offsets by broadcast strides (0 along broadcast batch dimensions).
    const offsets = (bs: readonly number[], matSize: number): number[] => {
      const st = stridesOf(bs);
      const lead = batch.length - bs.length;
      const res = new Array<number>(nb);
      const idx = new Array<number>(batch.length).fill(0);
      for (let i = 0; i < nb; i++) {
        let off = 0;
        for (let d = 0; d < bs.length; d++) if (bs[d] !== 1) off += idx[d + lead]! * st[d]!;
        res[i] = off * matSize;
        for (let d = batch.length - 1; d >= 0; d--) {
          if (++idx[d]! < batch[d]!) break;
          idx[d] = 0;
        }
      }
      return res;
    };
    const offA = offsets(batchA, m * k), offB = offsets(batchB, k * n);
    for (let i = 0; i < nb; i++) matmulInto(a.data, offA[i]!, b.data, offB[i]!, out, i * m * n, m, k, n, ta, tb);
    return Tensor._concrete(out, [...batch, m, n], dtype);
  },
  jvp([a, b], [ta, tb], _out, tr) {
    const l = ta ? mm(ta, b!, tr?.a ?? false, tr?.b ?? false) : null;
    const r = tb ? mm(a!, tb, tr?.a ?? false, tr?.b ?? false) : null;
    return l && r ? add(l, r) : l ?? r;
  },
  // For C = op(A)·op(B): d op(A) = ct·op(B)ᵀ and d op(B) = op(A)ᵀ·ct, each undone through op when that
  // operand is stored transposed. The engine sums the cotangents over broadcast batch dimensions.
  vjp: (ct, [a, b], _out, tr, needs) => {
    const ta = tr?.a ?? false, tb = tr?.b ?? false;
    return [
      needs[0] ? (ta ? mm(b!, ct, tb, true) : mm(ct, b!, false, !tb)) : null,
      needs[1] ? (tb ? mm(ct, a!, true, ta) : mm(a!, ct, !ta, false)) : null,
    ];
  },
  residuals: [[1], [0]],
};

/**
 * Matrix product with NumPy's rules: 1-D operands are promoted to a row (a) or column (b) vector
 * and the added dimension removed afterwards; leading batch dimensions broadcast.
 * @param a shape [..., m, k] or [k]
 * @param b shape [..., k, n] or [k]
 * @returns shape [..., m, n] (float; int inputs give float32)
 * @throws ShapeError when a's last dimension differs from b's second-to-last, or an operand is 0-d
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  let x = operand("matmul", a);
  let y = operand("matmul", b);
  if (x.rank === 0 || y.rank === 0) {
    throw new ShapeError(`matmul: operands must have at least 1 dimension: a is ${fmtShape(x.shape)}, b is ${fmtShape(y.shape)}; use mul for scalars`);
  }
  const vecA = x.rank === 1, vecB = y.rank === 1;
  if (vecA) x = reshape(x, [1, x.shape[0]!]);
  if (vecB) y = reshape(y, [y.shape[0]!, 1]);
  if (x.shape[x.rank - 1] !== y.shape[y.rank - 2]) {
    throw new ShapeError(`matmul: inner dimensions differ: a is ${fmtShape(operand("matmul", a).shape)}, b is ${fmtShape(operand("matmul", b).shape)}`);
  }
  try {
    broadcastShapes("matmul", x.shape.slice(0, -2), y.shape.slice(0, -2));
  } catch {
    throw new ShapeError(`matmul: batch dimensions cannot be broadcast together: a is ${fmtShape(x.shape)}, b is ${fmtShape(y.shape)} (batch ${fmtShape(x.shape.slice(0, -2))} vs ${fmtShape(y.shape.slice(0, -2))}); make each pair equal or 1`);
  }
  let out = mm(x, y, false, false);
  if (vecA || vecB) {
    const s = out.shape.slice(0, -2);
    if (!vecA) s.push(out.shape[out.rank - 2]!);
    if (!vecB) s.push(out.shape[out.rank - 1]!);
    out = reshape(out, s);
  }
  return out;
}

/**
 * a · bᵀ for a of shape [..., k] and a 2-D b of shape [n, k], giving [..., n]: the product of a Linear
 * layer whose weight is stored [out, in] (PyTorch's `F.linear` layout). b is read through transposed
 * strides by the matmul primitive, so no transposed copy is made in either mode.
 * @internal Used by `nn.linear`; callers check shapes first.
 */
export function matmulNT(a: Tensor, b: Tensor): Tensor {
  const k = a.shape[a.rank - 1]!;
  const x = a.rank === 2 ? a : reshape(a, [sizeOf(a.shape.slice(0, -1)), k]);
  const out = mm(x, b, false, true);
  return a.rank === 2 ? out : reshape(out, [...a.shape.slice(0, -1), b.shape[0]!]);
}

/**
 * Inner product of two 1-D tensors (matmul for higher ranks).
 * @throws ShapeError when lengths differ
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const x = operand("dot", a), y = operand("dot", b);
  if (x.rank === 1 && y.rank === 1) {
    if (x.shape[0] !== y.shape[0]) throw new ShapeError(`dot: lengths differ: a is ${fmtShape(x.shape)}, b is ${fmtShape(y.shape)}`);
    return sum(mul(x, y));
  }
  return matmul(x, y);
}

/** Outer product of two 1-D tensors: shape [m] × [n] → [m, n]. @throws ShapeError for other ranks */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const x = operand("outer", a), y = operand("outer", b);
  if (x.rank !== 1 || y.rank !== 1) throw new ShapeError(`outer: both operands must be 1-D: a is ${fmtShape(x.shape)}, b is ${fmtShape(y.shape)}`);
  return mul(reshape(x, [x.shape[0]!, 1]), reshape(y, [1, y.shape[0]!]));
}
