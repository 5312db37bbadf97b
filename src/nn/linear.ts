import type { Tensor, TensorLike } from "../core/tensor.js";
import { ShapeError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";
import { add } from "../ops/index.js";
import { matmulNT } from "../ops/linalg.js";
import { operand } from "../ops/operands.js";

/**
 * y = x · Wᵀ + b, as PyTorch's `torch.nn.functional.linear`: the weight is stored [out, in], PyTorch's
 * layout, so weights move between the two libraries unchanged. The transpose is read through strides
 * by the product kernel (no copy).
 * @param x shape [..., in] (at least 1-D)
 * @param weight shape [out, in]
 * @param bias optional, shape [out]
 * @returns shape [..., out]; float (the promoted float type of x and weight)
 * @throws ShapeError when weight is not 2-D, x's last dimension is not `in`, or bias is not [out]
 */
export function linear(x: TensorLike, weight: TensorLike, bias?: TensorLike | null): Tensor {
  const t = operand("linear", x);
  const w = operand("linear", weight);
  if (w.rank !== 2) throw new ShapeError(`linear: weight must be 2-D [out, in], got shape ${fmtShape(w.shape)}`);
  if (t.rank === 0 || t.shape[t.rank - 1] !== w.shape[1]) {
    throw new ShapeError(`linear: input has shape ${fmtShape(t.shape)}, expected last dimension ${w.shape[1]} (weight is [out, in] = ${fmtShape(w.shape)})`);
  }
  const out = matmulNT(t, w);
  if (bias === undefined || bias === null) return out;
  const b = operand("linear", bias);
  if (b.rank !== 1 || b.shape[0] !== w.shape[0]) throw new ShapeError(`linear: bias must have shape [${w.shape[0]}], got ${fmtShape(b.shape)}`);
  return add(out, b);
}
