import { Tensor } from "../core/tensor.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { tensor } from "../ops/index.js";
import { assignLeaf } from "../autodiff/imperative.js";
import { nameScope } from "../autodiff/scope.js";

/** Named tensors in a fixed order, keyed by dotted paths such as `"0.weight"` or `"conv1.bias"`. */
export type StateDict = Record<string, Tensor>;

/**
 * Base class of layers and models (PyTorch's `nn.Module`, with a functional call as in `torch.func`).
 *
 * A module owns named parameters and child modules, both kept in registration order, so
 * `parameters()` and `stateDict()` list the same names in the same order on every run. Parameters are
 * `requiresGrad` leaves: the imperative style (`loss.backward()`, then `optimizer.step()`) works on
 * them directly. The functional style passes values explicitly: `model.apply(params, x)` runs the
 * forward pass with `params` in place of the stored values, so `valueAndGrad((p) => loss(model.apply(p, x)))`
 * differentiates with respect to a plain object of tensors.
 */
export abstract class Module {
  /** True in training mode (dropout active); switch with `train()` / `eval()`. */
  training = true;
  // TypeScript-private rather than #private: a #field puts `#private;` in the .d.ts, which consumers
  // compiling with tsc's default target (ES5) reject (TS18028).
  private readonly _params = new Map<string, Tensor>();
  /** State that is saved but not learned (BatchNorm's running statistics), as PyTorch's buffers. */
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();
  /** This module's label in the graph's scope path: its class name, or the name its parent registered it under. */
  private _scopeName: string = this.constructor.name;

  constructor() {
    // Every forward call records its nodes under this module's name (see `nameScope`), nested inside the
    // caller's, so the graph viewer can collapse a module into one box ("MLP/Linear0"). Subclasses
    // override `forward`, so the wrapper is installed per instance, around whichever `forward` the class has.
    const forward = this.forward;
    Object.defineProperty(this, "forward", {
      value: (x: Tensor): Tensor => nameScope(this._scopeName, () => forward.call(this, x)),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  /**
   * The forward computation on the current parameter values. Nodes it records carry the module's scope
   * (`nameScope`): the class name for a top-level module; for a child, its class name and index when it
   * was registered under a number (Sequential's "0", "1", … give "Linear0", "ReLU1"), else its registered name.
   * @param x the input batch; shape conventions are given by each layer
   */
  abstract forward(x: Tensor): Tensor;

  /** Registers (or replaces) a parameter, stored as a `requiresGrad` leaf named after `name`. */
  protected registerParameter(name: string, value: Tensor): Tensor {
    checkName(name);
    const leaf = tensor(value, { requiresGrad: true, name });
    this._params.set(name, leaf);
    return leaf;
  }

  /**
   * Registers (or replaces) a buffer: a named, saved tensor that is not a parameter (not trained, not in
   * `parameters()`), such as BatchNorm's running mean. It appears in `stateDict()` after the module's own
   * parameters, as PyTorch orders them.
   */
  protected registerBuffer(name: string, value: Tensor): void {
    checkName(name);
    this._buffers.set(name, tensor(value));
  }

  /** The current value of one of this module's own buffers (a plain tensor). */
  protected buffer(name: string): Tensor {
    const b = this._buffers.get(name);
    if (b === undefined) throw new ValueError(`${this.constructor.name}: no buffer named "${name}"`);
    return b;
  }

  /**
   * Replaces a registered buffer's value, e.g. running statistics after a training step. The value is
   * stored as a plain tensor (inside a transform, its underlying value), so it never records on a trace.
   */
  protected setBuffer(name: string, value: Tensor): void {
    const old = this.buffer(name);
    if (!sameShape(old.shape, value.shape)) throw new ShapeError(`${this.constructor.name}: buffer "${name}" has shape ${fmtShape(old.shape)}, got ${fmtShape(value.shape)}`);
    this._buffers.set(name, tensor(value, { dtype: old.dtype }));
  }

  /** Every buffer of this module and its descendants, named like `stateDict()` entries. */
  buffers(): StateDict {
    const out: StateDict = {};
    this._walkBuffers("", (name, b) => (out[name] = b));
    return out;
  }

  /** Registers a child module; its parameters appear under `name.`. */
  protected registerModule<M extends Module>(name: string, child: M): M {
    checkName(name);
    this._children.set(name, child);
    child._scopeName = /^\d+$/.test(name) ? `${child.constructor.name}${name}` : name.replace(/\//g, "_"); // "/" separates scopes
    return child;
  }

  /** The current value of one of this module's own parameters (a tracer inside `apply`). */
  protected param(name: string): Tensor {
    const p = this._params.get(name);
    if (p === undefined) throw new ValueError(`${this.constructor.name}: no parameter named "${name}"`);
    return p;
  }

  /** Child modules in registration order, with their names. */
  children(): [string, Module][] {
    return [...this._children];
  }

  /**
   * Every parameter of this module and its descendants, as live `requiresGrad` leaves: own parameters
   * first, then each child's under `childName.`, in registration order. Pass these to an optimizer
   * class for the imperative style.
   */
  parameters(): StateDict {
    const out: StateDict = {};
    this._walk("", (name, p) => (out[name] = p));
    return out;
  }

  /**
   * A snapshot of the parameter values (PyTorch's `state_dict`): the same names as `parameters()`,
   * as plain tensors that record nothing, plus the buffers of modules that have them (each module's
   * parameters, then its buffers, then its children's, as PyTorch). Start functional training from this
   * (`apply` accepts the buffers' entries too), and save it to a file.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    this._walkState("", (name, p) => (out[name] = tensor(p)));
    return out;
  }

  /**
   * Copies values into the parameters in place (the leaves stay the same objects, so optimizers
   * holding them keep working).
   * @throws ValueError for missing or unknown names; ShapeError for a value of another shape
   */
  loadStateDict(values: StateDict): void {
    const own = this.parameters();
    const bufs: [Module, string, string][] = [];
    this._walkBufferSlots("", (m, key, name) => bufs.push([m, key, name]));
    checkNames("loadStateDict", [...Object.keys(own), ...bufs.map(([, , n]) => n)], values);
    for (const [name, leaf] of Object.entries(own)) {
      const v = values[name]!;
      checkValue("loadStateDict", name, leaf, v);
      assignLeaf(leaf, v.dtype === leaf.dtype ? v : v.astype(leaf.dtype));
    }
    for (const [m, key, name] of bufs) {
      checkValue("loadStateDict", name, m._buffers.get(key)!, values[name]);
      m.setBuffer(key, values[name]!);
    }
  }

  /**
   * Runs `forward(x)` with `params` in place of the stored parameter values and restores them after
   * (PyTorch's `torch.func.functional_call`). Differentiate through it with `grad`/`valueAndGrad`.
   * @param params every name of `parameters()`, with tensors of the same shapes; entries for buffers
   *   (as in a `stateDict()`) are optional and, when given, are used as the buffers' values for this call
   * @throws ValueError for missing or unknown names; ShapeError for a wrong shape
   */
  apply(params: StateDict, x: Tensor): Tensor {
    const slots: [Map<string, Tensor>, string, Tensor][] = [];
    const bufferSlots: [Map<string, Tensor>, string, Tensor, Tensor][] = [];
    const seen = new Set<string>();
    this._walkBufferSlots("", (m, key, name) => {
      seen.add(name);
      const v = params[name];
      if (v === undefined) return;
      const stored = m._buffers.get(key)!;
      checkValue("apply", name, stored, v);
      const given = tensor(v, { dtype: stored.dtype });
      bufferSlots.push([m._buffers, key, stored, given]);
      m._buffers.set(key, given);
    });
    this._walkSlots("", (map, key, name, stored) => {
      const v = params[name];
      if (v === undefined) throw new ValueError(`apply: params has no entry "${name}"; expected the names of model.parameters()`);
      checkValue("apply", name, stored, v);
      slots.push([map, key, stored]);
      seen.add(name);
      map.set(key, v);
    });
    try {
      for (const name of Object.keys(params)) {
        if (!seen.has(name)) throw new ValueError(`apply: params has an unknown entry "${name}"; the model's parameters are ${[...seen].join(", ")}`);
      }
      return this.forward(x);
    } finally {
      for (const [map, key, stored] of slots) map.set(key, stored);
      // A buffer updated during the call (training-mode running statistics) keeps its new value, computed
      // from the given one, as PyTorch's functional_call updates the buffers it was given; otherwise the
      // module's own value comes back.
      for (const [map, key, stored, given] of bufferSlots) if (map.get(key) === given) map.set(key, stored);
    }
  }

  /** Sets training mode on this module and all descendants (dropout is active only in training). */
  train(mode = true): this {
    this.training = mode;
    for (const c of this._children.values()) c.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Total number of scalar parameters. */
  numParameters(): number {
    let n = 0;
    this._walk("", (_, p) => (n += p.size));
    return n;
  }

  /** A one-line-per-layer summary with parameter shapes. */
  toString(): string {
    const lines: string[] = [];
    const visit = (m: Module, prefix: string, depth: number): void => {
      const own = [...m._params].map(([k, p]) => `${k} ${fmtShape(p.shape)}`).join(", ");
      lines.push(`${"  ".repeat(depth)}${prefix ? prefix + ": " : ""}${m.describe()}${own ? `  (${own})` : ""}`);
      for (const [k, c] of m._children) visit(c, k, depth + 1);
    };
    visit(this, "", 0);
    return lines.join("\n");
  }

  /** A short description used by `toString()`; layers override it with their hyper-parameters. */
  describe(): string {
    return this.constructor.name;
  }

  private _walkState(prefix: string, visit: (name: string, t: Tensor) => void): void {
    for (const [k, p] of this._params) visit(prefix + k, p);
    for (const [k, b] of this._buffers) visit(prefix + k, b);
    for (const [k, c] of this._children) c._walkState(`${prefix}${k}.`, visit);
  }

  private _walkBuffers(prefix: string, visit: (name: string, b: Tensor) => void): void {
    this._walkBufferSlots(prefix, (m, key, name) => visit(name, m._buffers.get(key)!));
  }

  private _walkBufferSlots(prefix: string, visit: (module: Module, key: string, name: string) => void): void {
    for (const k of this._buffers.keys()) visit(this, k, prefix + k);
    for (const [k, c] of this._children) c._walkBufferSlots(`${prefix}${k}.`, visit);
  }

  private _walk(prefix: string, visit: (name: string, p: Tensor) => void): void {
    for (const [k, p] of this._params) visit(prefix + k, p);
    for (const [k, c] of this._children) c._walk(`${prefix}${k}.`, visit);
  }

  private _walkSlots(prefix: string, visit: (map: Map<string, Tensor>, key: string, name: string, stored: Tensor) => void): void {
    for (const [k, p] of this._params) visit(this._params, k, prefix + k, p);
    for (const [k, c] of this._children) c._walkSlots(`${prefix}${k}.`, visit);
  }
}

function checkName(name: string): void {
  if (name === "" || name.includes(".")) throw new ValueError(`Module: names must be non-empty and contain no "."; got ${JSON.stringify(name)}`);
}

function checkValue(op: string, name: string, stored: Tensor, v: unknown): void {
  if (!(v instanceof Tensor)) throw new ValueError(`${op}: entry "${name}" is not a tensor`);
  if (!sameShape(v.shape, stored.shape)) {
    throw new ShapeError(`${op}: parameter "${name}" has shape ${fmtShape(v.shape)}, expected ${fmtShape(stored.shape)}`);
  }
}

function checkNames(op: string, own: readonly string[], given: StateDict): void {
  const missing = own.filter((k) => !(k in given));
  const extra = Object.keys(given).filter((k) => !own.includes(k));
  if (missing.length || extra.length) {
    const parts = [missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `unexpected ${extra.join(", ")}` : ""].filter(Boolean);
    throw new ValueError(`${op}: parameter names do not match the model: ${parts.join("; ")}`);
  }
}
