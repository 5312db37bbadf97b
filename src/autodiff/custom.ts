import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { GradientError, ValueError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { cast, full, sum, toTensor, zerosLike } from "../ops/index.js";
import { IMPERATIVE_TRACE, gradMode, type Trace } from "./trace.js";
import { recordNode } from "./record.js";
import { jvp, vjp } from "./transforms.js";
import { vmap } from "./vmap.js";
import { leaves, rebuild, type Pytree } from "./tree.js";

// Custom differentiation rules act at one trace level at a time, like `bind`: the newest trace among
// the arguments applies the rule, and whatever runs below it (the function, fwd/bwd, the JVP rule) is
// ordinary code that older transforms differentiate as usual. So `grad(grad(g))` of a customVjp g uses
// bwd for the inner derivative and differentiates fwd/bwd for the outer one (JAX's semantics).

/** The newest trace among xs (ignoring requiresGrad tensors inside noGrad, as `bind` does), and xs unboxed from it. */
function unboxTop(xs: readonly Tensor[]): { top: Trace | null; inner: Tensor[] } {
  let top: Trace | null = null;
  for (const x of xs) {
    const tr = x._trace;
    if (tr === null || (tr === IMPERATIVE_TRACE && !gradMode.enabled)) continue;
    if (top === null || tr.id > top.id) top = tr;
  }
  const inner = xs.map((x) => (x._trace !== null && (x._trace === top || (x._trace === IMPERATIVE_TRACE && !gradMode.enabled)) ? x._primal! : x));
  return { top, inner };
}

function toTensors(op: string, args: readonly unknown[]): Tensor[] {
  return args.map((a, i) => {
    if (a instanceof Tensor) return a;
    if (typeof a === "number") return toTensor(a);
    throw new ValueError(`${op}: argument ${i} must be a tensor or a number, got ${a === null ? "null" : typeof a}`);
  });
}

function checkOut(op: string, what: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new GradientError(`${op}: ${what} must return a tensor, got ${Array.isArray(out) ? "an array" : typeof out}`);
  return out;
}

/**
 * Checks a custom rule's cotangents: one per input, each null (zero) or shaped exactly like its input.
 * @throws GradientError naming the op and the input index
 */
function checkCotangents(op: string, raw: unknown, inputs: readonly Tensor[]): (Tensor | null)[] {
  if (!Array.isArray(raw) || raw.length !== inputs.length) {
    const got = Array.isArray(raw) ? `${raw.length} cotangent(s)` : typeof raw;
    throw new GradientError(`${op}: the custom VJP rule returned ${got}, expected ${inputs.length} (one per input)`);
  }
  return raw.map((c: unknown, i) => {
    const x = inputs[i]!;
    if (c === null || c === undefined || !isFloat(x.dtype)) return null;
    // A plain number stands for that value everywhere in the input's shape.
    const t = c instanceof Tensor ? c : typeof c === "number" ? full(x.shape, c, x.dtype) : null;
    if (t === null) throw new GradientError(`${op}: the custom VJP rule returned ${typeof c} for input ${i}, expected a tensor, a number or null`);
    if (!sameShape(t.shape, x.shape)) {
      throw new GradientError(`${op}: the custom VJP rule returned a cotangent of shape ${fmtShape(t.shape)} for input ${i}, expected ${fmtShape(x.shape)} (the input's shape)`);
    }
    return t.dtype === x.dtype ? t : cast(t, x.dtype);
  });
}

/** Boxes `primal` at reverse trace `top` as the output of a node running `vjpRule`. */
function boxCustom(name: string, top: Trace, args: readonly Tensor[], inner: Tensor[], primal: Tensor, vjpRule: (ct: Tensor) => (Tensor | null)[]): Tensor {
  const prim: Primitive<null> = {
    name,
    impl: () => {
      throw new GradientError(`${name}: internal error: a custom rule's node is never re-applied`);
    },
    jvp: () => {
      throw new GradientError(`${name}: internal error: a custom rule's node has no JVP`);
    },
    vjp: (ct) => vjpRule(ct),
    batch: () => {
      throw new GradientError(`${name}: internal error: a custom rule's node is never batched (vmap handles custom rules before recording)`);
    },
  };
  const out = Tensor._box(primal, top);
  // No `residuals` on the primitive: the node keeps every value, which the user's rule may read.
  out._node = recordNode(prim as Primitive, null, args, inner, primal, top);
  return out;
}

/** Options for `customVjp` and `customJvp`. */
export interface CustomRuleOptions {
  /** Name used in errors and the graph viewer; defaults to f's name. */
  name?: string;
}

/** Options for `customVjp`. */
export interface CustomVjpOptions extends CustomRuleOptions {
  /**
   * Arguments that are not differentiated (JAX's `nondiff_argnums`): passed to f and fwd as they are —
   * numbers, strings, functions, int tensors — never traced; their entries in bwd's result are ignored
   * (give null). Unlike JAX, bwd is still called as bwd(residuals, ct); put what it needs in the residuals.
   */
  nondiffArgnums?: readonly number[];
}

/**
 * Gives `f` a hand-written reverse-mode rule (JAX's `custom_vjp`), e.g. for numerical stability or to
 * save memory. Under a reverse transform `fwd` runs instead of f and its residuals are kept for
 * `bwd(residuals, ct)`, which returns one cotangent per argument (null = zero). Under a forward
 * transform f itself is differentiated. Higher-order reverse differentiates fwd and bwd as ordinary code.
 * Under vmap the default batching rule vmaps f, fwd and bwd one level down (JAX's default).
 * @param f the function; arguments are tensors, numbers or pytrees of them (and anything at
 *   `nondiffArgnums`), the result one tensor
 * @param fwd same arguments; returns [f's result, residuals]
 * @param bwd residuals and the output cotangent → one cotangent per argument, shaped like it (a tree
 *   for a pytree argument; null for zero and for the nondiffArgnums)
 * @returns a function that behaves like f and differentiates with bwd
 * @throws GradientError (when differentiated) if bwd returns the wrong number of cotangents or a wrong shape, naming the input index
 */
export function customVjp<Args extends unknown[], R>(
  f: (...args: Args) => Tensor,
  fwd: (...args: Args) => [Tensor, R],
  bwd: (residuals: R, ct: Tensor) => readonly (Pytree | null | undefined)[],
  options: CustomVjpOptions = {},
): (...args: Args) => Tensor {
  const name = options.name ?? (f.name || "customVjp");
  const nondiff = new Set(options.nondiffArgnums ?? []);
  for (const i of nondiff) if (!Number.isInteger(i) || i < 0) throw new ValueError(`${name}: nondiffArgnums must hold argument indices (integers ≥ 0), got ${JSON.stringify(options.nondiffArgnums)}`);
  const flatCall = tensorCustomVjp(name, f as never, fwd as never, bwd as never);
  const call = (...raw: Args): Tensor => {
    if (nondiff.size === 0 && raw.every((a) => a instanceof Tensor || typeof a === "number")) return flatCall(...(raw as TensorLike[]));
    return treeCustomVjp(name, f as never, fwd as never, bwd as never, nondiff, raw);
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}

/**
 * customVjp over pytree and non-differentiable arguments: the same rule on the flat list of the
 * differentiable leaves, with f, fwd and bwd adapted to it (bwd's per-argument cotangent trees flattened).
 */
function treeCustomVjp<R>(
  name: string,
  f: (...a: unknown[]) => Tensor,
  fwd: (...a: unknown[]) => [Tensor, R],
  bwd: (residuals: R, ct: Tensor) => readonly (Pytree | null | undefined)[],
  nondiff: ReadonlySet<number>,
  raw: readonly unknown[],
): Tensor {
  for (const i of nondiff) if (i >= raw.length) throw new ValueError(`${name}: nondiffArgnums names argument ${i}, but the function was called with ${raw.length} argument(s)`);
  const diff = raw.flatMap((_, i) => (nondiff.has(i) ? [] : [i]));
  const counts = diff.map((i) => leaves(raw[i]).length);
  const full = (xs: readonly Tensor[]): unknown[] => {
    const out = [...raw];
    let k = 0;
    diff.forEach((i, a) => {
      out[i] = rebuild(raw[i], xs.slice(k, (k += counts[a]!)));
    });
    return out;
  };
  const flat = tensorCustomVjp<R>(
    name,
    (...xs: Tensor[]) => f(...full(xs)),
    (...xs: Tensor[]) => fwd(...full(xs)),
    (res, ct) => {
      const cts = bwd(res, ct);
      if (!Array.isArray(cts) || cts.length !== raw.length) {
        throw new GradientError(`${name}: the custom VJP rule returned ${Array.isArray(cts) ? `${cts.length} cotangent(s)` : typeof cts}, expected ${raw.length} (one per argument; null for the nondiffArgnums)`);
      }
      return diff.flatMap((i, a) => {
        const c = cts[i];
        if (c === null || c === undefined) return new Array<null>(counts[a]!).fill(null);
        const cl = leaves(c);
        if (cl.length !== counts[a]) throw new GradientError(`${name}: the custom VJP rule returned a cotangent with ${cl.length} leaves for argument ${i}, expected ${counts[a]} (the argument's structure)`);
        return cl;
      });
    },
  );
  return flat(...(diff.flatMap((i) => leaves(raw[i])) as TensorLike[]));
}

/** customVjp on tensor (or number) arguments: the rule acts at one trace level at a time. */
function tensorCustomVjp<R>(
  name: string,
  f: (...args: Tensor[]) => Tensor,
  fwd: (...args: Tensor[]) => [Tensor, R],
  bwd: (residuals: R, ct: Tensor) => readonly (Tensor | number | null | undefined)[],
): (...args: TensorLike[]) => Tensor {
  const call = (...raw: TensorLike[]): Tensor => {
    const args = toTensors(name, raw);
    const { top, inner } = unboxTop(args);
    const run = f as (...a: Tensor[]) => Tensor;
    if (top === null) return checkOut(name, "f", run(...args));
    if (top.kind === "batch") return batchedCustomVjp(name, f as never, fwd as never, bwd, top, args, inner);
    if (top.kind === "forward") return forwardThroughF(name, run, call as (...a: Tensor[]) => Tensor, top, args, inner);
    const [out, residuals] = (fwd as (...a: Tensor[]) => [Tensor, R])(...inner);
    const primal = checkOut(name, "fwd", out);
    return boxCustom(name, top, args, inner, primal, (ct) => checkCotangents(name, bwd(residuals, ct), inner));
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}

/**
 * customVjp at a batch trace (vmap): by default (as JAX) the same custom function one level down with
 * f, fwd and bwd vmapped over the batched arguments; the cotangent of an argument shared by all
 * examples is the sum over the batch of the per-example cotangents.
 */
function batchedCustomVjp<R>(
  name: string,
  f: (...a: never[]) => Tensor,
  fwd: (...a: never[]) => [Tensor, R],
  bwd: (residuals: R, ct: Tensor) => readonly (Tensor | number | null | undefined)[],
  top: Trace,
  args: Tensor[],
  inner: Tensor[],
): Tensor {
  const inAxes = args.map((a) => (a._trace === top ? 0 : null));
  // A number cotangent stands for a filled tensor of the argument's (per-example) shape.
  const perExample = (res: R, ct: Tensor): (Tensor | null)[] =>
    bwd(res, ct).map((c, i) => (typeof c === "number" ? full(args[i]!.shape, c, args[i]!.dtype) : c ?? null));
  const mapped = customVjp(
    (...xs: Tensor[]) => vmap(f as unknown as (...a: Tensor[]) => Tensor, { inAxes })(...xs),
    (...xs: Tensor[]) => vmap(fwd as unknown as (...a: Tensor[]) => [Tensor, Pytree], { inAxes })(...xs) as [Tensor, R],
    (res: R, ct: Tensor) => {
      const cts = vmap(perExample as unknown as (r: Pytree, c: Tensor) => Pytree, { inAxes: [0, 0] })(res as Pytree, ct) as unknown as (Tensor | null)[];
      return cts.map((c, i) => (c === null || inAxes[i] === 0 ? c : sum(c, 0)));
    },
    { name },
  );
  return Tensor._boxBatch(mapped(...inner), top);
}

/** Forward mode through f itself: the primal by `again` at the lower level (keeping older custom rules), the tangent by jvp of f. */
function forwardThroughF(name: string, f: (...a: Tensor[]) => Tensor, again: (...a: Tensor[]) => Tensor, top: Trace, args: Tensor[], inner: Tensor[]): Tensor {
  const primal = checkOut(name, "f", again(...inner));
  const moving = args.flatMap((a, i) => (a._trace === top && a._tangent !== null ? [i] : []));
  if (moving.length === 0) return primal;
  const partial = (...xs: Tensor[]): Tensor => {
    const full = [...inner];
    moving.forEach((i, k) => (full[i] = xs[k]!));
    return f(...full);
  };
  const [, t] = jvp(partial, moving.map((i) => inner[i]!), moving.map((i) => args[i]!._tangent!));
  const out = Tensor._box(primal, top);
  out._tangent = t.dtype === primal.dtype ? t : cast(t, primal.dtype);
  return out;
}

/**
 * Gives `f` a hand-written forward-mode rule (JAX's `custom_jvp`). `rule(primals, tangents)` returns
 * [f(primals), tangent of the output] and must be linear in the tangents. Under a forward transform
 * the rule is called (missing tangents are zeros); under a reverse transform the rule is transposed:
 * the VJP is the pullback of `t ↦ rule(primals, t)[1]`, taken at zero tangents. Higher-order
 * derivatives differentiate the rule itself.
 * @throws GradientError if the rule's tangent is not shaped like its output
 */
export function customJvp<Args extends TensorLike[]>(
  f: (...args: Args) => Tensor,
  rule: (primals: Tensor[], tangents: Tensor[]) => [Tensor, Tensor],
  options: CustomRuleOptions = {},
): (...args: Args) => Tensor {
  const name = options.name ?? (f.name || "customJvp");
  const tangentOf = (primals: Tensor[], tangents: Tensor[]): [Tensor, Tensor] => {
    const res = rule(primals, tangents);
    if (!Array.isArray(res) || res.length !== 2) throw new GradientError(`${name}: the JVP rule must return [output, tangent]`);
    const out = checkOut(name, "the JVP rule", res[0]);
    const t = checkOut(name, "the JVP rule", res[1]);
    if (!sameShape(t.shape, out.shape)) {
      throw new GradientError(`${name}: the JVP rule returned a tangent of shape ${fmtShape(t.shape)}, expected ${fmtShape(out.shape)} (the output's shape)`);
    }
    return [out, t];
  };
  const call = (...raw: Args): Tensor => {
    const args = toTensors(name, raw);
    const { top, inner } = unboxTop(args);
    if (top === null) return checkOut(name, "f", (f as (...a: Tensor[]) => Tensor)(...args));
    if (top.kind === "batch") {
      // The default batching rule: the same custom function one level down, its parts vmapped.
      const inAxes = args.map((a) => (a._trace === top ? 0 : null));
      const mapped = customJvp(
        (...xs: Tensor[]) => vmap(f as (...a: Tensor[]) => Tensor, { inAxes })(...xs),
        (primals: Tensor[], tangents: Tensor[]) => vmap((p: Tensor[], t: Tensor[]) => tangentOf(p, t), { inAxes: [inAxes, inAxes] })(primals, tangents),
        { name },
      );
      return Tensor._boxBatch(mapped(...inner), top);
    }
    if (top.kind === "forward") {
      const tangents = args.map((a, i) => (a._trace === top && a._tangent !== null ? a._tangent : zerosLike(inner[i]!)));
      const [primal, t] = tangentOf(inner, tangents);
      const out = Tensor._box(primal, top);
      out._tangent = t.dtype === primal.dtype ? t : cast(t, primal.dtype);
      return out;
    }
    const primal = checkOut(name, "f", (call as (...a: Tensor[]) => Tensor)(...inner));
    const floats = inner.flatMap((x, i) => (isFloat(x.dtype) ? [i] : []));
    return boxCustom(name, top, args, inner, primal, (ct) => {
      const linear = (...ts: Tensor[]): Tensor => {
        const full = inner.map((x) => zerosLike(x));
        floats.forEach((i, k) => (full[i] = ts[k]!));
        return tangentOf(inner, full)[1];
      };
      const [, pullback] = vjp(linear, ...floats.map((i) => zerosLike(inner[i]!)));
      const cts = pullback(ct.dtype === primal.dtype ? ct : cast(ct, primal.dtype));
      const res: (Tensor | null)[] = inner.map(() => null);
      floats.forEach((i, k) => (res[i] = cts[k]!));
      return checkCotangents(name, res, inner);
    });
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}
