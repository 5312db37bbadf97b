import { Tensor } from "../core/tensor.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { add, cast, mean, mul, ones, reshape, rsqrt, scalar, square, sub, variance, zeros } from "../ops/index.js";
import { onDeviceOf } from "../core/device.js";
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
    // The deviations once, for both the output and the biased variance (variance() would recompute them).
    const dev = sub(x, mean(x, axes, true));
    let y = mul(dev, rsqrt(add(mean(square(dev), axes, true), this.eps)));
    if (this.affine) y = mul(y, this.param("weight"));
    if (this.hasBias) y = add(y, this.param("bias"));
    return y;
  }

  override describe(): string {
    return `LayerNorm(${fmtShape(this.normalizedShape)}, eps ${this.eps})`;
  }
}

/** Options for `BatchNorm1d` and `BatchNorm2d`. */
export interface BatchNormOptions {
  /** Added to the variance before the square root. Default 1e-5, as PyTorch. */
  eps?: number;
  /**
   * Weight of the current batch in the running statistics: running ← (1 − momentum)·running + momentum·batch.
   * Default 0.1, as PyTorch; `null` gives a cumulative average over all batches seen (1 / batches tracked).
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (init 1) and shift `bias` (init 0). Default true. */
  affine?: boolean;
  /** Keep running statistics for evaluation. Default true; without, every call uses the batch's statistics. */
  trackRunningStats?: boolean;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Batch normalization (Ioffe & Szegedy 2015) with PyTorch's semantics, over channel axis 1. In training mode
 * (or without running statistics) each channel is standardised with its mean and biased variance over the
 * batch and spatial axes, and the running statistics are updated with the unbiased variance; in evaluation
 * mode the running statistics are used. Parameters `weight`, `bias` [C]; buffers `running_mean` [C] (init 0),
 * `running_var` [C] (init 1), `num_batches_tracked` [] (int32; PyTorch's is int64), in PyTorch's state-dict order.
 * Running statistics are updated whenever the module runs in training mode, also inside `grad` (from the
 * values, recording nothing).
 */
export abstract class BatchNorm extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** The ranks accepted: [2, 3] for BatchNorm1d, [4] for BatchNorm2d. */
  protected abstract readonly ranks: readonly number[];

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new ValueError(`${this.constructor.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new ValueError(`${this.constructor.name}: eps must be ≥ 0, got ${this.eps}`);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${this.constructor.name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = options.dtype ?? "float32";
    if (this.affine) {
      this.registerParameter("weight", ones([numFeatures], dtype));
      this.registerParameter("bias", zeros([numFeatures], dtype));
    }
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures], dtype));
      this.registerBuffer("running_var", ones([numFeatures], dtype));
      this.registerBuffer("num_batches_tracked", scalar(0, { dtype: "int32" }));
    }
  }

  /**
   * @param x shape [N, C, ...] with C = numFeatures (BatchNorm1d: [N, C] or [N, C, L]; BatchNorm2d: [N, C, H, W])
   * @returns the same shape
   * @throws ShapeError for another rank or channel count; ValueError in training mode with one value per channel
   */
  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      const want = this.ranks.map((r) => (r === 2 ? "[N, C]" : r === 3 ? "[N, C, L]" : "[N, C, H, W]")).join(" or ");
      throw new ShapeError(`${name}: input has shape ${fmtShape(x.shape)}, expected ${want} with C = ${this.numFeatures}`);
    }
    const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
    const perChannel = [1, this.numFeatures, ...Array.from({ length: x.rank - 2 }, () => 1)];
    const useBatch = this.training || !this.trackRunningStats;
    let centred: Tensor, inv: Tensor;
    if (useBatch) {
      const n = x.size / this.numFeatures;
      if (this.training && n <= 1) throw new ValueError(`${name}: expected more than 1 value per channel when training, got input shape ${fmtShape(x.shape)}`);
      const mu = mean(x, axes, true);
      const v = variance(x, axes, true);
      if (this.training && this.trackRunningStats) this._update(mu, v, n);
      centred = sub(x, mu);
      inv = rsqrt(add(v, this.eps));
    } else {
      // The statistics go where x lives (they stay on the CPU until a batch on the GPU updates them).
      centred = sub(x, reshape(onDeviceOf(this.buffer("running_mean"), x), perChannel));
      inv = rsqrt(add(reshape(onDeviceOf(this.buffer("running_var"), x), perChannel), this.eps));
    }
    let y = mul(centred, inv);
    if (this.affine) y = add(mul(y, reshape(this.param("weight"), perChannel)), reshape(this.param("bias"), perChannel));
    return y;
  }

  /** The running statistics after one batch, from the values (nothing recorded): PyTorch's update rule. */
  private _update(mu: Tensor, v: Tensor, n: number): void {
    const tracked = this.buffer("num_batches_tracked").item() + 1;
    this.setBuffer("num_batches_tracked", scalar(tracked, { dtype: "int32" }));
    const m = this.momentum ?? 1 / tracked;
    const rm = this.buffer("running_mean"), rv = this.buffer("running_var");
    const bmu = mu._concreteValue(true), bvar = v._concreteValue(true);
    if (bmu.device !== "cpu") {
      // A batch on the GPU, whose values cannot be read synchronously: the same rule as ops on the concrete
      // values (nothing is recorded), in float32 on the GPU, where the statistics then stay.
      const next = (old: Tensor, batch: Tensor, unbias: number): Tensor =>
        cast(add(mul(onDeviceOf(old, batch), 1 - m), mul(reshape(batch, [this.numFeatures]), m * unbias)), old.dtype);
      this.setBuffer("running_mean", next(rm, bmu, 1));
      this.setBuffer("running_var", next(rv, bvar, n / (n - 1)));
      return;
    }
    const mean1 = new Float64Array(this.numFeatures), var1 = new Float64Array(this.numFeatures);
    const bm = mu.data, bv = v.data, om = rm.data, ov = rv.data;
    for (let c = 0; c < this.numFeatures; c++) {
      mean1[c] = (1 - m) * om[c]! + m * bm[c]!;
      var1[c] = (1 - m) * ov[c]! + m * bv[c]! * (n / (n - 1)); // unbiased, as PyTorch
    }
    // Computed in float64, stored in the buffers' own dtype: a float32 module keeps float32 statistics (as in
    // its state dict and PyTorch's), so evaluation does not promote its outputs to float64.
    const keep = (d: Float64Array) => (rm.dtype === "float32" ? Float32Array.from(d) : d);
    this.setBuffer("running_mean", Tensor._concrete(keep(mean1), [this.numFeatures], rm.dtype));
    this.setBuffer("running_var", Tensor._concrete(keep(var1), [this.numFeatures], rv.dtype));
  }

  override describe(): string {
    return `${this.constructor.name}(${this.numFeatures}, eps ${this.eps}, momentum ${this.momentum})`;
  }
}

/** Batch normalization over [N, C] or [N, C, L] inputs, as PyTorch's `nn.BatchNorm1d`; see `BatchNorm` above for the semantics. */
export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3] as const;
}

/** Batch normalization over [N, C, H, W] inputs, as PyTorch's `nn.BatchNorm2d`; see `BatchNorm` above for the semantics. */
export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4] as const;
}
