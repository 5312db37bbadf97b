// Optimizer updates on the GPU, one pass per parameter: the same formulas as the CPU kernels
// (src/kernels/optim.ts, PyTorch's SGD and Adam/AdamW). Hyperparameters that change from step to step
// (learning rate, bias corrections) arrive in a small buffer, so the shader compiles once per rule.
import { Tensor } from "../../core/tensor.js";
import type { GpuContext } from "./context.js";
import { empty, st } from "./prims.js";
import { groupsFor } from "./wgsl.js";

const WG = 64;

/** SGD (PyTorch, dampening 0): g ← g + wd·p; buf ← μ·buf + g; g ← g + μ·buf (Nesterov) or buf; p ← p − lr·g. */
export function sgdOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, buf: Tensor | null, lr: number, momentum: number, nesterov: boolean, weightDecay: number): [Tensor, Tensor[]] {
  const n = p.size;
  const hp = ctx.upload(Float32Array.of(lr, momentum, weightDecay), "float32");
  const np = empty(ctx, p.shape, "float32");
  const nb = buf !== null ? empty(ctx, p.shape, "float32") : null;
  const [gx] = groupsFor(n);
  const mom = buf !== null;
  const code = `@group(0) @binding(0) var<storage, read> hp: array<f32>;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
${mom ? `@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> pOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> bOut: array<f32>;` : "@group(0) @binding(3) var<storage, read_write> pOut: array<f32>;"}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${gx * WG}u;
  if (i >= ${n}u) { return; }
  let pi = p[i];
  var gi = g[i] + hp[2] * pi;
${mom ? `  let bi = hp[1] * b[i] + gi;
  bOut[i] = bi;
  gi = ${nesterov ? "gi + hp[1] * bi" : "bi"};` : ""}
  pOut[i] = pi - hp[0] * gi;
}`;
  ctx.dispatch(code, mom ? [hp, st(p), st(g), st(buf!), st(np), st(nb!)] : [hp, st(p), st(g), st(np)], groupsFor(n));
  return [np, nb !== null ? [nb] : []];
}

/** Adam / AdamW (PyTorch's form), step t ≥ 1; see adamUpdate in src/kernels/optim.ts. */
export function adamOnDevice(ctx: GpuContext, p: Tensor, g: Tensor, m: Tensor, v: Tensor, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, t: number): [Tensor, Tensor[]] {
  const n = p.size;
  const stepSize = lr / (1 - Math.pow(beta1, t));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  const hp = ctx.upload(Float32Array.of(stepSize, bc2Sqrt, shrink, l2, beta1, beta2, eps), "float32");
  const np = empty(ctx, p.shape, "float32"), nm = empty(ctx, p.shape, "float32"), nv = empty(ctx, p.shape, "float32");
  const [gx] = groupsFor(n);
  const code = `@group(0) @binding(0) var<storage, read> hp: array<f32>;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> pOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> mOut: array<f32>;
@group(0) @binding(7) var<storage, read_write> vOut: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${gx * WG}u;
  if (i >= ${n}u) { return; }
  let pi = p[i] * hp[2];
  let gi = g[i] + hp[3] * p[i];
  let mi = hp[4] * m[i] + (1.0 - hp[4]) * gi;
  let vi = hp[5] * v[i] + (1.0 - hp[5]) * gi * gi;
  mOut[i] = mi;
  vOut[i] = vi;
  pOut[i] = pi - (hp[0] * mi) / (sqrt(vi) / hp[1] + hp[6]);
}`;
  ctx.dispatch(code, [hp, st(p), st(g), st(m), st(v), st(np), st(nm), st(nv)], groupsFor(n));
  return [np, [nm, nv]];
}
