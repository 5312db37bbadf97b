import { Tensor } from "../core/tensor.js";
import { kernels } from "../kernels/registry.js";
import { deviceState } from "../core/device.js";
import { checkLr, checkRange, makeRule, type OptimizerRule } from "./rules.js";
import { Optimizer } from "./optimizer.js";
import type { LearningRate } from "./schedules.js";

/** Options for `rmsprop` and `RMSprop`; defaults are PyTorch's. */
export interface RMSpropOptions {
  /** Learning rate, or a schedule of the step number. Default 0.01. */
  lr?: LearningRate;
  /** Smoothing constant of the squared-gradient average. Default 0.99. */
  alpha?: number;
  /** Added to the denominator √v for stability. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (wd·p). Default 0. */
  weightDecay?: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Divide by the estimated variance √(v − ḡ²) instead of √v (Graves 2013). Default false. */
  centered?: boolean;
}

/**
 * RMSprop (Tieleman & Hinton 2012, lecture 6e) with PyTorch's defaults and update, per element:
 * g ← g + wd·p; v ← α·v + (1−α)·g²; d = √v + ε (centered: ḡ ← α·ḡ + (1−α)·g, d = √(v − ḡ²) + ε);
 * with momentum μ > 0: b ← μ·b + g/d, p ← p − lr·b; else p ← p − lr·g/d. Buffers start at 0.
 * State slots: "squareAvg", then "gradAvg" when centered, then "momentum" when μ > 0.
 * @throws ValueError for a non-positive lr, or alpha, eps, weightDecay, momentum out of range
 */
export function rmsprop(options: RMSpropOptions = {}): OptimizerRule {
  const { lr = 0.01, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false } = options;
  checkLr("rmsprop", lr);
  checkRange("rmsprop", "alpha", alpha, 0, 1, false);
  checkRange("rmsprop", "eps", eps, 0, Infinity, true);
  checkRange("rmsprop", "weightDecay", weightDecay, 0, Infinity, true);
  checkRange("rmsprop", "momentum", momentum, 0, Infinity, true);
  const slots = ["squareAvg", ...(centered ? ["gradAvg"] : []), ...(momentum > 0 ? ["momentum"] : [])];
  return makeRule("rmsprop", lr, slots, (p, g, s, rate) =>
    kernels().rmspropUpdate(p, g, s[0]!, centered ? s[1]! : null, momentum > 0 ? s[s.length - 1]! : null, rate, alpha, eps, weightDecay, momentum),
  [alpha, eps, weightDecay, momentum, centered]);
}

/** Options for `adagrad` and `Adagrad`; defaults are PyTorch's. */
export interface AdagradOptions {
  /** Learning rate, or a schedule of the step number. Default 0.01. */
  lr?: LearningRate;
  /** Learning-rate decay: step t uses lr / (1 + (t − 1)·lrDecay). Default 0. */
  lrDecay?: number;
  /** L2 penalty added to the gradient (wd·p). Default 0. */
  weightDecay?: number;
  /** Starting value of the sum of squared gradients. Default 0. */
  initialAccumulatorValue?: number;
  /** Added to the denominator √sum for stability. Default 1e-10. */
  eps?: number;
}

/**
 * Adagrad (Duchi, Hazan & Singer 2011) with PyTorch's defaults and update, per element, step t ≥ 1:
 * g ← g + wd·p; sum ← sum + g²; p ← p − lr/(1 + (t−1)·lrDecay) · g/(√sum + ε). State slot "sum".
 * @throws ValueError for a non-positive lr, or lrDecay, weightDecay, initialAccumulatorValue, eps below 0
 */
export function adagrad(options: AdagradOptions = {}): OptimizerRule {
  const { lr = 0.01, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10 } = options;
  checkLr("adagrad", lr);
  checkRange("adagrad", "lrDecay", lrDecay, 0, Infinity, true);
  checkRange("adagrad", "weightDecay", weightDecay, 0, Infinity, true);
  checkRange("adagrad", "initialAccumulatorValue", initialAccumulatorValue, 0, Infinity, true);
  checkRange("adagrad", "eps", eps, 0, Infinity, true);
  const rule = makeRule("adagrad", lr, ["sum"], (p, g, s, rate, t) => kernels().adagradUpdate(p, g, s[0]!, rate, lrDecay, eps, weightDecay, t), [lrDecay, eps, weightDecay]);
  if (initialAccumulatorValue === 0) return rule;
  return {
    ...rule,
    init(params) {
      const state = rule.init(params);
      state.slots["sum"] = state.slots["sum"]!.map((t) => {
        // A parameter on the GPU keeps its accumulator there.
        if (t.device !== "cpu") return deviceState.backend!.full(t.shape, initialAccumulatorValue, t.dtype);
        const d = t.data.slice();
        d.fill(initialAccumulatorValue);
        return Tensor._concrete(d, t.shape, t.dtype);
      });
      return state;
    },
  };
}

/** Imperative RMSprop (see `rmsprop`): `new RMSprop(model.parameters(), { lr: 0.01 })`. */
export class RMSprop extends Optimizer {
  constructor(params: Record<string, Tensor> | readonly Tensor[], options: RMSpropOptions = {}) {
    super(params, rmsprop(options));
  }
}

/** Imperative Adagrad (see `adagrad`): `new Adagrad(model.parameters(), { lr: 0.01 })`. */
export class Adagrad extends Optimizer {
  constructor(params: Record<string, Tensor> | readonly Tensor[], options: AdagradOptions = {}) {
    super(params, adagrad(options));
  }
}
