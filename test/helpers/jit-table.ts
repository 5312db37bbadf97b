// The jit half of the op property table: for every op spec, jit(f) equals f in value, and the staged
// programs of its derivatives equal the eager ones: reverse mode (jit of vjp), forward mode (jit of jvp)
// and second order (jit of jvp-of-vjp, forward over reverse), plus the transforms of jit(f) (vjp, jvp, vmap,
// second order and the Hessian), which run jit's derived programs. Each
// jitted function is called on the case's arguments (tracing) and then on their flat reversals, which
// have the same shapes and stay in the op's domain, so the second call runs the compiled program on new values.
import fc from "fast-check";
import { expect, it } from "vitest";
import { cast, hessian, jit, jvp, stack, sum, Tensor, tensor, vjp, vmap, type Pytree } from "../../src/index.js";
import { values, type Case, type OpSpec } from "./op-table.js";
import { jitCallStats } from "../../src/jit/call.js";

const isFloat = (a: unknown): a is Tensor => a instanceof Tensor && (a.dtype === "float32" || a.dtype === "float64");

/** The argument with its elements in reverse flat order (same shape and dtype). */
function reversed(a: unknown): unknown {
  if (!(a instanceof Tensor)) return a;
  return tensor(Array.from(a.data).reverse() as never, { shape: a.shape, dtype: a.dtype });
}

function expectClose(got: unknown, want: unknown, what: string): void {
  if (Array.isArray(want)) {
    expect(Array.isArray(got), what).toBe(true);
    (want as unknown[]).forEach((w, k) => expectClose((got as unknown[])[k], w, `${what}[${k}]`));
    return;
  }
  const g = got as Tensor, w = want as Tensor;
  expect(g.shape, `${what}: shape`).toEqual(w.shape);
  expect(g.dtype, `${what}: dtype`).toBe(w.dtype);
  const gd = g.data, wd = w.data;
  for (let i = 0; i < wd.length; i++) {
    const a = gd[i]!, b = wd[i]!;
    // The fused loops compute each element as the kernels do; other backends' kernels differ in the last bits.
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-11 + 1e-9 * Math.abs(b)) continue;
    expect.fail(`${what}: element ${i} is ${a}, eager gives ${b}`);
  }
}

type Fn = (...a: unknown[]) => unknown;

/** The case as a function of its float tensors only (indices and conditions fixed). */
function ofFloats(c: Case, args: readonly unknown[]): { f: (...xs: Tensor[]) => Tensor; floats: Tensor[] } {
  const mask = args.map(isFloat);
  const f = (...xs: Tensor[]): Tensor => {
    let k = 0;
    return (c.fn as (...a: unknown[]) => Tensor)(...args.map((a, i) => (mask[i] ? xs[k++] : a)));
  };
  return { f, floats: args.filter(isFloat) };
}

/** Checks jit(make(args)) against make(args) eagerly, on the case's arguments and then on their reversals. */
function checkStaged(c: Case, what: string, make: (args: readonly unknown[]) => { fn: Fn; inputs: unknown[] }): void {
  for (const args of [c.args, c.args.map(reversed)]) {
    const { fn, inputs } = make(args);
    const want = fn(...inputs);
    const staged = jit(fn as (...a: never[]) => unknown) as unknown as Fn;
    // Twice on the same arguments' shapes: the first call traces, the second runs the compiled program.
    expectClose(staged(...inputs), want, `${c.label}: ${what} (tracing call)`);
    expectClose(staged(...inputs), want, `${c.label}: ${what} (compiled)`);
  }
}

/**
 * Transforms of jit(f) against the same transforms of f: vjp (the staged forward and pullback programs),
 * jvp (the jitted jvp), vmap (the jitted vmap, over the arguments and their reversals stacked), and at second
 * order vjp of the pullback (reverse over reverse) and jvp of the pullback (forward over reverse). Each runs
 * twice, so the second call takes the cached programs.
 */
function transformsOfJit(c: Case, seed: number, second: boolean): void {
  const { f, floats } = ofFloats(c, c.args);
  if (floats.length === 0) return;
  const out = f(...floats);
  const ct = cast(values(out.shape, seed), out.dtype);
  const ts = floats.map((x, k) => cast(values(x.shape, seed + 1 + k), x.dtype));
  const jf = jit(f);
  for (const pass of ["tracing", "cached"]) {
    const viaJit = vjp(jf as never, ...(floats as Pytree[]));
    const eager = vjp(f as never, ...(floats as Pytree[]));
    expectClose(viaJit[0], eager[0], `${c.label}: vjp of jit, value (${pass})`);
    expectClose(viaJit[1](ct as never), eager[1](ct as never), `${c.label}: vjp of jit, cotangents (${pass})`);
    expectClose(jvp(jf as never, floats, ts as never), jvp(f as never, floats, ts as never), `${c.label}: jvp of jit (${pass})`);
    const batch = floats.map((x) => stack([x, reversed(x) as Tensor], 0));
    expectClose(vmap(jf as never)(...batch), vmap(f as never)(...batch), `${c.label}: vmap of jit (${pass})`);
    if (!second) continue;
    const pull = (g: (...xs: Tensor[]) => Tensor) => (...xs: Tensor[]): Tensor[] => vjp(g as never, ...(xs as Pytree[]))[1](ct as never) as unknown as Tensor[];
    expectClose(jvp(pull(jf) as never, floats, ts as never), jvp(pull(f) as never, floats, ts as never), `${c.label}: jvp of vjp of jit (${pass})`);
    const cts2 = floats.map((x, k) => cast(values(x.shape, seed + 7 + k), x.dtype));
    expectClose(vjp(pull(jf) as never, ...(floats as Pytree[]))[1](cts2 as never), vjp(pull(f) as never, ...(floats as Pytree[]))[1](cts2 as never), `${c.label}: vjp of vjp of jit (${pass})`);
    // The Hessian of the output's sum in the first float argument: jacfwd of jacrev, so vmap over jvp over
    // vmap over vjp of jit(f), every level a derived program (small arguments only: its size is n²).
    if (isFloat(out) && floats[0]!.size <= 8) {
      const summed = (g: (...xs: Tensor[]) => Tensor) => (x0: Tensor): Tensor => sum(g(x0, ...floats.slice(1)));
      expectClose(hessian(summed(jf))(floats[0]!), hessian(summed(f))(floats[0]!), `${c.label}: hessian of jit (${pass})`);
    }
  }
}

/** Registers, per spec, one vitest case comparing jit with eager for values, both modes and second order. */
export function jitTable(specs: readonly OpSpec[]): void {
  for (const spec of specs) {
    it(`${spec.name}: jit equals eager (values, jit of vjp/jvp, second order, vjp of jit)`, () => {
      let seed = 11;
      for (const ch of spec.name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
      for (const c of fc.sample(spec.cases, { numRuns: 4, seed })) {
        // A value jit runs both on the first arguments' program and, for the reversals, a program traced on them.
        const program = jit(c.fn as (...a: never[]) => Tensor) as unknown as Fn;
        const rev = c.args.map(reversed);
        expectClose(program(...c.args), (c.fn as Fn)(...c.args), `${c.label}: value (tracing call)`);
        expectClose(program(...rev), (c.fn as Fn)(...rev), `${c.label}: value (compiled, new values)`);

        checkStaged(c, "jit of vjp", (args) => {
          const { f, floats } = ofFloats(c, args);
          const out = f(...floats);
          const ct = cast(values(out.shape, seed), out.dtype);
          return { fn: (...xs: unknown[]) => { const [o, pb] = vjp(f as never, ...(xs as Pytree[])); return [o, ...(pb(ct as never) as unknown as Tensor[])]; }, inputs: floats };
        });
        checkStaged(c, "jit of jvp", (args) => {
          const { f, floats } = ofFloats(c, args);
          const ts = floats.map((x, k) => cast(values(x.shape, seed + 1 + k), x.dtype));
          return { fn: (...xs: unknown[]) => jvp(f as never, xs as Tensor[], ts as never) as unknown, inputs: floats };
        });
        if ((spec.order ?? 2) >= 2) {
          checkStaged(c, "jit of forward-over-reverse (second order)", (args) => {
            const { f, floats } = ofFloats(c, args);
            const out = f(...floats);
            const ct = cast(values(out.shape, seed), out.dtype);
            const ts = floats.map((x, k) => cast(values(x.shape, seed + 1 + k), x.dtype));
            const pull = (...xs: Tensor[]): Tensor[] => vjp(f as never, ...(xs as Pytree[]))[1](ct as never) as unknown as Tensor[];
            return { fn: (...xs: unknown[]) => jvp(pull as never, xs as Tensor[], ts as never) as unknown, inputs: floats };
          });
        }
        const unstaged = jitCallStats.unstaged;
        transformsOfJit(c, seed, (spec.order ?? 2) >= 2);
        // Every transform of jit(f) above ran jit's staged programs, none fell back to calling f unstaged.
        expect(jitCallStats.unstaged - unstaged, `${c.label}: calls of jit(f) that ran unstaged under a transform`).toBe(0);
      }
    });
  }
}
