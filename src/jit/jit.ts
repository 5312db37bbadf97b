import { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { IMPERATIVE_TRACE, gradMode } from "../autodiff/trace.js";
import { leaves, rebuild, TreeDef } from "../autodiff/tree.js";
import { StageTrace, ClosureOverTracer } from "./stage.js";
import { compile, GuardFailed, type Compiled } from "./compile.js";
import { programText } from "./text.js";
import { kernels } from "../kernels/registry.js";
import type { KernelTable } from "../kernels/backend.js";
import type { Program } from "./program.js";
import { callUnderTransform, type TransformSite } from "./call.js";

/** Options for `jit`. */
export interface JitOptions {
  /**
   * Arguments that are not traced but are part of the cache key: numbers, strings and booleans by value,
   * objects (a tensor included) by identity. f may branch on them in JavaScript; each new value traces again.
   */
  staticArgnums?: number | readonly number[];
}

/** A program staged by `jit` for one signature, as `jit(f).lower(...args)` returns it. */
export interface Lowered {
  /** The program in the notation of `trace().toText()`, its fused groups marked. */
  toText(): string;
  /** Number of fused groups (each one generated loop). */
  readonly fusedGroups: number;
  /** Number of primitive applications recorded. */
  readonly steps: number;
}

/**
 * A jitted function: f's signature, plus `lower` to inspect the program for given arguments.
 * @typeParam F the type of the function given to `jit`
 */
export type Jitted<F extends (...args: never[]) => unknown> = F & {
  /** Traces (or takes from the cache) the program for these arguments without running it. */
  lower(...args: Parameters<F>): Lowered;
};

interface Entry {
  /** Null: f runs unstaged for this signature (it closes over a tensor an outer transform traces). */
  compiled: Compiled | null;
  /** The kernel table the program was compiled for: after `setBackend` it compiles again, for the new one. */
  table: KernelTable | null;
  /** f's output as traced: its structure, and (in `outLeaves`) which leaves are tensors (program outputs, in order). */
  readonly outTree: unknown;
  readonly outLeaves: readonly (Tensor | number)[];
  readonly names: readonly (string | undefined)[];
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function staticKey(v: unknown): string {
  if (v === null || v === undefined || typeof v === "number" || typeof v === "string" || typeof v === "boolean" || typeof v === "bigint") {
    return `${typeof v}:${String(v)}`;
  }
  const o = v as object;
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextObjectId++));
  return `object#${id}`;
}

/**
 * The cache entry of a seed program when `args` are flat concrete tensors of its input shapes and dtypes
 * (the first call of a derived program), else null (trace as usual).
 */
function seedEntry(seed: Program | undefined, args: readonly unknown[]): Entry | null {
  if (seed === undefined || args.length !== seed.inputs.length) return null;
  for (let k = 0; k < args.length; k++) {
    const a = args[k], def = seed.values[seed.inputs[k]!]!;
    if (!(a instanceof Tensor) || a.dtype !== def.dtype || a.shape.length !== def.shape.length || a.shape.some((d, i) => d !== def.shape[i])) return null;
  }
  const outs = seed.outputs.map((v) => Tensor._standIn(seed.values[v]!.shape, seed.values[v]!.dtype));
  return { compiled: compile(seed), table: kernels(), outTree: outs, outLeaves: outs, names: [] };
}

/** True when `t` is traced by a transform (grad, vjp, jvp, vmap, requiresGrad outside noGrad): jit then inlines f. */
function traced(t: Tensor): boolean {
  return t._trace !== null && !(t._trace === IMPERATIVE_TRACE && !gradMode.enabled);
}

/**
 * Staged execution (JAX's `jit`): the first call with a new signature runs f once while recording every
 * primitive it applies into a program, compiles it, and caches it; later calls with the same signature run
 * the compiled program. A signature is the pytree structure of the arguments, each tensor leaf's shape and
 * dtype, each number leaf's value, and the values of the `staticArgnums` arguments.
 *
 * Compiling groups runs of elementwise primitives over the same number of elements (an operand may be a
 * single element) into one generated loop each, forward and backward alike when f computes a gradient, so
 * intermediates stay in registers instead of memory; values that only other fused loops read reuse buffers
 * freed by liveness; and the program runs as a flat list of steps bound to their kernels, with none of the
 * tracing machinery of eager ops. Other primitives (matmul, reductions, …) call their usual kernels.
 *
 * Composition (JAX's pjit): under grad, vjp or `backward()`, a call of `jit(f)` is one node of the graph,
 * named `jit(f's name)`: its forward runs a compiled program that also returns the residuals the pullback
 * needs, and its VJP runs the compiled pullback program on them (the two halves of one traced program of f
 * and its pullback, so nothing is recomputed). Under jvp it runs the jitted jvp of f (outputs and tangents
 * from one program), under vmap the jitted vmap of f; each of those is a jitted function in turn, so
 * Hessians and other nestings stay staged. Each is traced once per signature and cached on the jitted
 * function. Inside another jit, f's ops are staged into the outer program, fused with the outer ones, and
 * `lower().toText()` marks their lines with `# jit(f's name)` (`.pullback` for the backward half).
 * `jit(grad(f))`, `jit(vmap(f))`, … stage the whole transformed computation, backward pass included.
 *
 * Conventions: numbers among the arguments are static (each value traces once). Tensors f creates from
 * nothing (zeros, randn, …) or reads from its closure are constants of the program: random draws are taken
 * once, at tracing, and a closed-over tensor is read by reference on every call (an in-place update shows).
 * f is called again, unstaged, when it closes over a tensor that an outer transform traces (a requiresGrad
 * parameter outside noGrad, say), or when a value a library rule read while tracing (labels, indices) differs.
 * With tensor arguments on the GPU (`x.to("webgpu")`), f runs unstaged, op by op on the device: the compiled
 * programs are loops over host memory, and there is no GPU code generation yet.
 * @typeParam F the type of f; the jitted function keeps it
 * @param f takes and returns pytrees of tensors (and numbers)
 * @returns a function with f's signature, plus `lower(...args)` returning the program (`toText()`)
 * @throws ValueError when f is not a function or staticArgnums is not a list of argument positions; when
 *   called, ValueError if f reads a traced tensor's value (`.data`, `.item()`, `.toArray()`, printing),
 *   naming the accessor and suggesting `where` or `staticArgnums`
 */
export function jit<F extends (...args: never[]) => unknown>(f: F, options: JitOptions = {}): Jitted<F> {
  if (typeof f !== "function") throw new ValueError(`jit: f must be a function, got ${f === null ? "null" : typeof f}; e.g. jit((x) => x.square().sum())`);
  const sa = options.staticArgnums ?? [];
  const statics = new Set(typeof sa === "number" ? [sa] : sa);
  for (const i of statics) {
    if (!Number.isInteger(i) || i < 0) throw new ValueError(`jit: staticArgnums must hold argument positions (integers ≥ 0), got ${JSON.stringify(options.staticArgnums)}`);
  }
  return makeJitted(f as unknown as (...args: unknown[]) => unknown, statics, { name: `jit(${f.name || "f"})` }) as unknown as Jitted<F>;
}

/** What `makeJitted` needs beyond f: the name of its calls under transforms, and for derived programs a seed. */
export interface JitBuild {
  /** Name of the one node a call under grad/vjp/jvp/vmap records (as JAX's pjit shows), e.g. "jit(loss)". */
  readonly name: string;
  /**
   * A program already recorded for f on flat tensor arguments (the forward or backward half of a split
   * program, see split.ts): the first concrete call with matching shapes compiles it instead of tracing f.
   */
  readonly seed?: Program;
  /** What runs when a guard of the compiled program fails; f by default. */
  readonly fallback?: (...args: unknown[]) => unknown;
}

/** The jitted function of `call` (see `jit`); also used for the derived programs of calls under transforms. */
export function makeJitted(call: (...args: unknown[]) => unknown, statics: ReadonlySet<number>, build: JitBuild): (...args: unknown[]) => unknown {
  const cache = new Map<string, Entry>();

  const keyOf = (args: readonly unknown[]): string => {
    const parts: string[] = [];
    args.forEach((a, i) => {
      if (statics.has(i)) {
        parts.push(`${i}=${staticKey(a)}`);
        return;
      }
      const ls = leaves(a);
      parts.push(`${i}:${new TreeDef(a).toString()}<${ls.map((l) => (l instanceof Tensor ? `${l.dtype}[${l.shape.join(",")}]` : `#${l}`)).join(" ")}>`);
    });
    return `${args.length}|${parts.join("|")}`;
  };

  const tensorLeaves = (args: readonly unknown[]): Tensor[] =>
    args.flatMap((a, i) => (statics.has(i) ? [] : leaves(a).filter((l): l is Tensor => l instanceof Tensor)));

  /** Traces f on these arguments: the entry, and the values of this (first) call. */
  const traceEntry = (args: readonly unknown[]): { entry: Entry; result: unknown } => {
    const seeded = seedEntry(build.seed, args);
    if (seeded !== null) return { entry: seeded, result: run(seeded, args) };
    const tr = new StageTrace();
    const inputs: Tensor[] = [];
    const boxed = args.map((a, i) => {
      if (statics.has(i)) return a;
      return rebuild(a, leaves(a).map((l) => {
        if (!(l instanceof Tensor)) return l;
        const b = tr.input(l._concreteValue());
        inputs.push(b);
        return b;
      }));
    });
    let out: unknown;
    try {
      out = call(...boxed);
    } catch (e) {
      if (!(e instanceof ClosureOverTracer)) throw e;
      return { entry: { compiled: null, table: null, outTree: null, outLeaves: [], names: [] }, result: call(...args) };
    }
    const outLeaves = leaves(out);
    const tensors = outLeaves.filter((l): l is Tensor => l instanceof Tensor);
    let prog;
    try {
      prog = tr.program(inputs, tensors);
    } catch (e) {
      if (!(e instanceof ClosureOverTracer)) throw e;
      return { entry: { compiled: null, table: null, outTree: null, outLeaves: [], names: [] }, result: call(...args) };
    }
    const compiled = compile(prog);
    const result = rebuild(out, outLeaves.map((l) => (l instanceof Tensor && l._trace === tr ? l._primal! : l)));
    const entry: Entry = { compiled, table: kernels(), outTree: out, outLeaves, names: inputs.map((t) => t.name) };
    return { entry, result };
  };

  const run = (entry: Entry, args: readonly unknown[]): unknown => {
    if (entry.compiled === null) return call(...args);
    if (entry.table !== kernels()) {
      entry.compiled = compile(entry.compiled.program);
      entry.table = kernels();
    }
    let outs: Tensor[];
    try {
      outs = entry.compiled.run(tensorLeaves(args));
    } catch (e) {
      if (e instanceof GuardFailed) return (build.fallback ?? call)(...args);
      throw e;
    }
    let k = 0;
    return rebuild(entry.outTree, entry.outLeaves.map((l) => (l instanceof Tensor ? outs[k++]! : l)));
  };

  // Per signature, the programs of calls under transforms (see call.ts).
  const site: TransformSite = { name: build.name, call, statics, derived: new Map() };
  const jitted = (...args: unknown[]): unknown => {
    // The compiled programs are loops over host memory: with tensors on the GPU, f runs op by op there instead.
    if (tensorLeaves(args).some((t) => t.device !== "cpu")) return call(...args);
    const key = keyOf(args);
    if (tensorLeaves(args).some(traced)) return callUnderTransform(site, key, args);
    const entry = cache.get(key);
    if (entry !== undefined) return run(entry, args);
    const { entry: fresh, result } = traceEntry(args);
    cache.set(key, fresh);
    return result;
  };

  const lower = (...args: unknown[]): Lowered => {
    if (tensorLeaves(args).some(traced)) throw new ValueError("jit: lower() needs concrete arguments; it was given tensors traced by another transform");
    const key = keyOf(args);
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = traceEntry(args).entry;
      cache.set(key, entry);
    }
    const c = entry.compiled;
    if (c === null) throw new ValueError("jit: f closes over a tensor that another transform traces (e.g. a requiresGrad parameter outside noGrad), so it runs unstaged and has no program; pass that tensor as an argument");
    return {
      toText: () => programText(c, entry.names),
      fusedGroups: c.items.filter((it) => it.kind === "group").length,
      steps: c.program.steps.length,
    };
  };

  return Object.assign(jitted, { lower });
}
