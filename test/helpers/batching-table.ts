// The batching half of the op property table: for every op spec, vmap of the case's function equals a
// loop over examples (stack of per-example results) with in-axes 0, the last axis, a null mix and
// vmap nested two deep; and vmap composes with grad and jvp in both orders (vmap of grad, grad of vmap,
// jvp of vmap agree with loops). Examples are the case's own arguments and their flat reversals, which
// stay in each op's domain (a permutation of the same values; for a symmetric positive definite matrix,
// a permutation similarity, still symmetric positive definite; for indices, still in range).
import fc from "fast-check";
import { expect, it } from "vitest";
import { grad, jvp, mul, stack, sum, Tensor, tensor, vmap, type AxisTree } from "../../src/index.js";
import { values, type Case, type OpSpec } from "./op-table.js";

const isFloat = (a: unknown): a is Tensor => a instanceof Tensor && (a.dtype === "float32" || a.dtype === "float64");

/** The argument with its elements in reverse flat order (same shape and dtype). */
function reversed(a: unknown): unknown {
  if (!(a instanceof Tensor)) return a;
  return tensor(Array.from(a.data).reverse() as never, { shape: a.shape, dtype: a.dtype });
}

/** Example k of a batch: the case's arguments (even k) or their reversals (odd k). */
const example = (c: Case, k: number): unknown[] => (k % 2 === 0 ? c.args : c.args.map(reversed));

/** Stacks argument i of each example along `axis` (negative: from the end of the stacked shape); non-tensors stay. */
function stackArgs(examples: unknown[][], axis: number): unknown[] {
  return examples[0]!.map((a, i) => (a instanceof Tensor ? stack(examples.map((e) => e[i] as Tensor), axis < 0 ? a.rank + 1 + axis : axis) : a));
}

function expectClose(got: Tensor, want: Tensor, what: string): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const g = got.data, w = want.data;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-9 + 1e-9 * Math.abs(b)) continue;
    expect.fail(`${what}: element ${i} is ${a}, the loop gives ${b}`);
  }
}

type Fn = (...a: unknown[]) => Tensor;
/** vmap typed for these checks, whose functions take and return tensors. */
const vm = (f: Fn, inAxes: AxisTree[]): Fn => vmap(f as never, { inAxes }) as unknown as Fn;

/** vmap of `c.fn` against the loop, for several in-axes patterns, and nested. */
function checkValues(c: Case, fn: (...a: unknown[]) => Tensor): void {
  const B = 3;
  const exs = Array.from({ length: B }, (_, k) => example(c, k));
  const loop = stack(exs.map((e) => fn(...e)));
  const tensorArgs = c.args.map((a) => a instanceof Tensor);
  const axes = (ax: number): AxisTree[] => tensorArgs.map((t) => (t ? ax : null));
  expectClose(vm(fn, axes(0))(...stackArgs(exs, 0)), loop, `${c.label}: vmap in-axes 0`);
  expectClose(vm(fn, axes(-1))(...stackArgs(exs, -1)), loop, `${c.label}: vmap in-axes -1`);
  const first = tensorArgs.indexOf(true);
  if (tensorArgs.filter(Boolean).length > 1) {
    // The first tensor argument shared by all examples, the others batched.
    const mixed = exs.map((e) => e.map((a, i) => (i === first ? c.args[i] : a)));
    const want = stack(mixed.map((e) => fn(...e)));
    const batched = stackArgs(mixed, 0).map((a, i) => (i === first ? c.args[i] : a));
    expectClose(vm(fn, axes(0).map((a, i) => (i === first ? null : a)))(...batched), want, `${c.label}: vmap with a null in-axis`);
  }
  // Nested two deep: 2 × 2 examples, the outer batch on axis 0, the inner on (then) axis 0 too.
  const grid = [0, 1].map((i) => [0, 1].map((j) => example(c, i + j)));
  const nestedWant = stack(grid.map((row) => stack(row.map((e) => fn(...e)))));
  const nestedArgs = c.args.map((a, i) => (a instanceof Tensor ? stack(grid.map((row) => stack(row.map((e) => e[i] as Tensor)))) : a));
  expectClose(vm(vm(fn, axes(0)), axes(0))(...nestedArgs), nestedWant, `${c.label}: nested vmap`);
}

/** vmap ∘ grad, grad ∘ vmap and jvp ∘ vmap against loops, differentiating the first float argument. */
function checkDerivatives(c: Case, fn: (...a: unknown[]) => Tensor): void {
  const i0 = c.args.findIndex(isFloat);
  if (i0 < 0) return;
  const out = fn(...c.args);
  if (!isFloat(out)) return;
  const weights = values(out.shape, 11);
  const loss = (...a: unknown[]): Tensor => sum(mul(fn(...a), weights));
  const B = 3;
  const exs = Array.from({ length: B }, (_, k) => example(c, k));
  const batched = stackArgs(exs, 0);
  const axes = c.args.map((a) => (a instanceof Tensor ? 0 : null));
  const g = grad(loss as never, { argnums: i0 }) as unknown as (...a: unknown[]) => Tensor;
  const gradLoop = stack(exs.map((e) => g(...e)));
  expectClose(vm(g, axes)(...batched), gradLoop, `${c.label}: vmap of grad`);
  const total = (...a: unknown[]): Tensor => sum(vm(loss, axes)(...a));
  expectClose((grad(total as never, { argnums: i0 }) as unknown as (...a: unknown[]) => Tensor)(...batched), gradLoop, `${c.label}: grad of vmap`);
  const floats = c.args.flatMap((a, i) => (isFloat(a) ? [i] : []));
  const tangents = exs.map((_, k) => floats.map((i) => values((c.args[i] as Tensor).shape, 100 + k)));
  const along = (e: unknown[]) => (...xs: Tensor[]): Tensor => fn(...e.map((a, i) => (floats.includes(i) ? xs[floats.indexOf(i)] : a)));
  const jvpLoop = stack(exs.map((e, k) => jvp(along(e), floats.map((i) => e[i] as Tensor), tangents[k]!)[1]));
  const batchedFn = (...xs: Tensor[]): Tensor =>
    vm(fn, axes)(...batched.map((a, i) => (floats.includes(i) ? xs[floats.indexOf(i)] : a)));
  const [, tOut] = jvp(batchedFn, floats.map((i) => batched[i] as Tensor), floats.map((_, j) => stack(tangents.map((t) => t[j]!))));
  expectClose(tOut, jvpLoop, `${c.label}: jvp of vmap`);
}

/** One vitest case per spec: a few generated cases through the checks above. */
export function batchingTable(specs: readonly OpSpec[]): void {
  for (const spec of specs) {
    it(`${spec.name}: vmap equals a loop (in-axes 0, -1, null, nested), with grad and jvp in both orders`, () => {
      let seed = 3;
      for (const ch of spec.name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
      for (const c of fc.sample(spec.cases, { numRuns: 4, seed })) {
        const fn = c.fn as unknown as (...a: unknown[]) => Tensor;
        checkValues(c, fn);
        checkDerivatives(c, fn);
      }
    });
  }
}

