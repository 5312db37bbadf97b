import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { IMPERATIVE_TRACE, Trace, gradMode, scopeState } from "../autodiff/trace.js";
import { bind } from "../autodiff/bind.js";
import { sameShape } from "../core/shape.js";
import { prims as elementwisePrims } from "../ops/elementwise.js";
import { broadcastPrim, reshapePrim } from "../ops/layout.js";
import { prune, type OpStep, type Program, type Step, type ValueDef } from "./program.js";

/**
 * Thrown while tracing when f uses a tensor that an older transform is tracing (grad, vjp, jvp, vmap, or a
 * requiresGrad tensor) but that is not one of f's arguments: the program could not see that transform, so
 * `jit` runs f unstaged instead (see jit.ts).
 */
export class ClosureOverTracer extends Error {}

/**
 * The trace of `jit`: f runs on tracers that box the real argument values (concrete tracing), so every op
 * computes as usual while it is recorded as a program step. Values f computes from its inputs are tracers of
 * this trace; everything else it touches is a constant of the program.
 */
export class StageTrace extends Trace {
  readonly values: ValueDef[] = [];
  readonly steps: Step[] = [];
  private readonly consts = new Map<Tensor, number>();
  /** Steps recorded inside a `nameScope` (an inlined jitted call among them), and that scope's path. */
  private readonly scopes = new Map<Step, string>();
  /** Values known to hold only ones (see `productByOne`). */
  private readonly ones = new Set<number>();
  /** Constants made by `liftConstant`. */
  private readonly lifted = new Set<number>();

  constructor() {
    super("stage");
  }

  /** A tracer for input value `primal` (an argument leaf of f). */
  input(primal: Tensor): Tensor {
    const box = Tensor._box(primal, this);
    box.name = primal.name;
    box._id = this.values.length;
    this.values.push({ kind: "input", shape: primal.shape, dtype: primal.dtype });
    return box;
  }

  /** The value number of `t`: a tracer of this trace, or a concrete tensor (a constant, numbered once). */
  idOf(t: Tensor): number {
    if (t._trace === this) return t._id;
    if (t._trace === IMPERATIVE_TRACE && !gradMode.enabled) t = t._primal!; // inside noGrad: a constant
    if (t._trace !== null) throw new ClosureOverTracer();
    let id = this.consts.get(t);
    if (id === undefined) {
      id = this.values.length;
      this.values.push({ kind: "const", shape: t.shape, dtype: t.dtype, value: t });
      this.consts.set(t, id);
    }
    return id;
  }

  override liftConstant(t: Tensor): Tensor {
    const box = Tensor._box(t, this);
    box._id = this.idOf(t);
    this.lifted.add(box._id);
    if (t.size === 1 && t._data !== null && t._data[0] === 1) this.ones.add(box._id);
    return box;
  }

  override constantOf(tracer: Tensor): Tensor | null {
    // Lifted constants only: the library made them while tracing and nothing else holds them, so their value
    // is the same on every call (a closed-over tensor may be updated in place between calls).
    const def = this.values[tracer._id];
    return def !== undefined && def.kind === "const" && this.lifted.has(tracer._id) ? def.value : null;
  }

  /** Applies `prim` one level down and records it (called by `bind` when this trace is the newest). */
  apply<P>(prim: Primitive<P>, x: Tensor[], primals: Tensor[], params: P): Tensor {
    const args = new Array<number>(x.length);
    for (let i = 0; i < x.length; i++) args[i] = this.idOf(x[i]!);
    const outPrimal = bind(prim, primals, params);
    if (this.ones.size > 0) {
      const same = this.productByOne(prim as Primitive, x, args, outPrimal);
      if (same !== null) return same;
    }
    const out = Tensor._box(outPrimal, this);
    const id = this.values.length;
    const step: OpStep = { kind: "op", prim: prim as Primitive, params, args, out: id, shape: outPrimal.shape, dtype: outPrimal.dtype };
    this.values.push(step);
    out._id = id;
    // A broadcast or reshape of an all-ones value is all ones too (by the primitive object, never its name).
    if (this.ones.size > 0 && (prim === (broadcastPrim as Primitive) || prim === (reshapePrim as Primitive)) && this.ones.has(args[0]!)) this.ones.add(id);
    this.steps.push(step);
    if (scopeState.current !== undefined) this.scopes.set(step, scopeState.current);
    return out;
  }

  /**
   * x·1 where one factor is a staged all-ones value (a lifted seed, or a broadcast or reshape of one) and the
   * product has the other factor's shape and dtype: that factor, exactly (x·1 = x for every float, NaN and
   * ±0 included), as a new tracer of the same value, so nothing is recorded. Else null.
   */
  private productByOne(prim: Primitive, x: Tensor[], args: number[], out: Tensor): Tensor | null {
    // By the primitive object, never its name (a user's customVjp may be called "mul").
    if (prim !== (elementwisePrims.mul as Primitive)) return null;
    const k = this.ones.has(args[1]!) ? 0 : this.ones.has(args[0]!) ? 1 : -1;
    if (k < 0) return null;
    const other = x[k]!, id = args[k]!;
    if (other.dtype !== out.dtype || !sameShape(other.shape, out.shape)) return null;
    const def = this.values[id]!;
    // The other factor is staged, or a constant (then the product is that constant, staged as a value).
    const box = Tensor._box(def.kind === "const" ? def.value : other._primal!, this);
    box._id = id;
    return box;
  }

  override onRead(tracer: Tensor): void {
    const id = tracer._id;
    this.steps.push({ kind: "guard", arg: id, test: "equal", expected: tracer._primal!._concreteValue(true)._data!.slice() });
  }

  override guardNoNaN(tracer: Tensor): void {
    this.steps.push({ kind: "guard", arg: tracer._id, test: "noNaN", expected: null });
  }

  /** The program, given f's input tracers and output leaves. Ends the tracing: the tracers' masks are dropped. */
  program(inputs: readonly Tensor[], outputs: readonly Tensor[]): Program {
    // The cache keeps f's traced outputs (and so this trace) alive: their masks (thunks reaching back through
    // every cotangent before them) must not keep the other tracers too.
    for (const t of outputs) if (t._trace === this) t._mask = undefined;
    return prune({
      values: this.values,
      inputs: inputs.map((t) => t._id),
      steps: this.steps,
      outputs: outputs.map((t) => this.idOf(t)),
      ...(this.scopes.size > 0 ? { scopes: this.scopes } : {}),
    });
  }
}
