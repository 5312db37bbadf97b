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
import type { Pytree, TensorTree } from "./tree.js";
import { FlatArgs, OutputPacking } from "./custom-tree.js";

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

/** Options for `customVjp` and `customJvp` with non-differentiable arguments. */
export interface CustomVjpOptions extends CustomRuleOptions {
  /**
   * Arguments that are not differentiated (JAX's `nondiff_argnums`): passed to the function and its
   * rules as they are — numbers, strings, functions, int tensors — never traced. customVjp: their
   * entries in bwd's result are ignored (give null); unlike JAX, bwd is still called as
   * bwd(residuals, ct), so put what it needs in the residuals. customJvp: the rule sees them among the
   * primals, and null as their tangents.
   */
  nondiffArgnums?: readonly number[];
}

/** Options for `customJvp`: the same as customVjp's. */
export type CustomJvpOptions = CustomVjpOptions;

/** The argument indices of `nondiffArgnums`, checked. @throws ValueError for a non-index */
function nondiffSet(name: string, nondiffArgnums: readonly number[] | undefined): Set<number> {
  const nondiff = new Set(nondiffArgnums ?? []);
  for (const i of nondiff) if (!Number.isInteger(i) || i < 0) throw new ValueError(`${name}: nondiffArgnums must hold argument indices (integers ≥ 0), got ${JSON.stringify(nondiffArgnums)}`);
  return nondiff;
}

/**
 * Gives `f` a hand-written reverse-mode rule (JAX's `custom_vjp`), e.g. for numerical stability or to
 * save memory. Under a reverse transform `fwd` runs instead of f and its residuals are kept for
 * `bwd(residuals, ct)`, which returns one cotangent per argument (null = zero). Under a forward
 * transform f itself is differentiated. Higher-order reverse differentiates fwd and bwd as ordinary code.
 * Under vmap the default batching rule vmaps f, fwd and bwd one level down (JAX's default).
 * @param f the function; arguments are tensors, numbers or pytrees of them (and anything at
 *   `nondiffArgnums`); the result a tensor or a pytree of float tensors
 * @param fwd same arguments; returns [f's result, residuals]
 * @param bwd residuals and the output cotangent (shaped like f's result: a tree for a pytree output)
 *   → one cotangent per argument, shaped like it (a tree for a pytree argument; null for zero and for
 *   the nondiffArgnums)
 * @returns a function that behaves like f and differentiates with bwd
 * @throws GradientError (when differentiated) if bwd returns the wrong number of cotangents, a tree of
 *   the wrong structure or a wrong shape, or fwd's result differs in structure or shape from f's;
 *   ValueError for a bad nondiffArgnums
 */
export function customVjp<Args extends unknown[], Out extends Pytree, R>(
  f: (...args: Args) => Out,
  fwd: (...args: Args) => [Out, R],
  bwd: (residuals: R, ct: TensorTree<Out>) => readonly (Pytree | null | undefined)[],
  options: CustomVjpOptions = {},
): (...args: Args) => TensorTree<Out> {
  const name = options.name ?? (f.name || "customVjp");
  const nondiff = nondiffSet(name, options.nondiffArgnums);
  const call = (...raw: Args): TensorTree<Out> => {
    const args = new FlatArgs(name, raw, nondiff);
    const out = new OutputPacking(name);
    const flat = tensorCustomVjp<R>(
      name,
      (...xs) => out.pack((f as (...a: unknown[]) => unknown)(...args.rebuild(xs)), "f's output"),
      (...xs) => {
        const r = (fwd as (...a: unknown[]) => unknown)(...args.rebuild(xs));
        if (!Array.isArray(r) || r.length !== 2) throw new GradientError(`${name}: fwd must return [output, residuals], got ${Array.isArray(r) ? `an array of ${r.length}` : typeof r}`);
        return [out.pack(r[0], "fwd's output"), r[1] as R];
      },
      (res, ct) => {
        const cts = bwd(res, out.unpack(ct) as TensorTree<Out>);
        if (!Array.isArray(cts) || cts.length !== raw.length) {
          const expected = nondiff.size === 0 ? "(one per input)" : "(one per argument; null for the nondiffArgnums)";
          throw new GradientError(`${name}: the custom VJP rule returned ${Array.isArray(cts) ? `${cts.length} cotangent(s)` : typeof cts}, expected ${raw.length} ${expected}`);
        }
        return args.flattenPerArgument(name, "the custom VJP rule returned a cotangent", cts) as (Tensor | number | null)[];
      },
    );
    return out.unpack(flat(...(args.leaves as TensorLike[]))) as TensorTree<Out>;
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
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
    // Under jit (a stage trace on top), f itself is staged: its ops are recorded; rules apply when differentiated.
    if (top === null || top.kind === "stage") return checkOut(name, "f", run(...args));
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

/** The primals a customJvp rule receives: each differentiable argument with its number leaves as tensors. */
export type CustomJvpPrimals<Args extends unknown[]> = { [K in keyof Args]: Args[K] extends Pytree ? TensorTree<Args[K]> : Args[K] };
/** The tangents a customJvp rule receives: a tree like each differentiable argument (zeros where it does not move); null for the nondiffArgnums. */
export type CustomJvpTangents<Args extends unknown[]> = { [K in keyof Args]: Args[K] extends Pytree ? TensorTree<Args[K]> : null };

/**
 * Gives `f` a hand-written forward-mode rule (JAX's `custom_jvp`). `rule(primals, tangents)` returns
 * [f(primals), tangent of the output] and must be linear in the tangents. Under a forward transform
 * the rule is called (tangents of arguments that do not move are zeros); under a reverse transform the
 * rule is transposed: the VJP is the pullback of `t ↦ rule(primals, t)[1]`, taken at zero tangents.
 * Under vmap the default batching rule vmaps f and the rule one level down. Higher-order derivatives
 * differentiate the rule itself.
 * @param f the function; arguments are tensors, numbers or pytrees of them (and anything at
 *   `nondiffArgnums`); the result a tensor or a pytree of float tensors
 * @param rule primals (the arguments, numbers as tensors; non-differentiable ones as given) and
 *   tangents (trees like the arguments; null at the nondiffArgnums) → [output, tangent of the output
 *   shaped like it]
 * @returns a function that behaves like f and differentiates with the rule
 * @throws GradientError if the rule's output or tangent differs in structure or shape from f's output;
 *   ValueError for a bad nondiffArgnums
 */
export function customJvp<Args extends unknown[], Out extends Pytree>(
  f: (...args: Args) => Out,
  rule: (primals: CustomJvpPrimals<NoInfer<Args>>, tangents: CustomJvpTangents<NoInfer<Args>>) => readonly [NoInfer<Out>, Pytree],
  options: CustomJvpOptions = {},
): (...args: Args) => TensorTree<Out> {
  const name = options.name ?? (f.name || "customJvp");
  const nondiff = nondiffSet(name, options.nondiffArgnums);
  const call = (...raw: Args): TensorTree<Out> => {
    const args = new FlatArgs(name, raw, nondiff);
    const out = new OutputPacking(name);
    const flat = tensorCustomJvp(
      name,
      (...xs) => out.pack((f as (...a: unknown[]) => unknown)(...args.rebuild(xs)), "f's output"),
      (ps, ts) => {
        const r = (rule as (p: unknown, t: unknown) => unknown)(args.rebuild(ps), args.rebuild(ts, () => null));
        if (!Array.isArray(r) || r.length !== 2) throw new GradientError(`${name}: the JVP rule must return [output, tangent]`);
        return [out.pack(r[0], "the JVP rule's output"), out.pack(r[1], "the JVP rule's tangent")];
      },
    );
    return out.unpack(flat(...(args.leaves as TensorLike[]))) as TensorTree<Out>;
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}

/** customJvp on tensor (or number) arguments with one tensor output: the rule acts at one trace level at a time. */
function tensorCustomJvp(
  name: string,
  f: (...args: Tensor[]) => Tensor,
  rule: (primals: Tensor[], tangents: Tensor[]) => [Tensor, Tensor],
): (...args: TensorLike[]) => Tensor {
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
  const call = (...raw: TensorLike[]): Tensor => {
    const args = toTensors(name, raw);
    const { top, inner } = unboxTop(args);
    if (top === null || top.kind === "stage") return checkOut(name, "f", f(...args));
    if (top.kind === "batch") {
      // The default batching rule: the same custom function one level down, its parts vmapped.
      const inAxes = args.map((a) => (a._trace === top ? 0 : null));
      const mapped = customJvp(
        (...xs: Tensor[]) => vmap(f, { inAxes })(...xs),
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
