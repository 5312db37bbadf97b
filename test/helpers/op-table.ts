// Table-driven property tests for op rules: each spec generates random arguments (shapes with
// broadcasting, size-1 and size-0 dimensions; values in the op's domain) and checks first and second
// derivatives in both modes against central differences in float64, plus the duality
// ⟨ct, jvp(t)⟩ = ⟨vjp(ct), t⟩, with the library's own checkGrads (itself tested in transforms.test.ts
// against deliberately wrong rules).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableBackends, cast, checkGrads, getBackend, Rng, setBackend, Tensor, tensor, vjp, type BackendName, type DType, type Pytree } from "../../src/index.js";
import { setKernelMinimums } from "../../src/kernels/registry.js";
import { batchingTable } from "./batching-table.js";
import { jitTable } from "./jit-table.js";
import { webgpuParity } from "./webgpu-parity.js";

/** One generated call: float64 arguments (and pass-through extras such as int32 indices) and the function. */
export interface Case {
  args: unknown[];
  fn: (...xs: never[]) => Tensor;
  /** Shown when a property fails. */
  label: string;
}

export interface OpSpec {
  name: string;
  cases: fc.Arbitrary<Case>;
  order?: number;
  rtol?: number;
  atol?: number;
  numRuns?: number;
}

/** Maps a standard normal sample into an op's domain. */
export type Domain = (v: number) => number;
export const anywhere: Domain = (v) => v;
export const positive: Domain = (v) => 0.3 + Math.abs(v);
export const awayFromZero: Domain = (v) => (v < 0 ? -0.4 + v : 0.4 + v);

/** A float64 tensor of `shape` with seeded normal values mapped through `domain`. */
export function values(shape: readonly number[], seed: number, domain: Domain = anywhere): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = domain(rng.normal());
  return tensor(data, { shape });
}

/**
 * A constant a spec's function builds (a weighting), in the dtype and on the device of `like`: the same
 * function then runs in float64 on the CPU and in float32 on the webgpu device, whose ops refuse CPU operands.
 */
export function constantLike(c: Tensor, like: Tensor): Tensor {
  const v = c.dtype === like.dtype ? c : cast(c, like.dtype);
  return like.device === "webgpu" ? v.to("webgpu") : v;
}

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  /** Smallest dimension; 0 allows empty tensors (default 0). */
  minDim?: number;
  maxDim?: number;
}

/** Shapes of rank minRank..maxRank (default 0..3) with dims minDim..maxDim (default 0..3), empty dims rarer. */
export function shapeArb(o: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const minDim = o.minDim ?? 0;
  const maxDim = o.maxDim ?? 3;
  const dim = minDim === 0 ? fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: maxDim }) }) : fc.integer({ min: minDim, max: maxDim });
  return fc.array(dim, { minLength: o.minRank ?? 0, maxLength: o.maxRank ?? 3 });
}

/** n shapes that broadcast together: a base shape, each with some leading dims dropped and some dims set to 1. */
export function broadcastShapes(n: number, o: ShapeOptions = {}): fc.Arbitrary<number[][]> {
  return shapeArb(o).chain((base) =>
    fc.tuple(
      ...Array.from({ length: n }, () =>
        fc
          .tuple(fc.integer({ min: 0, max: base.length }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: base.length, maxLength: base.length }))
          .map(([drop, ones]) => base.slice(drop).map((d, i) => (ones[i + drop] === 0 ? 1 : d))),
      ),
    ),
  );
}

/** Axis arguments for a reduction over a tensor of `rank`: undefined (all), one axis (maybe negative), or a list. */
export function axisArb(rank: number): fc.Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constantFrom(undefined, [] as number[]);
  return fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -rank, max: rank - 1 }),
    fc.subarray(Array.from({ length: rank }, (_, i) => i)).chain((axes) => fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length })),
  );
}

export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Makes fast-check print a failing case by its label instead of dumping tensors. */
export function labelled(c: Case): Case {
  return Object.assign(c, { [fc.toStringMethod]: () => c.label });
}

/**
 * Registers one vitest case per spec; each runs `numRuns` generated cases through checkGrads. Then, for
 * every other backend present, one case per spec that compares its values and VJPs with the js backend's,
 * one per spec that checks vmap against loops (test/helpers/batching-table.ts), one per spec that
 * checks jit against eager evaluation (test/helpers/jit-table.ts), and one per spec on the webgpu
 * device against the CPU (test/helpers/webgpu-parity.ts).
 */
export function propertyTable(specs: readonly OpSpec[], defaults: { numRuns: number }): void {
  backendParity(specs);
  batchingTable(specs);
  jitTable(specs);
  webgpuParity(specs);
  for (const spec of specs) {
    it(`${spec.name}: order ${spec.order ?? 2}, fwd and rev, vs central differences + duality`, () => {
      let seed = 0;
      for (const ch of spec.name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
      fc.assert(
        fc.property(spec.cases.map(labelled), (c) => {
          checkGrads(c.fn as (...a: unknown[]) => Tensor, c.args, { order: spec.order ?? 2, rtol: spec.rtol, atol: spec.atol });
        }),
        { numRuns: spec.numRuns ?? defaults.numRuns, seed, verbose: 1 },
      );
    });
  }
}

/** A unary-op spec over random shapes. */
export function unarySpec(name: string, fn: (x: Tensor) => Tensor, domain: Domain = anywhere, extra: Partial<OpSpec> = {}): OpSpec {
  return {
    name,
    cases: fc.tuple(shapeArb(), seedArb).map(([shape, seed]) => ({ args: [values(shape, seed, domain)], fn, label: `${name} ${JSON.stringify(shape)}` })),
    ...extra,
  };
}

/** A binary-op spec over broadcasting shape pairs. */
export function binarySpec(name: string, fn: (a: Tensor, b: Tensor) => Tensor, da: Domain = anywhere, db: Domain = anywhere, extra: Partial<OpSpec> = {}): OpSpec {
  return {
    name,
    cases: fc.tuple(broadcastShapes(2), seedArb).map(([[sa, sb], seed]) => ({
      args: [values(sa!, seed, da), values(sb!, seed + 1, db)],
      fn,
      label: `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`,
    })),
    ...extra,
  };
}

/** Whether a case argument is a float tensor (differentiated and cast); indices and conditions are not. */
function isFloatTensor(a: unknown): a is Tensor {
  return a instanceof Tensor && (a.dtype === "float32" || a.dtype === "float64");
}

/** Casts the float tensors of a case's arguments to `dtype`; other arguments pass through. */
function castArgs(args: readonly unknown[], dtype: DType): unknown[] {
  return args.map((a) => (isFloatTensor(a) ? cast(a, dtype) : a));
}

/** The output and the cotangent of every argument, on `backend`, for a fixed pseudo-random output cotangent. */
function valueAndPullback(backend: BackendName, c: Case, args: unknown[], seed: number): Float64Array[] {
  setBackend(backend);
  // Differentiate with respect to the float tensors only; indices and conditions stay fixed.
  const isFloatArg = args.map(isFloatTensor);
  const f = (...floats: Pytree[]): Tensor => {
    let next = 0;
    return (c.fn as (...a: unknown[]) => Tensor)(...args.map((a, i) => (isFloatArg[i] ? floats[next++] : a)));
  };
  const [out, pullback] = vjp(f, ...(args.filter((_, i) => isFloatArg[i]) as Pytree[]));
  const ct = cast(values(out.shape, seed), out.dtype);
  const cts = pullback(ct) as unknown[];
  return [out, ...cts].filter((t): t is Tensor => t instanceof Tensor).map((t) => Float64Array.from(t.data));
}

/**
 * Every op spec on every backend present, against the js backend: the same generated cases in float64
 * and float32, values and VJPs. The kernels' size thresholds are lowered to 0 for this, so the small
 * tensors of the table really run through the backend's own kernels (never through its js fallback).
 * Float64 results agree to 1e-12 (equal where the algorithm is the same; GEMM sums in another order);
 * float32 to 1e-5 relative: the wasm transcendental kernels are within 1 ulp of the correctly rounded value
 * and BLAS sums products in float32, and a composite op compounds a few such roundings.
 */
function backendParity(specs: readonly OpSpec[]): void {
  const others = availableBackends().filter((b) => b !== "js");
  for (const backend of others) {
    describe(`${backend} backend against js`, () => {
      let before: BackendName;
      beforeAll(() => {
        before = getBackend().name;
        setKernelMinimums(0);
      });
      afterAll(() => {
        setKernelMinimums(null);
        setBackend(before);
      });
      for (const spec of specs) {
        it(`${spec.name}: values and VJPs match js (float64, float32)`, () => {
          let seed = 7;
          for (const ch of spec.name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
          for (const [i, c] of fc.sample(spec.cases, { numRuns: 12, seed }).entries()) {
            for (const [dtype, rtol, atol] of [["float64", 1e-12, 1e-12], ["float32", 1e-5, 1e-6]] as const) {
              const args = castArgs(c.args, dtype);
              const want = valueAndPullback("js", c, args, seed + i);
              const got = valueAndPullback(backend, c, args, seed + i);
              expect(got.length).toBe(want.length);
              for (let t = 0; t < want.length; t++) {
                const g = got[t]!, w = want[t]!;
                for (let j = 0; j < w.length; j++) {
                  const ok = Object.is(g[j], w[j]) || (Number.isNaN(g[j]!) && Number.isNaN(w[j]!)) || Math.abs(g[j]! - w[j]!) <= atol + rtol * Math.abs(w[j]!);
                  if (!ok) expect.fail(`${c.label} ${dtype} on ${backend}: ${t === 0 ? "value" : `cotangent of argument ${t - 1}`}[${j}] is ${g[j]}, js gives ${w[j]}`);
                }
              }
            }
          }
        });
      }
    });
  }
}
