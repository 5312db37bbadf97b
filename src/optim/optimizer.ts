import { Tensor } from "../core/tensor.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { GradientError, ShapeError, ValueError } from "../core/errors.js";
import { assignLeaf } from "../autodiff/imperative.js";
import { adam, adamw, sgd, type AdamOptions, type OptimizerRule, type OptimizerState, type SGDOptions } from "./rules.js";

/**
 * Flattens an optimizer state into named tensors ("step", then "<slot>.<index>"), ready for
 * `io.saveSafetensors`; `stateFromDict` reverses it.
 */
export function stateToDict(state: OptimizerState): Record<string, Tensor> {
  const out: Record<string, Tensor> = { step: Tensor._concrete(Int32Array.of(state.step), [], "int32") };
  for (const [slot, ts] of Object.entries(state.slots)) ts.forEach((t, i) => (out[`${slot}.${i}`] = t._concreteValue()));
  return out;
}

/**
 * Rebuilds an optimizer state from `stateToDict` output.
 * @throws ValueError when "step" is missing or a slot's indices are not 0..n−1
 */
export function stateFromDict(dict: Record<string, Tensor>): OptimizerState {
  const step = dict.step;
  if (!(step instanceof Tensor) || step.size !== 1) throw new ValueError('stateFromDict: missing the scalar "step" entry');
  const slots: Record<string, Tensor[]> = {};
  for (const [name, t] of Object.entries(dict)) {
    if (name === "step") continue;
    const m = /^(.+)\.(\d+)$/.exec(name);
    if (!m) throw new ValueError(`stateFromDict: unexpected entry "${name}"; expected "<slot>.<index>"`);
    (slots[m[1]!] ??= [])[Number(m[2])] = t;
  }
  for (const [slot, ts] of Object.entries(slots)) {
    for (let i = 0; i < ts.length; i++) if (!ts[i]) throw new ValueError(`stateFromDict: slot "${slot}" has no entry ${i}`);
  }
  return { step: step.item(), slots };
}

/**
 * An optimizer in imperative form (PyTorch style): holds `requiresGrad` parameter leaves and updates
 * them in place from their `.grad` after `loss.backward()`. Parameters whose `.grad` is null are skipped.
 * The same rule objects (`sgd`, `adam`, `adamw`) drive the functional form.
 */
export class Optimizer {
  /** The parameter leaves being optimized, in order. */
  readonly params: readonly Tensor[];
  /** Step count and per-parameter buffers (plain data; see `stateDict`). */
  state: OptimizerState;

  /**
   * @param params leaves created with `requiresGrad: true`, e.g. `model.parameters()` (an object or array)
   * @throws ValueError when a parameter is not a requiresGrad leaf
   */
  constructor(params: Record<string, Tensor> | readonly Tensor[], readonly rule: OptimizerRule) {
    this.params = Array.isArray(params) ? [...params] : Object.values(params);
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || p._node === null || p._node.leaf !== p) {
        throw new ValueError(`${rule.name}: parameter ${i} is not a leaf created with { requiresGrad: true }; for plain tensors use the functional form (rule.update)`);
      }
    });
    this.state = rule.init([...this.params]);
  }

  /** The learning rate the next `step()` will use. */
  get lr(): number {
    return this.rule.learningRate(this.state.step);
  }

  /**
   * Updates every parameter that has a gradient, in place, and advances the step count.
   * @throws GradientError when no parameter has a gradient (forgot `backward()`?)
   */
  step(): void {
    if (this.params.every((p) => p.grad === null)) {
      throw new GradientError(`${this.rule.name}.step: no parameter has a gradient; call loss.backward() first`);
    }
    const names = this.rule.slotNames;
    this.params.forEach((p, i) => {
      if (p.grad === null) return;
      const [np, ns] = this.rule.updateOne(p._concreteValue(), p.grad._concreteValue(), names.map((s) => this.state.slots[s]![i]!), this.state.step);
      assignLeaf(p, np);
      ns.forEach((t, k) => (this.state.slots[names[k]!]![i] = t));
    });
    this.state = { step: this.state.step + 1, slots: this.state.slots };
  }

  /** Clears every parameter's `.grad` (sets it to null, as PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** The state as named tensors ("step", "m.0", …), for `io.saveSafetensors`. */
  stateDict(): Record<string, Tensor> {
    return stateToDict(this.state);
  }

  /**
   * Restores a state saved with `stateDict()`.
   * @throws ValueError for missing slots; ShapeError when a buffer's shape differs from its parameter's
   */
  loadStateDict(dict: Record<string, Tensor>): void {
    const s = stateFromDict(dict);
    for (const name of this.rule.slotNames) {
      const ts = s.slots[name];
      if (!ts || ts.length !== this.params.length) throw new ValueError(`${this.rule.name}.loadStateDict: slot "${name}" needs ${this.params.length} tensors, got ${ts?.length ?? 0}`);
      ts.forEach((t, i) => {
        const p = this.params[i]!;
        if (!sameShape(t.shape, p.shape)) throw new ShapeError(`${this.rule.name}.loadStateDict: "${name}.${i}" has shape ${fmtShape(t.shape)}, expected ${fmtShape(p.shape)}`);
        if (t.dtype !== p.dtype) ts[i] = t.astype(p.dtype);
      });
    }
    this.state = s;
  }
}

/** Imperative SGD (see `sgd` for the update): `new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })`. */
export class SGD extends Optimizer {
  constructor(params: Record<string, Tensor> | readonly Tensor[], options: SGDOptions) {
    super(params, sgd(options));
  }
}

/** Imperative Adam (see `adam`): `new Adam(model.parameters(), { lr: 1e-3 })`. */
export class Adam extends Optimizer {
  constructor(params: Record<string, Tensor> | readonly Tensor[], options: AdamOptions = {}) {
    super(params, adam(options));
  }
}

/** Imperative AdamW (see `adamw`): Adam with decoupled weight decay. */
export class AdamW extends Optimizer {
  constructor(params: Record<string, Tensor> | readonly Tensor[], options: AdamOptions = {}) {
    super(params, adamw(options));
  }
}
