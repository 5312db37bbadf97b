// Every op spec of the property table on the webgpu device against the CPU: the same generated cases in
// float32, moved to the GPU, compared in value, VJP and JVP, and at second order (grad of grad, and the
// gradient of a JVP: a Hessian-vector product), so the rules' own ops are checked on the GPU too. Tolerances are float32's (rtol 1e-4, atol 1e-5,
// looser than the CPU backends' 1e-5 because the GPU's exp/log/sin… are within a few ulp, not correctly rounded,
// and its reductions and products sum in another order). float64 is not compared: WGSL has none, and moving
// float64 to the GPU is refused (test/webgpu.test.ts). Specs whose ops have no webgpu kernel are listed in
// NOT_ON_WEBGPU and checked to fail with the error that says so.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Tensor, add, cast, jvp, mul, onesLike, sum, vjp, type Pytree } from "../../src/index.js";
import { values, type Case, type OpSpec } from "./op-table.js";
import { webgpuForTests } from "./webgpu.js";

const FLOAT64 = /float64 tensors cannot live on the GPU|is float64, which the GPU cannot hold/;
/**
 * Specs that cannot run on webgpu, with the error they must fail with. Every op spec runs there now; what is
 * left is the float64 path of cast, which WGSL cannot hold. A new spec whose op has no webgpu kernel fails
 * the table until the kernel exists (or it is listed here with /has no webgpu kernel yet/).
 */
export const NOT_ON_WEBGPU = new Map<string, RegExp>([
  ["cast (float64 → float64 identity path)", FLOAT64],
]);

const device = await webgpuForTests();

const isFloatTensor = (a: unknown): a is Tensor => a instanceof Tensor && (a.dtype === "float32" || a.dtype === "float64");

/** Value, cotangents and output tangent on the device the arguments live on, read back as float64 arrays. */
async function run(c: Case, args: unknown[], seed: number): Promise<Float64Array[]> {
  const isFloatArg = args.map(isFloatTensor);
  const f = (...floats: Pytree[]): Tensor => {
    let next = 0;
    return (c.fn as (...a: unknown[]) => Tensor)(...args.map((a, i) => (isFloatArg[i] ? floats[next++] : a)));
  };
  const floats = args.filter((_, i) => isFloatArg[i]) as Tensor[];
  const onGpu = floats.length > 0 && floats[0]!.device === "webgpu";
  const here = (t: Tensor): Tensor => (onGpu ? t.to("webgpu") : t);
  const [out, pullback] = vjp(f, ...(floats as Pytree[]));
  const ct = here(cast(values(out.shape, seed), "float32"));
  const cts = pullback(ct) as unknown[];
  const tangents = floats.map((x, k) => here(cast(values(x.shape, seed + 1 + k), "float32")));
  const [, tout] = jvp(f, floats, tangents);
  const all = [out, ...cts, tout].filter((t): t is Tensor => t instanceof Tensor);
  return Promise.all(all.map(async (t) => Float64Array.from(await t.dataAsync())));
}

/**
 * Second order on the device the arguments live on, read back: the gradient of ⟨w, vjp(ct)⟩ (reverse over
 * reverse, grad of grad) and of ⟨ct, jvp(t)⟩ (reverse over forward, a Hessian-vector product for a scalar f).
 */
async function runSecond(c: Case, args: unknown[], seed: number): Promise<Float64Array[]> {
  const isFloatArg = args.map(isFloatTensor);
  const f = (...floats: Pytree[]): Tensor => {
    let next = 0;
    return (c.fn as (...a: unknown[]) => Tensor)(...args.map((a, i) => (isFloatArg[i] ? floats[next++] : a)));
  };
  const floats = args.filter((_, i) => isFloatArg[i]) as Tensor[];
  const onGpu = floats.length > 0 && floats[0]!.device === "webgpu";
  const here = (t: Tensor): Tensor => (onGpu ? t.to("webgpu") : t);
  const ct = here(cast(values(f(...floats).shape, seed), "float32"));
  const tangents = floats.map((x, k) => here(cast(values(x.shape, seed + 1 + k), "float32")));
  const w = floats.map((x, k) => here(cast(values(x.shape, seed + 21 + k), "float32")));
  const total = (ts: Tensor[]): Tensor => ts.reduce((acc, t) => add(acc, t));
  const reverseReverse = (...xs: Pytree[]): Tensor => {
    const cts = vjp(f, ...xs)[1](ct) as Tensor[];
    return total(cts.map((g, k) => sum(mul(g, w[k]!))));
  };
  const reverseForward = (...xs: Pytree[]): Tensor => sum(mul(jvp(f, xs, tangents)[1], ct));
  const results: Tensor[] = [];
  for (const h of [reverseReverse, reverseForward]) {
    const [out, pullback] = vjp(h, ...(floats as Pytree[]));
    results.push(...(pullback(onesLike(out)) as unknown[]).filter((t): t is Tensor => t instanceof Tensor));
  }
  return Promise.all(results.map(async (t) => Float64Array.from(await t.dataAsync())));
}

/** Registers one case per spec comparing the webgpu device with the CPU (skipped, with one line, without a GPU). */
export function webgpuParity(specs: readonly OpSpec[]): void {
  describe.skipIf(device === null)("webgpu device against the CPU (float32)", () => {
    for (const spec of specs) {
      it(`${spec.name}: values, VJPs, JVPs and second order match the CPU on webgpu`, async () => {
        let seed = 11;
        for (const ch of spec.name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
        for (const [i, c] of fc.sample(spec.cases, { numRuns: 3, seed }).entries()) {
          const args = c.args.map((a) => (isFloatTensor(a) ? cast(a, "float32") : a));
          const want = await run(c, args, seed + i);
          let got: Float64Array[];
          try {
            got = await run(c, args.map((a) => (a instanceof Tensor ? a.to("webgpu") : a)), seed + i);
          } catch (e) {
            const expected = NOT_ON_WEBGPU.get(spec.name);
            if (expected !== undefined && expected.test(String(e))) return;
            throw e;
          }
          expect(NOT_ON_WEBGPU.has(spec.name), `${spec.name} runs on webgpu: remove it from NOT_ON_WEBGPU`).toBe(false);
          expect(got.length).toBe(want.length);
          // Second order, for the specs whose first order runs here.
          const n1 = want.length;
          want.push(...(await runSecond(c, args, seed + i)));
          got.push(...(await runSecond(c, args.map((a) => (a instanceof Tensor ? a.to("webgpu") : a)), seed + i)));
          expect(got.length, `${c.label}: second-order results`).toBe(want.length);
          for (let t = 0; t < want.length; t++) {
            const g = got[t]!, w = want[t]!;
            const what = t === 0 ? "value" : t === n1 - 1 ? "jvp" : t < n1 ? `cotangent of argument ${t - 1}` : `second order ${t - n1} (grad of ⟨w, vjp⟩, then of ⟨ct, jvp⟩, per argument)`;
            expect(g.length, `${c.label}: ${what} length`).toBe(w.length);
            for (let j = 0; j < w.length; j++) {
              const ok = Object.is(g[j], w[j]) || (Number.isNaN(g[j]!) && Number.isNaN(w[j]!)) || Math.abs(g[j]! - w[j]!) <= 1e-5 + 1e-4 * Math.abs(w[j]!);
              if (!ok) expect.fail(`${c.label} float32 on webgpu: ${what}[${j}] is ${g[j]}, the CPU gives ${w[j]}`);
            }
          }
        }
      }, 300_000); // shader compilation on a software GPU dominates: every new shape is a new shader
    }
  });
}
