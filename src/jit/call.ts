import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { isFloat } from "../core/dtype.js";
import { GradientError } from "../core/errors.js";
import { IMPERATIVE_TRACE, Trace, gradMode } from "../autodiff/trace.js";
import { recordNode } from "../autodiff/record.js";
import { nameScope } from "../autodiff/scope.js";
import { leaves, rebuild } from "../autodiff/tree.js";
import { jvp, vjp } from "../autodiff/transforms.js";
import { cast, ones } from "../ops/index.js";
import { OutputPacking } from "../autodiff/custom-tree.js";
import { ClosureOverTracer, StageTrace } from "./stage.js";
import { replay, splitJoint } from "./split.js";
import { makeJitted } from "./jit.js";

// A jitted function called under grad, vjp, jvp or vmap (JAX's pjit inside a transform). The newest
// transform among the arguments handles the call as ONE application, as `bind` handles a primitive, and
// what it runs one level down is again a jitted function (so an older transform handles that in turn):
// - reverse (grad, vjp, backward()): the program of (xs, cts) ↦ (f(xs), pullback(cts)) is traced once,
//   cut into a forward program (f's outputs and the residuals) and a backward program (the cotangents), and
//   both are compiled; the call records one node, named like the jitted function, whose VJP runs the
//   backward program on the saved residuals;
// - forward (jvp): the jitted jvp of f, one program computing the outputs and their tangents;
// - batch (vmap): the jitted vmap of f.
// Under another jit (a stage trace on top) f is inlined, so the outer program fuses across the call.

/** A jitted function's state shared by its calls under transforms. */
export interface TransformSite {
  /** "jit(f)": the node's name in the graph and in errors. */
  readonly name: string;
  /** f, on its full argument list. */
  readonly call: (...args: unknown[]) => unknown;
  readonly statics: ReadonlySet<number>;
  /** Per argument signature (jit's cache key), the derived programs. */
  readonly derived: Map<string, Derived>;
}

/** One signature's derived programs; each is a jitted function of flat tensors (its own cache). */
interface Derived {
  /** f on the signature's tensor leaves (statics and number leaves fixed), returning its tensor output leaves. */
  readonly flat: (...xs: Tensor[]) => Tensor[];
  /** f's output structure, known once f has run (any trace of `flat` sets it). */
  out: { tree: unknown; isTensor: boolean[] } | null;
  /** Keyed by which inputs are differentiated / move / are batched. Null: f runs unstaged at that transform. */
  readonly reverse: Map<string, ReverseProgram | null>;
  readonly forward: Map<string, (...a: unknown[]) => unknown>;
  readonly batch: Map<string, BatchProgram>;
}

/** The jitted vmap of f for one pattern of batched inputs, and which of its outputs carry the batch axis. */
interface BatchProgram {
  run: (...a: unknown[]) => unknown;
  outBatched: boolean[] | null;
}

interface ReverseProgram {
  readonly forward: (...a: unknown[]) => unknown;
  readonly backward: (...a: unknown[]) => unknown;
  readonly nOut: number;
  /** Input indices that get cotangents. */
  readonly diff: readonly number[];
}

/** Thrown by a forward program whose value check failed: the call runs f unstaged instead. */
class UnstagedCall extends Error {}

/** Counters for tests and the bench: how many calls under a transform took each path. */
export const jitCallStats = { reverse: 0, forward: 0, batch: 0, unstaged: 0 };

/** The trace `bind` would pick for these inputs (requiresGrad tensors inside noGrad do not count). */
function topTrace(xs: readonly Tensor[]): Trace | null {
  let top: Trace | null = null;
  for (const x of xs) {
    const tr = x._trace;
    if (tr === null || (tr === IMPERATIVE_TRACE && !gradMode.enabled)) continue;
    if (top === null || tr.id > top.id) top = tr;
  }
  return top;
}

/**
 * A concrete tensor of `t`'s shape and dtype to trace with: its own value when it has one of that shape,
 * ones under vmap (whose boxed value carries the batch axis). The value matters only to guards, which a
 * program traced on stand-ins would fail and so run unstaged.
 */
function concreteLike(t: Tensor): Tensor {
  let u: Tensor = t;
  while (u._data === null && u._device === null) {
    if (u._primal === null || (u._trace !== null && u._trace.kind === "batch")) return ones(t.shape, t.dtype);
    u = u._primal;
  }
  return u;
}

/** `xs` with the entries at `at` replaced by `by`, in order. */
function fill(xs: readonly Tensor[], at: readonly number[], by: readonly Tensor[]): Tensor[] {
  const full = [...xs];
  at.forEach((i, k) => (full[i] = by[k]!));
  return full;
}

/**
 * Runs a jitted function whose arguments include tracers of a transform (see the file comment).
 * @param key jit's cache key of the arguments (shapes, dtypes, structure, statics)
 */
export function callUnderTransform(site: TransformSite, key: string, args: readonly unknown[]): unknown {
  const tensorAt: [number, number][] = []; // (argument, leaf index) of every tensor leaf
  const xs: Tensor[] = [];
  args.forEach((a, i) => {
    if (site.statics.has(i)) return;
    leaves(a).forEach((l, j) => {
      if (l instanceof Tensor) {
        tensorAt.push([i, j]);
        xs.push(l);
      }
    });
  });
  const top = topTrace(xs);
  if (top === null) return site.call(...args);
  // Inside another jit: inlined, so the outer program fuses across the call; its steps carry the call's name.
  if (top.kind === "stage") return nameScope(site.name, () => site.call(...args));
  let d = site.derived.get(key);
  if (d === undefined) site.derived.set(key, (d = derive(site, args)));
  const inner = xs.map((x) => (x._trace === top || (x._trace === IMPERATIVE_TRACE && !gradMode.enabled) ? x._primal! : x));
  let outs: Tensor[] | null;
  if (top.kind === "batch") outs = batchCall(d, top, xs, inner);
  else if (top.kind === "forward") outs = forwardCall(d, top, xs, inner);
  else outs = reverseCall(site, d, top, xs, inner);
  if (outs === null || d.out === null) {
    jitCallStats.unstaged++;
    return site.call(...args);
  }
  let k = 0;
  const shape = d.out;
  return rebuild(shape.tree, leaves(shape.tree).map((l, i) => (shape.isTensor[i] ? outs[k++]! : l)));
}

function derive(site: TransformSite, args: readonly unknown[]): Derived {
  const d: Derived = { flat: () => [], out: null, reverse: new Map(), forward: new Map(), batch: new Map() };
  const flat = (...ts: Tensor[]): Tensor[] => {
    let k = 0;
    const full = args.map((a, i) => (site.statics.has(i) ? a : rebuild(a, leaves(a).map((l) => (l instanceof Tensor ? ts[k++]! : l)))));
    const out = site.call(...full);
    const ls = leaves(out);
    d.out ??= { tree: out, isTensor: ls.map((l) => l instanceof Tensor) };
    return ls.filter((l): l is Tensor => l instanceof Tensor);
  };
  return Object.assign(d, { flat });
}

/**
 * vmap of jit(f) = jit(vmap(f)) on the batched values one level down. The batch trace is opened here rather
 * than through `vmap`, so outputs that do not depend on the batch stay unbatched (as `bind` leaves them),
 * which jacfwd's unbatched primal needs.
 */
function batchCall(d: Derived, top: Trace, xs: readonly Tensor[], inner: Tensor[]): Tensor[] {
  const batched = xs.map((x) => x._trace === top);
  const k = batched.map((b) => (b ? "b" : "-")).join("");
  let entry = d.batch.get(k);
  if (entry === undefined) {
    const e: BatchProgram = { run: () => [], outBatched: null };
    e.run = makeJitted((...a: unknown[]) => {
      const vs = a as Tensor[];
      const tr = new Trace("batch", undefined, top.size);
      const outs = d.flat(...vs.map((v, i) => (batched[i] ? Tensor._boxBatch(v, tr) : v)));
      e.outBatched ??= outs.map((o) => o._trace === tr);
      return outs.map((o) => (o._trace === tr ? o._primal! : o));
    }, new Set(), { name: "jit(vmap)" });
    d.batch.set(k, (entry = e));
  }
  jitCallStats.batch++;
  const outs = entry.run(...inner) as Tensor[];
  const mask = entry.outBatched!;
  return outs.map((o, j) => (mask[j] ? Tensor._boxBatch(o, top) : o));
}

/** The jitted jvp of f for tangents of the inputs at `moving`: (primals…, tangents…) ↦ (outputs…, output tangents…). */
function forwardProgram(d: Derived, n: number, moving: readonly number[]): (...a: unknown[]) => unknown {
  const k = moving.join(",");
  let g = d.forward.get(k);
  if (g === undefined) {
    g = makeJitted((...a: unknown[]) => {
      const ps = a.slice(0, n) as Tensor[], ts = a.slice(n) as Tensor[];
      const [o, t] = jvp((...m: Tensor[]) => d.flat(...fill(ps, moving, m)), moving.map((i) => ps[i]!), ts);
      return [...o, ...t];
    }, new Set(), { name: "jit(jvp)" });
    d.forward.set(k, g);
  }
  return g;
}

/** jvp of jit(f) = jit(jvp(f)): outputs and their tangents from one program. */
function forwardCall(d: Derived, top: Trace, xs: readonly Tensor[], inner: Tensor[]): Tensor[] {
  const moving = xs.flatMap((x, i) => (x._trace === top && x._tangent !== null && isFloat(x.dtype) ? [i] : []));
  const r = forwardProgram(d, xs.length, moving)(...inner, ...moving.map((i) => xs[i]!._tangent!)) as Tensor[];
  jitCallStats.forward++;
  const nOut = r.length / 2;
  return r.slice(0, nOut).map((p, j) => {
    const out = Tensor._box(p, top);
    const t = r[nOut + j]!;
    out._tangent = !isFloat(p.dtype) ? null : t.dtype === p.dtype ? t : cast(t, p.dtype);
    return out;
  });
}

/** `t` unboxed from the traces newer than `tr` (the reverse trace of the joint program's vjp). */
function stageLevel(t: Tensor, tr: Trace): Tensor {
  while (t._trace !== null && t._trace !== tr && t._trace.id > tr.id) t = t._primal!;
  return t;
}

/** Traces the joint program of f and its pullback on stand-in values and cuts it (null: run unstaged). */
function reverseProgram(site: TransformSite, d: Derived, inner: readonly Tensor[], diff: readonly number[]): ReverseProgram | null {
  const tr = new StageTrace();
  const boxes = inner.map((x) => tr.input(concreteLike(x)));
  // Int and bool outputs (masks among a forward program's residuals) get no cotangent: only float ones are pulled back.
  let all: Tensor[] = [];
  const partial = (...m: Tensor[]): Tensor[] => (all = d.flat(...fill(boxes, diff, m))).filter((o) => isFloat(o.dtype));
  let prog;
  let nOut = 0;
  try {
    if (diff.length === 0) return null;
    const [floats, pullback] = vjp(partial, ...diff.map((i) => boxes[i]!));
    if (floats.length === 0) return null;
    let next = 0;
    const outs = all.map((o) => (isFloat(o.dtype) ? floats[next++]! : stageLevel(o, tr)));
    nOut = outs.length;
    const cts = floats.map((o) => tr.input(ones(o.shape, o.dtype)));
    const grads = pullback(cts) as Tensor[];
    prog = tr.program([...boxes, ...cts], [...outs, ...grads]);
  } catch (e) {
    if (e instanceof ClosureOverTracer) return null;
    throw e;
  }
  const split = splitJoint(prog, inner.length, nOut);
  const n = inner.length;
  // A failed value check of the forward program (labels or ties differ from tracing): this call runs unstaged.
  const unstaged = (): never => {
    throw new UnstagedCall();
  };
  const forward = makeJitted(replay(split.forward) as (...a: unknown[]) => unknown, new Set(), { name: site.name, seed: split.forward, fallback: unstaged });
  // A failed NaN check in the backward program: the pullback recomputed eagerly, from f.
  const eagerPullback = (...a: unknown[]): Tensor[] => {
    const ps = a.slice(0, n) as Tensor[], cts = a.slice(n + split.residuals) as Tensor[];
    const [, pb] = vjp((...m: Tensor[]) => d.flat(...fill(ps, diff, m)), ...diff.map((i) => ps[i]!));
    return pb(cts) as Tensor[];
  };
  const backward = makeJitted(replay(split.backward) as (...a: unknown[]) => unknown, new Set(), {
    name: `${site.name}.pullback`, seed: split.backward, fallback: eagerPullback as (...a: unknown[]) => unknown,
  });
  return { forward, backward, nOut, diff };
}

/**
 * grad/vjp of jit(f): the forward program runs one level down and the call records one node at `top`, whose
 * VJP runs the backward program on the residuals. Several outputs travel packed into one vector, so the node
 * has one output like every other (the slices that unpack it are recorded at `top`).
 */
function reverseCall(site: TransformSite, d: Derived, top: Trace, xs: readonly Tensor[], inner: Tensor[]): Tensor[] | null {
  const diff = xs.flatMap((x, i) => (x._trace === top && isFloat(x.dtype) ? [i] : []));
  const k = diff.join(",");
  let rp = d.reverse.get(k);
  if (rp === undefined) d.reverse.set(k, (rp = reverseProgram(site, d, inner, diff)));
  if (rp === null) return null;
  let r: Tensor[];
  try {
    r = rp.forward(...inner) as Tensor[];
  } catch (e) {
    if (e instanceof UnstagedCall) return null;
    throw e;
  }
  const all = r.slice(0, rp.nOut), res = r.slice(rp.nOut);
  const outs = all.filter((o) => isFloat(o.dtype));
  // One output (a loss) needs no packing.
  const single = outs.length === 1;
  const packing = new OutputPacking(site.name);
  const packed = single ? outs[0]! : packing.pack(outs, "f's output");
  const prog = rp;
  const prim: Primitive<null> = {
    name: site.name,
    impl: () => {
      throw new GradientError(`${site.name}: internal error: a jitted call's node is never re-applied`);
    },
    // Used by the graph viewer's forward sweeps (jvp of jit runs the jitted jvp at its own trace).
    jvp: (_x, t) => {
      const moving = t.flatMap((ti, i) => (ti !== null && isFloat(xs[i]!.dtype) ? [i] : []));
      if (moving.length === 0) return null;
      const r = forwardProgram(d, xs.length, moving)(...inner, ...moving.map((i) => t[i]!)) as Tensor[];
      const touts = r.slice(r.length / 2).filter((_, j) => isFloat(all[j]!.dtype));
      return single ? touts[0]! : packing.pack(touts, "the tangent of f's output");
    },
    vjp: (ct) => {
      const cts = (single ? [ct] : (leaves(packing.unpack(ct)) as Tensor[])).map((c, j) => (c.dtype === outs[j]!.dtype ? c : cast(c, outs[j]!.dtype)));
      const grads = prog.backward(...inner, ...res, ...cts) as Tensor[];
      const all = new Array<Tensor | null>(xs.length).fill(null);
      prog.diff.forEach((i, j) => (all[i] = grads[j]!));
      return all;
    },
    batch: () => {
      throw new GradientError(`${site.name}: internal error: a jitted call's node is never batched (vmap of jit runs the jitted vmap)`);
    },
    // The VJP reads only what the closure holds (the residuals), so the node saves no values.
    residuals: xs.map(() => []),
  };
  const out = Tensor._box(packed, top);
  out._node = recordNode(prim as Primitive, null, xs, inner, packed, top);
  jitCallStats.reverse++;
  const boxed = single ? [out] : (leaves(packing.unpack(out)) as Tensor[]);
  let next = 0;
  return all.map((o) => (isFloat(o.dtype) ? boxed[next++]! : o));
}
