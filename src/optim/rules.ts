import { Tensor } from "../core/tensor.js";
import { allocate, isFloat, type TypedArray } from "../core/dtype.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { DTypeError, ShapeError, ValueError } from "../core/errors.js";
import { leaves, rebuild, type Pytree } from "../autodiff/tree.js";
import { kernels } from "../kernels/registry.js";
import { deviceState } from "../core/device.js";
import { zerosLike } from "../ops/creation.js";
import type { LearningRate } from "./schedules.js";

/**
 * An optimizer's state, plain data so it can be saved: the number of updates done and, per slot name
 * (e.g. "momentum", or "m" and "v"), one buffer per parameter in the parameters' leaf order.
 */
export interface OptimizerState {
  /** Updates applied so far; the next update is number step + 1. */
  step: number;
  /** Per-parameter buffers, aligned with the parameter leaves in tree order. */
  slots: Record<string, Tensor[]>;
}

/** The parameters after one update, and the optimizer state to pass to the next. */
export interface UpdateResult<P> {
  params: P;
  state: OptimizerState;
}

/**
 * An optimizer in functional form (as Optax's gradient transformations): `init` creates the state for a
 * parameter pytree, `update` maps (params, grads, state) to new params and state without mutating anything.
 * The update runs as one fused loop per parameter on the concrete values, so it records nothing on any trace.
 */
export interface OptimizerRule {
  /** "sgd", "adam" or "adamw". */
  readonly name: string;
  /** Names of the per-parameter buffers this rule keeps. */
  readonly slotNames: readonly string[];
  /** The learning rate used for update number `step + 1` (after `step` updates). */
  learningRate(step: number): number;
  /** Fresh state (zero buffers, step 0) for parameters shaped like `params`. */
  init(params: Pytree): OptimizerState;
  /**
   * One update. `grads` has the structure of `params` (as `grad`/`valueAndGrad` return it).
   * @throws ShapeError when a gradient's shape differs from its parameter's; ValueError for mismatched trees or state
   */
  update<P extends Pytree>(params: P, grads: Pytree, state: OptimizerState): UpdateResult<P>;
  /** @internal One parameter's update on fresh copies: returns the new value and new slot buffers. */
  updateOne(p: Tensor, g: Tensor, slots: Tensor[], step: number): [Tensor, Tensor[]];
}

function copyOf(t: Tensor): TypedArray {
  const d = allocate(t.dtype, t.size);
  d.set(t.data);
  return d;
}

function tensorLeaves(op: string, what: string, tree: unknown): Tensor[] {
  return leaves(tree).map((l, i) => {
    if (!(l instanceof Tensor)) throw new ValueError(`${op}: ${what} leaf ${i} is a number; optimizers update tensors`);
    return l;
  });
}

/** @internal @throws ValueError unless lr is a positive number or a schedule */
export function checkLr(op: string, lr: LearningRate): void {
  if (typeof lr === "function") return;
  if (!(Number.isFinite(lr) && lr > 0)) throw new ValueError(`${op}: lr must be a positive number or a schedule, got ${lr}`);
}

/** @internal @throws ValueError unless lo ≤ v ≤ hi (v < hi when hiOpen) */
export function checkRange(op: string, what: string, v: number, lo: number, hi: number, hiOpen: boolean): void {
  if (!(v >= lo && (hiOpen ? v < hi : v <= hi))) throw new ValueError(`${op}: ${what} must be in [${lo}, ${hi}${hiOpen ? ")" : "]"}, got ${v}`);
}

/** @internal One parameter's update in place: p, g, slot buffers, learning rate, step t ≥ 1. */
export type Kernel = (p: TypedArray, g: TypedArray, slots: TypedArray[], lr: number, t: number) => void;

/** @internal An OptimizerRule from a per-parameter update kernel over (p, g, slots, lr, t). */
export function makeRule(name: string, lr: LearningRate, slotNames: string[], kernel: Kernel, onDevice?: readonly (number | boolean)[]): OptimizerRule {
  const learningRate = (step: number): number => {
    const v = typeof lr === "function" ? lr(step) : lr;
    if (!Number.isFinite(v) || v < 0) throw new ValueError(`${name}: the schedule gave learning rate ${v} at step ${step}; expected a finite number ≥ 0`);
    return v;
  };
  const rule: OptimizerRule = {
    name,
    slotNames,
    learningRate,
    init(params) {
      const ps = tensorLeaves(name, "params", params);
      const slots: Record<string, Tensor[]> = {};
      // Slots live where their parameter lives.
      for (const s of slotNames) slots[s] = ps.map((p) => (p.device === "cpu" ? Tensor._concrete(allocate(p.dtype, p.size), p.shape, p.dtype) : zerosLike(p)));
      return { step: 0, slots };
    },
    updateOne(p, g, slots, step) {
      if (!isFloat(p.dtype)) throw new DTypeError(`${name}: parameter "${p.name ?? "?"}" has dtype ${p.dtype}; only float parameters can be optimized`);
      if (!sameShape(p.shape, g.shape)) {
        throw new ShapeError(`${name}: gradient has shape ${fmtShape(g.shape)}, expected the parameter's shape ${fmtShape(p.shape)}`);
      }
      if (p._concreteValue(true)._device !== null) {
        if (onDevice === undefined) throw new ValueError(`${name}: this optimizer has no webgpu update yet; use sgd, adam, adamw, rmsprop or adagrad for parameters on the GPU`);
        return deviceState.backend!.optimizerUpdate(name, p._concreteValue(true), g._concreteValue(true), slots.map((s) => s._concreteValue(true)), learningRate(step), step + 1, onDevice);
      }
      const pd = copyOf(p);
      const sd = slots.map(copyOf);
      kernel(pd, g.data, sd, learningRate(step), step + 1);
      return [Tensor._concrete(pd, p.shape, p.dtype), sd.map((d) => Tensor._concrete(d, p.shape, p.dtype))];
    },
    update(params, grads, state) {
      const ps = tensorLeaves(name, "params", params);
      const gs = tensorLeaves(name, "grads", grads);
      if (gs.length !== ps.length) throw new ValueError(`${name}: grads have ${gs.length} tensors, params have ${ps.length}; pass grads shaped like params`);
      for (const s of slotNames) {
        if (state.slots[s]?.length !== ps.length) throw new ValueError(`${name}: state slot "${s}" does not match the params; create the state with init(params)`);
      }
      const newSlots: Record<string, Tensor[]> = {};
      for (const s of slotNames) newSlots[s] = [];
      const newParams = ps.map((p, i) => {
        const [np, ns] = rule.updateOne(p, gs[i]!, slotNames.map((s) => state.slots[s]![i]!), state.step);
        ns.forEach((t, k) => newSlots[slotNames[k]!]!.push(t));
        return np;
      });
      return { params: rebuild(params, newParams), state: { step: state.step + 1, slots: newSlots } };
    },
  };
  return rule;
}

/** Options for `sgd` and `SGD`. */
export interface SGDOptions {
  /** Learning rate, or a schedule of the step number. */
  lr: LearningRate;
  /** Momentum factor μ ≥ 0 (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (Sutskever et al. 2013, PyTorch's form); needs momentum > 0. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (wd·p). Default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as PyTorch's
 * `SGD` (dampening 0): g ← g + wd·p; buf ← μ·buf + g; p ← p − lr·(Nesterov ? g + μ·buf : buf).
 * @throws ValueError for a non-positive lr, negative momentum or weight decay, or Nesterov without momentum
 */
export function sgd(options: SGDOptions): OptimizerRule {
  const { lr, momentum = 0, nesterov = false, weightDecay = 0 } = options;
  checkLr("sgd", lr);
  checkRange("sgd", "momentum", momentum, 0, Infinity, true);
  checkRange("sgd", "weightDecay", weightDecay, 0, Infinity, true);
  if (nesterov && momentum <= 0) throw new ValueError("sgd: Nesterov momentum needs momentum > 0");
  const slots = momentum > 0 ? ["momentum"] : [];
  return makeRule("sgd", lr, slots, (p, g, s, rate) => kernels().sgdUpdate(p, g, s[0] ?? null, rate, momentum, nesterov, weightDecay), [momentum, nesterov, weightDecay]);
}

/** Options for `adam`, `adamw`, `Adam` and `AdamW`. */
export interface AdamOptions {
  /** Learning rate, or a schedule of the step number. Default 1e-3. */
  lr?: LearningRate;
  /** Decay rates of the first and second moment estimates. Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator for stability. Default 1e-8. */
  eps?: number;
  /** Weight decay: L2 (added to the gradient) for Adam, decoupled for AdamW. Default 0 for Adam, 0.01 for AdamW. */
  weightDecay?: number;
}

function adamRule(name: string, options: AdamOptions, decoupled: boolean): OptimizerRule {
  const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = decoupled ? 0.01 : 0 } = options;
  checkLr(name, lr);
  checkRange(name, "betas[0]", betas[0], 0, 1, true);
  checkRange(name, "betas[1]", betas[1], 0, 1, true);
  checkRange(name, "eps", eps, 0, Infinity, true);
  checkRange(name, "weightDecay", weightDecay, 0, Infinity, true);
  return makeRule(name, lr, ["m", "v"], (p, g, s, rate, t) => kernels().adamUpdate(p, g, s[0]!, s[1]!, rate, betas[0], betas[1], eps, weightDecay, decoupled, t), [betas[0], betas[1], eps, weightDecay, decoupled]);
}

/**
 * Adam (Kingma & Ba 2015) with bias correction, in PyTorch's form; `weightDecay` adds wd·p to the gradient.
 * @throws ValueError for a non-positive lr or betas/eps out of range
 */
export function adam(options: AdamOptions = {}): OptimizerRule {
  return adamRule("adam", options, false);
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay p ← p·(1 − lr·wd), default wd 0.01,
 * as PyTorch's `AdamW`.
 * @throws ValueError for a non-positive lr or betas/eps out of range
 */
export function adamw(options: AdamOptions = {}): OptimizerRule {
  return adamRule("adamw", options, true);
}
