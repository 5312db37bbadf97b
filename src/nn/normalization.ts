import type { Tensor } from "../core/tensor.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { add, mean, mul, ones, rsqrt, sub, variance, zeros } from "../ops/index.js";
import { Module } from "./module.js";

/** Options for `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance before the square root. Default 1e-5, as PyTorch. */
  eps?: number;
  /** Learn a per-element scale `weight` (init 1) and shift `bias` (init 0). Default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether to have `bias`. Default true. */
  bias?: boolean;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Layer normalization (Ba, Kiros & Hinton 2016), as PyTorch's `nn.LayerNorm`: each sample is standardised
 * over its last `normalizedShape.length` dimensions with the biased variance, y = (x − mean) / √(var + eps)
 * · weight + bias. Parameters `weight` and `bias`, both of shape `normalizedShape`. The same in training
 * and evaluation; no running statistics.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly affine: boolean;
  readonly hasBias: boolean;
  /**
   * @param normalizedShape the trailing dimensions to normalise over: one size or a list
   * @throws ValueError for an empty shape, non-positive sizes or a negative eps
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ValueError(`LayerNorm: normalizedShape must be one or more positive integers, got ${JSON.stringify(normalizedShape)}`);
    }
    this.normalizedShape = shape;
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new ValueError(`LayerNorm: eps must be ≥ 0, got ${this.eps}`);
    this.affine = options.elementwiseAffine ?? true;
    this.hasBias = this.affine && (options.bias ?? true);
    const dtype = options.dtype ?? "float32";
    if (this.affine) this.registerParameter("weight", ones(shape, dtype));
    if (this.hasBias) this.registerParameter("bias", zeros(shape, dtype));
  }

  /**
   * @param x shape [..., ...normalizedShape]
   * @returns the same shape
   * @throws ShapeError when x's trailing dimensions are not normalizedShape
   */
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.rank - k);
    if (x.rank < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(`LayerNorm: input has shape ${fmtShape(x.shape)}, expected trailing dimensions ${fmtShape(this.normalizedShape)}`);
    }
    const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
    let y = mul(sub(x, mean(x, axes, true)), rsqrt(add(variance(x, axes, true), this.eps)));
    if (this.affine) y = mul(y, this.param("weight"));
    if (this.hasBias) y = add(y, this.param("bias"));
    return y;
  }

  override describe(): string {
    return `LayerNorm(${fmtShape(this.normalizedShape)}, eps ${this.eps})`;
  }
}
