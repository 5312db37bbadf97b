// Linear algebra on square matrices: inv, solve, det, slogdet, cholesky, batched over leading dimensions.
// Values come from LU with partial pivoting and Cholesky kernels below the backend boundary
// (src/kernels/linalg.ts); the rules are the standard matrix-derivative results (M. Giles, "An extended
// collection of matrix derivative results for forward and reverse mode AD", 2008; for Cholesky, I. Murray,
// "Differentiation of the Cholesky decomposition", 2016), written with differentiable ops so every order works.
import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, promote, type DType } from "../core/dtype.js";
import { batchIndexSuffix, broadcastShapes, fmtShape, sameShape, sizeOf, type Shape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { onDeviceOf } from "../core/device.js";
import { bind } from "../autodiff/bind.js";
import { operand } from "./operands.js";
import { cast, requireFloat } from "./select.js";
import { broadcastTo, reshape, transpose } from "./layout.js";
import { add, mul, neg, sub } from "./elementwise.js";
import { sum } from "./reduce.js";
import { matmul } from "./linalg.js";
import { expandDims, squeeze } from "./shape-ops.js";
import { broadcastingRule, leadingRule } from "../core/batching.js";

/**
 * Which public op a factorization serves, for its error message: a rule that inverts a matrix (det's and
 * cholesky's derivatives) reports the op the user called, with why it needed the inverse. null: the op itself.
 */
type Caller = { readonly op: string; readonly why: string } | null;

/** Swaps the last two dimensions (the batched matrix transpose). */
function mT(x: Tensor): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return transpose(x, perm);
}

/** Checks that x is a float batch of square matrices [..., n, n]; returns n. */
function squareSize(op: string, x: Tensor, what = "argument"): number {
  requireFloat(op, x, what);
  const n = x.shape[x.rank - 1];
  if (x.rank < 2 || n !== x.shape[x.rank - 2]) {
    throw new ShapeError(`${op}: ${what} must be a square matrix or a batch of them, shape [..., n, n]; got ${fmtShape(x.shape)}`);
  }
  return n!;
}

/** The matrices of x as one float64 array (a copy: the kernels work in place), their size n and count. */
function matrices(x: Tensor): { a: Float64Array; n: number; count: number } {
  const n = x.shape[x.rank - 1]!;
  return { a: Float64Array.from(x.data), n, count: sizeOf(x.shape.slice(0, -2)) };
}

function fromF64(data: Float64Array, shape: Shape, dtype: DType): Tensor {
  if (dtype === "float64") return Tensor._concrete(data, shape, dtype);
  const out = allocate(dtype, data.length);
  out.set(data);
  return Tensor._concrete(out, shape, dtype);
}

/** LU factors of every matrix of x; throws, naming the op, when one is singular. */
function factorNonsingular(x: Tensor, caller: { op: string; why: string }): { lu: Float64Array; piv: Int32Array; n: number; count: number } {
  const { a, n, count } = matrices(x);
  const piv = new Int32Array(count * n), info = new Int32Array(count);
  kernels().linalg.luFactor(a, n, count, piv, info);
  const b = info.findIndex((v) => v !== 0);
  if (b >= 0) {
    throw new ValueError(
      `${caller.op}: matrix is singular${batchIndexSuffix(x.shape, b)}: pivot ${info[b]} of ${n} is exactly 0 after partial pivoting; got shape ${fmtShape(x.shape)}${caller.why}`,
    );
  }
  return { lu: a, piv, n, count };
}

/** count n×n identity matrices. */
function identities(n: number, count: number): Float64Array {
  const out = new Float64Array(count * n * n);
  for (let b = 0; b < count; b++) for (let i = 0; i < n; i++) out[b * n * n + i * n + i] = 1;
  return out;
}

const invWhy = "; a singular matrix has no inverse (check for linearly dependent rows, or use solve with a regularised matrix)";

const invPrim: Primitive<Caller> = {
  name: "inv",
  batch: broadcastingRule(2),
  impl([x], caller) {
    const { lu, piv, n, count } = factorNonsingular(x!, caller ?? { op: "inv", why: invWhy });
    const rhs = identities(n, count);
    kernels().linalg.luSolve(lu, piv, n, count, rhs, n);
    return fromF64(rhs, x!.shape, x!.dtype);
  },
  // d(A⁻¹) = −A⁻¹ dA A⁻¹; Ā = −A⁻ᵀ C̄ A⁻ᵀ (Giles 2008, §3.1).
  jvp: (_x, [t], out) => (t ? neg(matmul(matmul(out, t), out)) : null),
  vjp: (ct, _x, out) => [neg(matmul(matmul(mT(out), ct), mT(out)))],
  residuals: [["out"]],
};

/** A⁻¹ for a rule of `op`, whose error says why the rule needed it. */
const invFor = (op: string, why: string, a: Tensor): Tensor => bind(invPrim, [a], { op, why });

/**
 * The inverse of a square matrix, or of each matrix in a batch, as `torch.linalg.inv`.
 * Derivatives: d(A⁻¹) = −A⁻¹·dA·A⁻¹, Ā = −A⁻ᵀ·C̄·A⁻ᵀ (Giles 2008).
 * Computed by LU with partial pivoting in float64 (float32 results are rounded from it).
 * @param a float32 or float64, shape [..., n, n]
 * @returns shape [..., n, n], a's dtype
 * @throws ShapeError for a non-square or 0/1-D argument; DTypeError for int/bool input;
 *   ValueError naming the batch index for a singular matrix (an exactly zero pivot: LAPACK's criterion)
 */
export function inv(a: TensorLike): Tensor {
  const x = operand("inv", a);
  squareSize("inv", x);
  return bind(invPrim, [x], null);
}

const solveWhy = "; A·X = B has no unique solution (check for linearly dependent rows of A)";

/** X = A⁻¹·B for A [..., n, n] and B [..., n, k] with equal batch dimensions. */
const solvePrim: Primitive<null> = {
  name: "solve",
  batch: leadingRule(), // batch dimensions of A and B must be equal, so both get the batch axis
  impl([a, b]) {
    const { lu, piv, n, count } = factorNonsingular(a!, { op: "solve", why: solveWhy });
    const k = b!.shape[b!.rank - 1]!;
    const rhs = Float64Array.from(b!.data);
    kernels().linalg.luSolve(lu, piv, n, count, rhs, k);
    return fromF64(rhs, b!.shape, b!.dtype);
  },
  // dX = A⁻¹(dB − dA·X); B̄ = A⁻ᵀ·X̄, Ā = −B̄·Xᵀ (Giles 2008, §3.2).
  jvp([a, _b], [ta, tb], x) {
    let r = tb;
    if (ta) r = r ? sub(r, matmul(ta, x)) : neg(matmul(ta, x));
    return r ? bind(solvePrim, [a!, r], null) : null;
  },
  vjp(ct, [a], x, _p, needs) {
    const bbar = bind(solvePrim, [mT(a!), ct], null);
    return [needs[0] ? neg(matmul(bbar, mT(x))) : null, needs[1] ? bbar : null];
  },
  residuals: [[0, "out"], [0]],
};

/**
 * Solves A·X = B, as `torch.linalg.solve`: B is a batch of vectors when it is 1-D or has shape A.shape[:-1],
 * else of matrices [..., n, k]; batch dimensions broadcast. Derivatives: dX = A⁻¹(dB − dA·X),
 * B̄ = A⁻ᵀ·X̄, Ā = −B̄·Xᵀ (Giles 2008). LU with partial pivoting in float64.
 * @param a float, shape [..., n, n]
 * @param b float, shape [..., n, k], [..., n] (= a.shape minus the last) or [n]
 * @returns X with b's layout (vector or matrix) and the broadcast batch dimensions; the promoted float dtype
 * @throws ShapeError for a non-square a, b's n differing from a's, or batch dimensions that do not broadcast;
 *   DTypeError for int/bool input; ValueError naming the batch index for a singular a
 */
export function solve(a: TensorLike, b: TensorLike): Tensor {
  let A = operand("solve", a);
  let B = operand("solve", b);
  const n = squareSize("solve", A, "a");
  requireFloat("solve", B, "b");
  const vector = B.rank === 1 || (B.rank === A.rank - 1 && sameShape(B.shape, A.shape.slice(0, -1)));
  if (vector) B = expandDims(B, -1);
  if (B.rank < 2 || B.shape[B.rank - 2] !== n) {
    throw new ShapeError(`solve: b must have ${n} rows to match a: a is ${fmtShape(A.shape)}, b is ${fmtShape(operand("solve", b).shape)}; expected b of shape [..., ${n}, k] or [..., ${n}]`);
  }
  let batch: number[];
  try {
    batch = broadcastShapes("solve", A.shape.slice(0, -2), B.shape.slice(0, -2));
  } catch {
    throw new ShapeError(`solve: batch dimensions cannot be broadcast together: a is ${fmtShape(A.shape)}, b is ${fmtShape(operand("solve", b).shape)}`);
  }
  const dtype = promote(A.dtype, B.dtype);
  if (A.dtype !== dtype) A = cast(A, dtype);
  if (B.dtype !== dtype) B = cast(B, dtype);
  // Equal batch dimensions in the primitive; broadcastTo's rule sums the cotangents back.
  if (!sameShape(A.shape.slice(0, -2), batch)) A = broadcastTo(A, [...batch, n, n]);
  if (!sameShape(B.shape.slice(0, -2), batch)) B = broadcastTo(B, [...batch, n, B.shape[B.rank - 1]!]);
  const x = bind(solvePrim, [A, B], null);
  return vector ? squeeze(x, -1) : x;
}

/** a scalar per matrix, [...], expanded to [..., 1, 1] so it scales each matrix. */
const perMatrix = (s: Tensor): Tensor => reshape(s, [...s.shape, 1, 1]);

/** tr(A⁻¹·T) per matrix = Σᵢⱼ (A⁻ᵀ)ᵢⱼ Tᵢⱼ. */
const traceInvTimes = (invT: Tensor, t: Tensor): Tensor => sum(mul(invT, t), [-2, -1]);

const detWhy = "; the derivative of det at a singular matrix (its adjugate) is not computed: det's value there is 0, but differentiate it only at nonsingular matrices, or use slogdet";

const detPrim: Primitive<null> = {
  name: "det",
  batch: broadcastingRule(2),
  impl([x]) {
    const { a, n, count } = matrices(x!);
    const piv = new Int32Array(count * n), info = new Int32Array(count);
    const k = kernels().linalg;
    k.luFactor(a, n, count, piv, info);
    const sign = new Float64Array(count), logAbs = new Float64Array(count), det = new Float64Array(count);
    k.luDeterminants(a, piv, n, count, sign, logAbs, det);
    return fromF64(det, x!.shape.slice(0, -2), x!.dtype);
  },
  // d det A = det A · tr(A⁻¹ dA); Ā = C̄ · det A · A⁻ᵀ (Giles 2008, §3.3; Jacobi's formula).
  jvp: ([a], [t], out) => (t ? mul(out, traceInvTimes(mT(invFor("det", detWhy, a!)), t)) : null),
  vjp: (ct, [a], out) => [mul(perMatrix(mul(ct, out)), mT(invFor("det", detWhy, a!)))],
  residuals: [[0, "out"]],
};

/**
 * The determinant of a square matrix or of each in a batch, as `torch.linalg.det`: the product of the LU
 * pivots (partial pivoting, float64) with the permutation's sign; 0 for a singular matrix.
 * Derivative (Jacobi's formula, Giles 2008): d det A = det A · tr(A⁻¹ dA), Ā = C̄ · det A · A⁻ᵀ.
 * @param a float, shape [..., n, n]
 * @returns shape [...] (a scalar for one matrix), a's dtype
 * @throws ShapeError for a non-square argument; DTypeError for int/bool; ValueError when differentiating
 *   at a singular matrix (the derivative there, the adjugate, is not computed)
 */
export function det(a: TensorLike): Tensor {
  const x = operand("det", a);
  squareSize("det", x);
  return bind(detPrim, [x], null);
}

const slogdetWhy = "; the derivative of logabsdet at a singular matrix (A⁻ᵀ) does not exist: logabsdet is −∞ there (sign 0, as NumPy and PyTorch give); differentiate it only at nonsingular matrices";

/**
 * LU determinants of every matrix of x: a singular one (an exactly zero pivot, LAPACK's criterion) has sign 0
 * and logAbs −∞, as numpy.linalg.slogdet and torch.linalg.slogdet give.
 */
function determinants(x: Tensor): { sign: Float64Array; logAbs: Float64Array } {
  const { a, n, count } = matrices(x);
  const piv = new Int32Array(count * n), info = new Int32Array(count);
  const k = kernels().linalg;
  k.luFactor(a, n, count, piv, info);
  const sign = new Float64Array(count), logAbs = new Float64Array(count), det = new Float64Array(count);
  k.luDeterminants(a, piv, n, count, sign, logAbs, det);
  return { sign, logAbs };
}

const logAbsDetPrim: Primitive<null> = {
  name: "slogdet",
  batch: broadcastingRule(2),
  impl: ([x]) => fromF64(determinants(x!).logAbs, x!.shape.slice(0, -2), x!.dtype),
  // d log|det A| = tr(A⁻¹ dA); Ā = C̄ · A⁻ᵀ (Giles 2008, §3.3).
  jvp: ([a], [t]) => (t ? traceInvTimes(mT(invFor("slogdet", slogdetWhy, a!)), t) : null),
  vjp: (ct, [a]) => [mul(perMatrix(ct), mT(invFor("slogdet", slogdetWhy, a!)))],
  residuals: [[0]],
};

// Its parameter "sign" tells a device backend, which finds kernels by name, that this slogdet is the sign.
const signDetPrim: Primitive<"sign"> = {
  name: "slogdet",
  batch: broadcastingRule(2),
  impl: ([x]) => fromF64(determinants(x!).sign, x!.shape.slice(0, -2), x!.dtype),
  jvp: () => null,
  vjp: () => [null],
  nonDifferentiable: true,
};

/**
 * The sign and the log of the absolute value of the determinant, as `torch.linalg.slogdet`: finite where
 * det itself would overflow or underflow (det = sign · exp(logabsdet)). The sign has no derivative; for
 * logabsdet, d = tr(A⁻¹ dA) and Ā = C̄ · A⁻ᵀ (Giles 2008).
 * @param a float, shape [..., n, n]
 * A singular matrix (an exactly zero pivot after partial pivoting) has sign 0 and logabsdet −∞, as NumPy and
 * PyTorch. The derivative there does not exist (logabsdet → −∞): chainrule raises a ValueError naming the batch
 * index, where PyTorch 1.13 returns infinities or NaN (e.g. [[−∞, ∞], [∞, −∞]] at [[1, 2], [2, 4]]).
 * @returns `[sign, logabsdet]`, each of shape [...] and a's dtype (sign is ±1, or 0 for a singular matrix)
 * @throws ShapeError for a non-square argument; DTypeError for int/bool; ValueError naming the batch index when
 *   differentiating at a singular matrix
 */
export function slogdet(a: TensorLike): [sign: Tensor, logabsdet: Tensor] {
  const x = operand("slogdet", a);
  squareSize("slogdet", x);
  const logabsdet = bind(logAbsDetPrim, [x], null);
  return [bind(signDetPrim, [x], "sign"), logabsdet];
}

/** Φ of Murray (2016) as a mask: 1 below the diagonal, ½ on it, 0 above; on the device of `like`. */
function phiMask(n: number, like: Tensor): Tensor {
  const m = allocate(like.dtype, n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) m[i * n + j] = 1;
    m[i * n + i] = 0.5;
  }
  return onDeviceOf(Tensor._concrete(m, [n, n], like.dtype), like);
}

const cholWhy = "; the inverse of the Cholesky factor is needed by the derivative";

const choleskyPrim: Primitive<null> = {
  name: "cholesky",
  batch: broadcastingRule(2),
  impl([x]) {
    const { a, n, count } = matrices(x!);
    const info = new Int32Array(count);
    kernels().linalg.cholesky(a, n, count, info);
    const b = info.findIndex((v) => v !== 0);
    if (b >= 0) {
      throw new ValueError(
        `cholesky: matrix is not positive definite${batchIndexSuffix(x!.shape, b)}: its leading minor of order ${info[b]} is not positive; got shape ${fmtShape(x!.shape)}; cholesky needs a symmetric positive-definite matrix (add a multiple of the identity to a nearly singular one)`,
      );
    }
    return fromF64(a, x!.shape, x!.dtype);
  },
  // For a symmetric perturbation dA: dL = L·Φ(L⁻¹ dA L⁻ᵀ); Ā = ½(S + Sᵀ) with S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹
  // (Murray 2016, eqs. 9–10). The tangent is symmetrised first and the cotangent symmetrised last, so the
  // two rules are exact transposes of each other and the gradient is symmetric, as PyTorch's.
  jvp([_a], [t], L) {
    if (!t) return null;
    const n = L.shape[L.rank - 1]!;
    const li = invFor("cholesky", cholWhy, L);
    const sym = mul(add(t, mT(t)), 0.5);
    return matmul(L, mul(matmul(matmul(li, sym), mT(li)), phiMask(n, L)));
  },
  vjp(ct, _x, L) {
    const n = L.shape[L.rank - 1]!;
    const li = invFor("cholesky", cholWhy, L);
    const s = matmul(matmul(mT(li), mul(matmul(mT(L), ct), phiMask(n, L))), li);
    return [mul(add(s, mT(s)), 0.5)];
  },
  residuals: [["out"]],
};

/**
 * The Cholesky factor of a symmetric positive-definite matrix (or each in a batch), as
 * `torch.linalg.cholesky`: lower-triangular L with A = L·Lᵀ (or U = Lᵀ with `{ upper: true }`). Only the
 * lower triangle of a is read, as LAPACK and PyTorch do. Derivatives (Murray 2016) treat a as symmetric:
 * tangents are symmetrised, and the gradient is symmetric, as PyTorch's. A NaN in the lower triangle is passed on
 * (sqrt(NaN) fills the rest of L from its pivot on), as PyTorch 1.13: not reported as a failure of definiteness.
 * @param a float, shape [..., n, n], symmetric positive definite
 * @returns shape [..., n, n], a's dtype
 * @throws ShapeError for a non-square argument; DTypeError for int/bool; ValueError naming the batch index and
 *   the order of the failing leading minor when a matrix is not positive definite
 */
export function cholesky(a: TensorLike, options: { upper?: boolean } = {}): Tensor {
  const x = operand("cholesky", a);
  squareSize("cholesky", x);
  const l = bind(choleskyPrim, [x], null);
  return options.upper ? mT(l) : l;
}
