import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { elementwise } from "../core/define.js";
import { allocate, isFloat, promote } from "../core/dtype.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { DTypeError, ShapeError, ValueError } from "../core/errors.js";
import { bind } from "../autodiff/bind.js";
import { deviceState } from "../core/device.js";
import { add, arange, broadcastTo, cast, equal, full, mean, mul, neg, notEqual, reshape, sigmoid, square, sub, sum, where } from "../ops/index.js";
import { operand } from "../ops/operands.js";
import { requireFloat } from "../ops/select.js";
import { kernels } from "../kernels/registry.js";
import { logSoftmax, softmax } from "./activations.js";
import { leadingRule } from "../core/batching.js";

/** How a loss over many elements is reduced, as in PyTorch: average, total, or one loss per element. */
export type Reduction = "mean" | "sum" | "none";

function reduce(op: string, losses: Tensor, reduction: Reduction | undefined): Tensor {
  switch (reduction ?? "mean") {
    case "mean":
      return mean(losses);
    case "sum":
      return sum(losses);
    case "none":
      return losses;
    default:
      throw new ValueError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
  }
}

/** Expands a per-row cotangent [...] to [..., 1] so it broadcasts over the class axis. */
const perRow = (ct: Tensor): Tensor => reshape(ct, [...ct.shape, 1]);

// d/dx of Σ_c t_c·(lse(x) − x_c) is softmax(x)·Σ_c t_c − t, i.e. softmax − onehot for one-hot targets;
// d/dt_c is lse(x) − x_c = −logSoftmax(x)_c. Written with public ops, so second order works too.
const dLogits = (x: Tensor, t: Tensor): Tensor => sub(mul(softmax(x), sum(t, -1, true)), t);

const softmaxCrossEntropyPrim: Primitive<null> = {
  name: "softmaxCrossEntropy",
  batch: leadingRule(), // the kernel needs logits and targets of one shape
  impl([x, t]) {
    const classes = x!.shape[x!.rank - 1]!;
    const rowsShape = x!.shape.slice(0, -1);
    const out = allocate(x!.dtype, x!.size / Math.max(classes, 1));
    kernels().softmaxCrossEntropyRows(x!.data, t!.data, out.length, classes, out);
    return Tensor._concrete(out, rowsShape, x!.dtype);
  },
  jvp([x, t], [tx, tt]) {
    const a = tx ? sum(mul(dLogits(x!, t!), tx), -1) : null;
    const b = tt ? sum(mul(neg(logSoftmax(x!)), tt), -1) : null;
    return a && b ? add(a, b) : a ?? b;
  },
  vjp(ct, [x, t], _out, _p, needs) {
    const c = perRow(ct);
    return [needs[0] ? mul(dLogits(x!, t!), c) : null, needs[1] ? mul(neg(logSoftmax(x!)), c) : null];
  },
  residuals: [[0, 1], [0]],
};

/**
 * Softmax cross-entropy of each row as one fused primitive: loss[...] = Σ_c t[..., c]·(logsumexp(x[..., :]) − x[..., c]).
 * Its gradient with respect to the logits is softmax(x)·Σ_c t_c − t, which is exactly softmax − onehot
 * for one-hot targets and stays finite for logits of any finite size (±1e4 included); the rule is
 * written with public ops, so second derivatives work.
 * @param logits float, shape [..., C] (classes on the last axis)
 * @param targets class probabilities, same shape (cast to the logits' dtype)
 * @returns one loss per row, shape [...]
 * @throws ShapeError when the shapes differ; DTypeError for int logits
 */
export function softmaxCrossEntropy(logits: TensorLike, targets: TensorLike): Tensor {
  const x = operand("softmaxCrossEntropy", logits);
  const t0 = operand("softmaxCrossEntropy", targets);
  requireFloat("softmaxCrossEntropy", x, "logits");
  if (x.rank === 0) throw new ShapeError("softmaxCrossEntropy: logits must have a class axis; got shape []");
  if (!sameShape(x.shape, t0.shape)) {
    throw new ShapeError(`softmaxCrossEntropy: targets have shape ${fmtShape(t0.shape)}, expected the logits' shape ${fmtShape(x.shape)}`);
  }
  const t = t0.dtype === x.dtype ? t0 : cast(t0, x.dtype);
  return bind(softmaxCrossEntropyPrim, [x, t], null);
}

/** Options for `crossEntropy`. */
export interface CrossEntropyOptions {
  /** "mean" over the batch (default), "sum", or "none" for one loss per sample. */
  reduction?: Reduction;
  /** ε in [0, 1]: targets become (1 − ε)·target + ε/C (Szegedy et al. 2016; PyTorch's label_smoothing). Default 0. */
  labelSmoothing?: number;
  /**
   * With int32 labels: positions whose label equals this value (e.g. −1 for padding) contribute neither
   * loss nor gradient, and "mean" averages over the other positions only (PyTorch's ignore_index).
   */
  ignoreIndex?: number;
}

/**
 * One-hot (smoothed) targets from int labels, validated against the class count, and the number of
 * labels not equal to `ignore`. Under vmap the labels are batched: the check reads every example, the
 * targets are built with ops, and the count is -1 (the caller counts per example with ops); an example
 * whose labels are all ignored is refused here, as the mean over it would be 0/0.
 */
function oneHotTargets(labels: Tensor, x: Tensor, eps: number, ignore: number | undefined): [Tensor, number] {
  const classes = x.shape[x.rank - 1]!;
  const off = eps / classes;
  const onDevice = labels._concreteValue(true);
  if (onDevice._device !== null) {
    // Labels on the GPU are checked there (an out-of-range one would give an all-zero target row, a loss that
    // silently leaves its example out); the next read-back of any GPU tensor throws if one was out of range.
    deviceState.backend!.checkRange("crossEntropy", onDevice, 0, classes, `for ${classes} classes`,
      "Labels must be class indices of the logits' last axis.", ignore, "label");
    const hit = equal(reshape(labels, [...labels.shape, 1]), arange(0, classes, 1, "int32").to("webgpu"));
    let t = where(hit, 1 - eps + off, full([], off, x.dtype));
    if (ignore !== undefined) t = where(reshape(equal(labels, ignore), [...labels.shape, 1]), 0, t);
    return [t, -1];
  }
  const l = labels._concreteValue(true).data;
  let kept = 0;
  for (let r = 0; r < l.length; r++) {
    const c = l[r]!;
    if (c === ignore) continue;
    kept++;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new ValueError(`crossEntropy: label ${c} at position ${r} is out of range; expected an integer in [0, ${classes - 1}] for ${classes} classes`);
    }
  }
  if (labels._data === null) {
    const per = Math.max(labels.size, 1);
    for (let e = 0; ignore !== undefined && e * per < l.length; e++) {
      if (l.subarray(e * per, (e + 1) * per).every((c) => c === ignore)) {
        throw new ValueError(`crossEntropy: every label of example ${e} equals ignoreIndex ${ignore}, so the mean is over no position; use reduction "sum"`);
      }
    }
    const hit = equal(reshape(labels, [...labels.shape, 1]), arange(0, classes, 1, "int32"));
    let t = where(hit, 1 - eps + off, full([], off, x.dtype));
    // An all-zero target row: the fused loss Σ t·(lse − x) and its gradient softmax·Σt − t are both exactly 0.
    if (ignore !== undefined) t = where(reshape(equal(labels, ignore), [...labels.shape, 1]), 0, t);
    return [t, -1];
  }
  const rows = labels.size;
  const data = allocate(x.dtype, rows * classes);
  if (off !== 0) data.fill(off);
  for (let r = 0; r < rows; r++) {
    const c = l[r]!;
    if (c !== ignore) data[r * classes + c] = 1 - eps + off;
  }
  const onehot = Tensor._concrete(data, x.shape, x.dtype);
  // Targets go where the logits are (labels checked on the CPU, logits on the GPU: the usual training loop).
  return [x.device === "webgpu" ? onehot.to("webgpu") : onehot, kept];
}

/**
 * Cross-entropy between softmax(logits) and targets, as PyTorch's `cross_entropy`. Targets are either
 * int32 class labels of shape [...] or class probabilities (e.g. one-hot) of the logits' shape [..., C].
 * Uses the fused `softmaxCrossEntropy` primitive, so the gradient with respect to the logits is exactly
 * softmax − onehot (divided by the batch size for "mean") and finite at any logit size.
 * @param logits float, shape [N, C] (or [..., C]; classes last)
 * @param targets int32 labels [N] with values in [0, C) (or `ignoreIndex`), or float probabilities [N, C]
 * @returns a scalar for "mean"/"sum", shape [N] for "none" (0 at ignored positions)
 * @throws ShapeError for mismatched shapes; ValueError for a label out of range, a bad reduction, ε outside
 *   [0, 1], ignoreIndex with probability targets, or a "mean" over labels that are all ignored (PyTorch's NaN)
 */
export function crossEntropy(logits: TensorLike, targets: TensorLike, options: CrossEntropyOptions = {}): Tensor {
  const x = operand("crossEntropy", logits);
  const t = operand("crossEntropy", targets);
  requireFloat("crossEntropy", x, "logits");
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (x.rank === 0) throw new ShapeError("crossEntropy: logits must have a class axis, e.g. [N, C]; got shape []");
  let probs: Tensor;
  const ignore = options.ignoreIndex;
  if (!isFloat(t.dtype)) {
    if (!sameShape(t.shape, x.shape.slice(0, -1))) {
      throw new ShapeError(`crossEntropy: labels have shape ${fmtShape(t.shape)}, expected ${fmtShape(x.shape.slice(0, -1))} for logits ${fmtShape(x.shape)}`);
    }
    let kept: number;
    [probs, kept] = oneHotTargets(t, x, eps, ignore);
    if (ignore !== undefined && kept < t.size) {
      const losses = softmaxCrossEntropy(x, probs);
      if ((options.reduction ?? "mean") !== "mean") return reduce("crossEntropy", losses, options.reduction);
      if (kept === 0) throw new ValueError(`crossEntropy: every label equals ignoreIndex ${ignore}, so the mean is over no position; use reduction "sum"`);
      // Batched labels (vmap): each example's own count, as ops.
      return sum(losses).div(kept < 0 ? sum(cast(notEqual(t, ignore), x.dtype)) : kept);
    }
  } else {
    if (ignore !== undefined) throw new ValueError("crossEntropy: ignoreIndex applies to int32 class labels, not to probability targets");
    if (!sameShape(t.shape, x.shape)) {
      throw new ShapeError(`crossEntropy: probability targets have shape ${fmtShape(t.shape)}, expected the logits' shape ${fmtShape(x.shape)} (or int32 labels of shape ${fmtShape(x.shape.slice(0, -1))})`);
    }
    probs = eps === 0 ? t : add(mul(1 - eps, t), eps / x.shape[x.rank - 1]!);
  }
  return reduce("crossEntropy", softmaxCrossEntropy(x, probs), options.reduction);
}

const bcePrim = elementwise(
  "binaryCrossEntropyWithLogits",
  ([x, y]) => {
    const out = allocate(x!.dtype, x!.size);
    kernels().sigmoidCrossEntropy(x!.data, y!.data, out);
    return Tensor._concrete(out, x!.shape, x!.dtype);
  },
  [(x) => sub(sigmoid(x[0]!), x[1]!), (x) => neg(x[0]!)],
  (n) => [`σ(${n[0]})-${n[1]}`, `-${n[0]}`],
  { batch: leadingRule() },
);

/**
 * Binary cross-entropy on logits, −[y·log σ(x) + (1 − y)·log(1 − σ(x))], computed as
 * max(x, 0) − x·y + log(1 + e^−|x|) so it never overflows (PyTorch's `binary_cross_entropy_with_logits`).
 * A primitive, so the gradient is exactly σ(x) − y, including at x = 0.
 * @param logits float, any shape
 * @param targets in [0, 1], broadcastable to the logits' shape
 * @throws ShapeError if the targets do not broadcast; DTypeError for int logits
 */
export function binaryCrossEntropyWithLogits(logits: TensorLike, targets: TensorLike, options: { reduction?: Reduction } = {}): Tensor {
  const x = operand("binaryCrossEntropyWithLogits", logits);
  requireFloat("binaryCrossEntropyWithLogits", x, "logits");
  let y = operand("binaryCrossEntropyWithLogits", targets);
  if (y.dtype !== x.dtype) y = cast(y, x.dtype);
  if (!sameShape(y.shape, x.shape)) y = broadcastTo(y, x.shape);
  return reduce("binaryCrossEntropyWithLogits", bind(bcePrim, [x, y], null), options.reduction);
}

/**
 * Mean squared error (pred − target)², reduced as asked (default mean over all elements, as PyTorch's `mse_loss`).
 * @throws ShapeError if the shapes do not broadcast
 */
export function mseLoss(pred: TensorLike, target: TensorLike, options: { reduction?: Reduction } = {}): Tensor {
  const p = operand("mseLoss", pred);
  const t = operand("mseLoss", target);
  if (!isFloat(promote(p.dtype, t.dtype))) throw new DTypeError(`mseLoss: needs a float input; got ${p.dtype} and ${t.dtype}`);
  return reduce("mseLoss", square(sub(p, t)), options.reduction);
}
