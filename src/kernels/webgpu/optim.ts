// Optimizer updates on the GPU, one pass per parameter: the same formulas as the CPU kernels
// (src/kernels/optim.ts and math.ts: PyTorch's SGD, Adam/AdamW, RMSprop and Adagrad). Hyperparameters that
// change from step to step (learning rate, bias corrections) arrive in a small buffer `hp`, so each shader
// compiles once per rule and option set. All float32.
import { Tensor } from "../../core/tensor.js";
import type { GpuContext } from "./context.js";
import { empty, st } from "./prims.js";
import { groupsFor, threadMain } from "./wgsl.js";

/**
 * One elementwise update over a parameter's n elements: reads `hp` (the hyperparameters) and the tensors of
 * `reads` under their names, and writes one new tensor per name of `writes`, each assigned `${name}Out[i]` by `body`.
 */
function updateKernel(ctx: GpuContext, n: number, hp: readonly number[], reads: Record<string, Tensor>, writes: readonly string[], shape: readonly number[], body: string): Tensor[] {
  const inNames = Object.keys(reads);
  const outs = writes.map(() => empty(ctx, shape, "float32"));
  const decl = ["hp", ...inNames].map((name, k) => `@group(0) @binding(${k}) var<storage, read> ${name}: array<f32>;`);
  writes.forEach((name, k) => decl.push(`@group(0) @binding(${inNames.length + 1 + k}) var<storage, read_write> ${name}Out: array<f32>;`));
  const code = `${decl.join("\n")}
${threadMain(n, body)}`;
  const hpBuffer = ctx.upload(Float32Array.from(hp), "float32");
  if (n > 0) ctx.dispatch(code, [hpBuffer, ...inNames.map((name) => st(reads[name]!)), ...outs.map(st)], groupsFor(n));
  return outs;
}

/** SGD (PyTorch, dampening 0): g ← g + wd·p; buf ← μ·buf + g; g ← g + μ·buf (Nesterov) or buf; p ← p − lr·g. */
export function sgdOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, buf: Tensor | null, lr: number, momentum: number, nesterov: boolean, weightDecay: number): [Tensor, Tensor[]] {
  const mom = buf !== null;
  const [np, nb] = updateKernel(ctx, p.size, [lr, momentum, weightDecay], mom ? { p, g, b: buf } : { p, g }, mom ? ["p", "b"] : ["p"], p.shape, `  var gi = g[i] + hp[2] * p[i];
${mom ? `  let bi = hp[1] * b[i] + gi;
  bOut[i] = bi;
  gi = ${nesterov ? "gi + hp[1] * bi" : "bi"};` : ""}
  pOut[i] = p[i] - hp[0] * gi;`);
  return [np!, nb !== undefined ? [nb] : []];
}

/** Adam / AdamW (PyTorch's form), step t ≥ 1; see adamUpdate in src/kernels/optim.ts. */
export function adamOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, m: Tensor, v: Tensor, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, t: number): [Tensor, Tensor[]] {
  const stepSize = lr / (1 - Math.pow(beta1, t));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  const [np, nm, nv] = updateKernel(ctx, p.size, [stepSize, bc2Sqrt, shrink, l2, beta1, beta2, eps], { p, g, m, v }, ["p", "m", "v"], p.shape, `  let gi = g[i] + hp[3] * p[i];
  let mi = hp[4] * m[i] + (1.0 - hp[4]) * gi;
  let vi = hp[5] * v[i] + (1.0 - hp[5]) * gi * gi;
  mOut[i] = mi;
  vOut[i] = vi;
  pOut[i] = p[i] * hp[2] - (hp[0] * mi) / (sqrt(vi) / hp[1] + hp[6]);`);
  return [np!, [nm!, nv!]];
}

/**
 * RMSprop (PyTorch's form; see rmspropUpdate in src/kernels/math.ts): slots are the squared-gradient average,
 * then the gradient average when centered, then the momentum buffer when μ > 0.
 */
export function rmspropOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, slots: readonly Tensor[], lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, centered: boolean): [Tensor, Tensor[]] {
  const mom = momentum > 0;
  const reads: Record<string, Tensor> = { p, g, v: slots[0]! };
  if (centered) reads["a"] = slots[1]!;
  if (mom) reads["b"] = slots[slots.length - 1]!;
  const writes = ["p", "v", ...(centered ? ["a"] : []), ...(mom ? ["b"] : [])];
  const [np, ...ns] = updateKernel(ctx, p.size, [lr, alpha, eps, weightDecay, momentum], reads, writes, p.shape, `  let gi = g[i] + hp[3] * p[i];
  let vi = hp[1] * v[i] + (1.0 - hp[1]) * gi * gi;
  vOut[i] = vi;
  var avg = vi;
${centered ? `  let ai = hp[1] * a[i] + (1.0 - hp[1]) * gi;
  aOut[i] = ai;
  avg = vi - ai * ai;` : ""}
  let den = sqrt(avg) + hp[2];
${mom ? `  let bi = hp[4] * b[i] + gi / den;
  bOut[i] = bi;
  pOut[i] = p[i] - hp[0] * bi;` : "  pOut[i] = p[i] - (hp[0] * gi) / den;"}`);
  return [np!, ns];
}

/** Adagrad (PyTorch's form), step t ≥ 1; see adagradUpdate in src/kernels/math.ts. */
export function adagradOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, sum: Tensor, lr: number, lrDecay: number, eps: number, weightDecay: number, t: number): [Tensor, Tensor[]] {
  const clr = lr / (1 + (t - 1) * lrDecay);
  const [np, ns] = updateKernel(ctx, p.size, [clr, eps, weightDecay], { p, g, s: sum }, ["p", "s"], p.shape, `  let gi = g[i] + hp[2] * p[i];
  let si = s[i] + gi * gi;
  sOut[i] = si;
  pOut[i] = p[i] - (hp[0] * gi) / (sqrt(si) + hp[1]);`);
  return [np!, [ns!]];
}
