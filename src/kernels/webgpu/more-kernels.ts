// Kernels beyond elementwise, matmul and reductions: windows (slice, pad, concat), indexing (gather,
// scatter-add, argmax/argmin), the fused softmax cross-entropy, and the convolution and max-pooling
// primitives with their gradients. Each output element is computed by one thread that reads what it needs
// (a gather), so no kernel needs atomics: scatter-add and the transposed windows sum over their sources.
import type { DType } from "../../core/dtype.js";
import { sizeOf, type Shape } from "../../core/shape.js";
import { ValueError } from "../../core/errors.js";
import type { WindowGeometry } from "../conv.js";
import type { GpuContext, GpuStorage } from "./context.js";
import { empty, registerKernels, st, plain, type DeviceKernel } from "./prims.js";
import { contiguous, groupsFor, helpersFor, literal, mapKernel, threadMain, wgslType } from "./wgsl.js";

const WG = 64;

/**
 * One thread per output element: `body` computes `value` from the row-major output index `i`; `fns`, WGSL
 * functions the body calls (a window's argmax), go before the entry point.
 */
export function perElement(ctx: GpuContext, n: number, inputs: readonly { storage: GpuStorage; type: string }[], out: GpuStorage, outType: string, body: string, fns = ""): void {
  if (n === 0) return;
  const decl = inputs.map((v, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<${v.type}>;`);
  const code = `${decl.join("\n")}
@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${outType}>;
${helpersFor(body + fns)}
${fns}
${threadMain(n, body)}`;
  ctx.dispatch(code, [...inputs.map((v) => v.storage), out], groupsFor(n));
}

/** WGSL statements splitting index `v` into coordinates `${name}0…` of `shape` (row-major). */
export function coords(v: string, shape: readonly number[], name: string): string {
  const lines = [`  var ${name}r = ${v};`];
  for (let d = shape.length - 1; d >= 0; d--) lines.push(`  let ${name}${d} = i32(${name}r % ${Math.max(shape[d]!, 1)}u); ${name}r = ${name}r / ${Math.max(shape[d]!, 1)}u;`);
  return lines.join("\n");
}

/** The zero of a WGSL type. */
const zero = (t: string): string => (t === "f32" ? "0.0" : t === "i32" ? "0" : "0u");

interface WindowParams {
  readonly big: Shape;
  readonly window: Shape;
  readonly start: readonly number[];
  readonly step: readonly number[];
}

/** concat's parts in one pass per part: each copies itself into its slab of the output. */
const concatKernel: DeviceKernel = (ctx, xs, params) => {
  const axis = params as number;
  const dtype = xs.map((x) => x.dtype).reduce((a: DType, b) => (a === b ? a : a === "float32" || b === "float32" ? "float32" : "int32"));
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((acc, p) => acc + p.shape[axis]!, 0);
  const out = empty(ctx, shape, dtype);
  const ty = wgslType(dtype);
  const outStrides = contiguous(shape).map((s, d) => (shape[d] === 1 ? sizeOf(shape.slice(d + 1)) : s));
  let offset = 0;
  for (const x of xs) {
    const n = x.size;
    if (n > 0) {
      // Write x into the output at `offset` along axis: a map over x's index space with a strided output.
      const own = x.shape;
      const body = `${coords("i", own, "c")}
  let o = ${own.map((_, d) => `u32(c${d}${d === axis ? ` + ${offset}` : ""}) * ${outStrides[d]}u`).join(" + ") || "0u"};
  out[o] = ${wgslType(x.dtype) === ty ? "in0[i]" : `${ty}(in0[i])`};`;
      perElementStrided(ctx, n, st(x), wgslType(x.dtype), st(out), ty, body);
    }
    offset += x.shape[axis]!;
  }
  return out;
};

/** Like perElement, but the output is written at an index the body computes (read_write, any position). */
function perElementStrided(ctx: GpuContext, n: number, src: GpuStorage, srcType: string, out: GpuStorage, outType: string, body: string): void {
  const code = `@group(0) @binding(0) var<storage, read> in0: array<${srcType}>;
@group(0) @binding(1) var<storage, read_write> out: array<${outType}>;
${threadMain(n, body)}`;
  ctx.dispatch(code, [src, out], groupsFor(n));
}

/** Splits a shape around `axis`: [outer, n, inner]. */
const around = (shape: Shape, axis: number): [number, number, number] => [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];

const kernels: Record<string, DeviceKernel> = {
  // dst (window) = src at start + i·step along each axis.
  slice: (ctx, [x], params) => {
    const p = params as WindowParams;
    const own = contiguous(p.big).map((s, d) => (p.big[d] === 1 ? 0 : s));
    const out = empty(ctx, p.window, x!.dtype);
    const ty = wgslType(x!.dtype);
    const offset = p.start.reduce((acc, s, d) => acc + s * own[d]!, 0);
    mapKernel(ctx, p.window, st(out), x!.dtype, [{ storage: st(x!), dtype: x!.dtype, offset, strides: own.map((s, d) => s * p.step[d]!) }], "a", ty, ty);
    return out;
  },
  // The transpose of slice: the window embedded at start + i·step in a tensor of `value` (shape big).
  pad: (ctx, [x], params) => {
    const p = params as WindowParams & { readonly value: number };
    const ty = wgslType(x!.dtype);
    const out = empty(ctx, p.big, x!.dtype);
    const win = contiguous(p.window).map((s, d) => (p.window[d] === 1 ? sizeOf(p.window.slice(d + 1)) : s));
    const fill = literal(ty, p.value);
    const tests = p.big.map((_, d) => `let q${d} = c${d} - ${p.start[d]}; let k${d} = q${d} / ${p.step[d]}; inside = inside && (q${d} % ${p.step[d]}) == 0 && k${d} >= 0 && k${d} < ${p.window[d]};`);
    const body = `${coords("i", p.big, "c")}
  var inside = true;
  ${tests.join("\n  ")}
  var v = ${fill};
  if (inside) { v = in0[${p.big.map((_, d) => `u32(k${d}) * ${win[d]}u`).join(" + ") || "0u"}]; }
  out[i] = v;`;
    perElement(ctx, sizeOf(p.big), [{ storage: st(x!), type: ty }], st(out), ty, body);
    return out;
  },
  concat: concatKernel,
  // src viewed as [outer, n, inner]: dst [outer, K, inner] = src[:, idx, :] (negative indices wrap).
  gather: (ctx, [x, idx], params) => {
    const { axis } = params as { axis: number };
    const [outer, n, inner] = around(x!.shape, axis);
    const k = idx!.size;
    const shape = [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)];
    const ty = wgslType(x!.dtype);
    const out = empty(ctx, shape, x!.dtype);
    const body = `  let o = i / ${k * inner}u; let r = i % ${k * inner}u; let j = r / ${inner}u; let q = r % ${inner}u;
  var t = in1[j]; if (t < 0) { t = t + ${n}; }
  out[i] = in0[(o * ${n}u + u32(t)) * ${inner}u + q];`;
    perElement(ctx, outer * k * inner, [{ storage: st(x!), type: ty }, { storage: st(idx!), type: "i32" }], st(out), ty, body);
    void outer;
    return out;
  },
  // The transpose of gather: zeros of `shape` plus upd [outer, K, inner] at idx; each output element sums the updates aimed at it.
  scatterAdd: (ctx, [upd, idx], params) => {
    const { axis, shape } = params as { axis: number; shape: Shape };
    const [outer, n, inner] = around(shape, axis);
    const k = idx!.size;
    const ty = wgslType(upd!.dtype);
    const out = empty(ctx, shape, upd!.dtype);
    const body = `  let o = i / ${n * inner}u; let r = i % ${n * inner}u; let j = i32(r / ${inner}u); let q = r % ${inner}u;
  var acc = ${zero(ty)};
  for (var m = 0u; m < ${k}u; m = m + 1u) {
    var t = in1[m]; if (t < 0) { t = t + ${n}; }
    if (t == j) { acc = acc + in0[(o * ${k}u + m) * ${inner}u + q]; }
  }
  out[i] = acc;`;
    perElement(ctx, outer * n * inner, [{ storage: st(upd!), type: ty }, { storage: st(idx!), type: "i32" }], st(out), ty, body);
    return out;
  },
  argmax: argReduce("max"),
  argmin: argReduce("min"),
  // loss[r] = Σ_c t[r, c]·(logsumexp(x[r, :]) − x[r, c]) (see softmaxCrossEntropyRows in src/kernels/losses.ts).
  softmaxCrossEntropy: (ctx, [x, t]) => {
    const classes = x!.shape[x!.rank - 1]!;
    const rowsShape = x!.shape.slice(0, -1);
    const rows = sizeOf(rowsShape);
    const out = empty(ctx, rowsShape, "float32");
    const body = `  let base = i * ${classes}u;
  var m = -inf_();
  for (var c = 0u; c < ${classes}u; c = c + 1u) { let v = in0[base + c]; if (v > m || isnan_(v)) { m = v; } }
  if (abs(m) == inf_()) { m = 0.0; }
  var s = 0.0;
  for (var c = 0u; c < ${classes}u; c = c + 1u) { s = s + exp(in0[base + c] - m); }
  let lse = m + log(s);
  var loss = 0.0;
  for (var c = 0u; c < ${classes}u; c = c + 1u) { let tc = in1[base + c]; if (tc != 0.0) { loss = loss + tc * (lse - in0[base + c]); } }
  out[i] = loss;`;
    perElement(ctx, rows, [{ storage: st(x!), type: "f32" }, { storage: st(t!), type: "f32" }], st(out), "f32", body);
    return out;
  },
  conv2d: (ctx, [x, w, b], params) => {
    const g = params as WindowGeometry & { o: number };
    const out = empty(ctx, [g.n, g.o, g.oh, g.ow], "float32");
    const inputs = [{ storage: st(x!), type: "f32" }, { storage: st(w!), type: "f32" }];
    if (b) inputs.push({ storage: st(b), type: "f32" });
    const body = `${coords("i", [g.n, g.o, g.oh, g.ow], "c")}
  var acc = ${b ? "in2[c1]" : "0.0"};
  for (var ci = 0; ci < ${g.c}; ci = ci + 1) {
    for (var ki = 0; ki < ${g.kh}; ki = ki + 1) {
      let ih = c2 * ${g.sh} - ${g.ph} + ki;
      if (ih < 0 || ih >= ${g.h}) { continue; }
      for (var kj = 0; kj < ${g.kw}; kj = kj + 1) {
        let iw = c3 * ${g.sw} - ${g.pw} + kj;
        if (iw < 0 || iw >= ${g.w}) { continue; }
        acc = acc + in0[((c0 * ${g.c} + ci) * ${g.h} + ih) * ${g.w} + iw] * in1[((c1 * ${g.c} + ci) * ${g.kh} + ki) * ${g.kw} + kj];
      }
    }
  }
  out[i] = acc;`;
    perElement(ctx, out.size, inputs, st(out), "f32", body.replaceAll(/in(\d)\[(.+?)\]/g, (_m, k: string, e: string) => `in${k}[u32(${e})]`));
    return out;
  },
  // dx[n, c, i, j] = Σ_{o, ki, kj} ct[n, o, r, q]·w[o, c, ki, kj] over the windows (r, q) that read (i, j).
  conv2dInputGrad: (ctx, [ct, w], params) => {
    const g = params as WindowGeometry & { o: number };
    const out = empty(ctx, [g.n, g.c, g.h, g.w], "float32");
    const body = `${coords("i", [g.n, g.c, g.h, g.w], "c")}
  var acc = 0.0;
  for (var ki = 0; ki < ${g.kh}; ki = ki + 1) {
    let y = c2 + ${g.ph} - ki;
    if (y < 0 || y % ${g.sh} != 0) { continue; }
    let r = y / ${g.sh};
    if (r >= ${g.oh}) { continue; }
    for (var kj = 0; kj < ${g.kw}; kj = kj + 1) {
      let z = c3 + ${g.pw} - kj;
      if (z < 0 || z % ${g.sw} != 0) { continue; }
      let q = z / ${g.sw};
      if (q >= ${g.ow}) { continue; }
      for (var o = 0; o < ${g.o}; o = o + 1) {
        acc = acc + in0[u32(((c0 * ${g.o} + o) * ${g.oh} + r) * ${g.ow} + q)] * in1[u32(((o * ${g.c} + c1) * ${g.kh} + ki) * ${g.kw} + kj)];
      }
    }
  }
  out[i] = acc;`;
    perElement(ctx, out.size, [{ storage: st(ct!), type: "f32" }, { storage: st(w!), type: "f32" }], st(out), "f32", body);
    return out;
  },
  // dw[o, c, ki, kj] = Σ_{n, r, q} x[n, c, r·sh − ph + ki, q·sw − pw + kj]·ct[n, o, r, q]: a workgroup per weight.
  conv2dWeightGrad: (ctx, [x, ct], params) => {
    const g = params as WindowGeometry & { o: number };
    const out = empty(ctx, [g.o, g.c, g.kh, g.kw], "float32");
    const nOut = out.size;
    const total = g.n * g.oh * g.ow;
    const [gx] = groupsFor(nOut, 1);
    const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> ct: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oi = wg.x + wg.y * ${gx}u;
  let kj = i32(oi % ${g.kw}u); let t1 = oi / ${g.kw}u;
  let ki = i32(t1 % ${g.kh}u); let t2 = t1 / ${g.kh}u;
  let ci = i32(t2 % ${g.c}u); let o = i32(t2 / ${g.c}u);
  var acc = 0.0;
  for (var e = lid.x; e < ${total}u; e = e + ${WG}u) {
    let q = i32(e % ${g.ow}u); let t3 = e / ${g.ow}u;
    let r = i32(t3 % ${g.oh}u); let n = i32(t3 / ${g.oh}u);
    let ih = r * ${g.sh} - ${g.ph} + ki;
    let iw = q * ${g.sw} - ${g.pw} + kj;
    if (ih >= 0 && ih < ${g.h} && iw >= 0 && iw < ${g.w}) {
      acc = acc + x[u32(((n * ${g.c} + ci) * ${g.h} + ih) * ${g.w} + iw)] * ct[u32(((n * ${g.o} + o) * ${g.oh} + r) * ${g.ow} + q)];
    }
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { part[lid.x] = part[lid.x] + part[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && oi < ${nOut}u) { out[oi] = part[0]; }
}`;
    if (nOut > 0) ctx.dispatch(code, [st(x!), st(ct!), st(out)], groupsFor(nOut, 1));
    return out;
  },
  maxPool2d: (ctx, [x], params) => poolGather(ctx, x!, x!, params as WindowGeometry),
  maxPool2dGather: (ctx, [x, y], params) => poolGather(ctx, x!, y!, params as WindowGeometry),
  // out (x's shape) = Σ ct over the windows whose first maximum is this position (the pool's VJP).
  maxPool2dScatter: (ctx, [x, ct], params) => {
    const g = params as WindowGeometry;
    const out = empty(ctx, x!.shape, "float32");
    const body = `${coords("i", [g.n, g.c, g.h, g.w], "c")}
  let plane = (c0 * ${g.c} + c1) * ${g.h * g.w};
  let me = c2 * ${g.w} + c3;
  var acc = 0.0;
  for (var ki = 0; ki < ${g.kh}; ki = ki + 1) {
    let y = c2 + ${g.ph} - ki;
    if (y < 0 || y % ${g.sh} != 0 || y / ${g.sh} >= ${g.oh}) { continue; }
    let r = y / ${g.sh};
    for (var kj = 0; kj < ${g.kw}; kj = kj + 1) {
      let z = c3 + ${g.pw} - kj;
      if (z < 0 || z % ${g.sw} != 0 || z / ${g.sw} >= ${g.ow}) { continue; }
      let q = z / ${g.sw};
      if (windowArg(plane, r, q) == me) { acc = acc + in1[u32(((c0 * ${g.c} + c1) * ${g.oh} + r) * ${g.ow} + q)]; }
    }
  }
  out[i] = acc;`;
    perElement(ctx, x!.size, [{ storage: st(x!), type: "f32" }, { storage: st(ct!), type: "f32" }], st(out), "f32", body, windowArgFn(g));
    return out;
  },
};

/** WGSL function: the flat index within its plane of the first maximum of window (r, q); NaN wins; padding never does. */
function windowArgFn(g: WindowGeometry): string {
  return `fn windowArg(plane: i32, r: i32, q: i32) -> i32 {
  var best = -1;
  var bv = 0.0;
  for (var ki = 0; ki < ${g.kh}; ki = ki + 1) {
    let ih = r * ${g.sh} - ${g.ph} + ki;
    if (ih < 0 || ih >= ${g.h}) { continue; }
    for (var kj = 0; kj < ${g.kw}; kj = kj + 1) {
      let iw = q * ${g.sw} - ${g.pw} + kj;
      if (iw < 0 || iw >= ${g.w}) { continue; }
      let v = in0[u32(plane + ih * ${g.w} + iw)];
      if (best < 0 || (!isnan_(bv) && (v > bv || isnan_(v)))) { best = ih * ${g.w} + iw; bv = v; }
    }
  }
  return best;
}`;
}

/** out[n, c, r, q] = y at the first maximum of x's window (r, q); y = x is the pool itself. */
function poolGather(ctx: GpuContext, x: import("../../core/tensor.js").Tensor, y: import("../../core/tensor.js").Tensor, g: WindowGeometry) {
  const out = empty(ctx, [g.n, g.c, g.oh, g.ow], "float32");
  const body = `${coords("i", [g.n, g.c, g.oh, g.ow], "c")}
  let plane = (c0 * ${g.c} + c1) * ${g.h * g.w};
  let a = windowArg(plane, c2, c3);
  out[i] = select(in1[u32(plane + a)], -inf_(), a < 0);`;
  perElement(ctx, out.size, [{ storage: st(x), type: "f32" }, { storage: st(y), type: "f32" }], st(out), "f32", body, windowArgFn(g));
  return out;
}

/** argmax / argmin over `axes`: the row-major index over those axes of the first extremum; NaN wins. */
function argReduce(kind: "max" | "min"): DeviceKernel {
  return (ctx, [x], params) => {
    const p = params as { axes: readonly number[]; keepDims: boolean };
    const t = x!;
    const kept = t.shape.map((_, i) => i).filter((i) => !p.axes.includes(i));
    const m = p.axes.reduce((acc, a) => acc * t.shape[a]!, 1);
    const rows = kept.reduce((acc, a) => acc * t.shape[a]!, 1);
    if (m === 0 && rows > 0) throw new ValueError(`arg${kind}: cannot take the arg${kind} over an empty axis (shape [${t.shape.join(",")}], axes [${p.axes.join(",")}])`);
    const shape = p.keepDims ? t.shape.map((d, i) => (p.axes.includes(i) ? 1 : d)) : kept.map((i) => t.shape[i]!);
    const out = empty(ctx, shape, "int32");
    const own = contiguous(t.shape).map((s, d) => (t.shape[d] === 1 ? 0 : s));
    const ty = wgslType(t.dtype);
    const offsetOf = (v: string, dims: readonly number[]): string => {
      const terms = ["0u"];
      let rest = v;
      for (let q = dims.length - 1; q >= 0; q--) {
        const d = dims[q]!;
        if (own[d] !== 0) terms.push(`((${rest}) % ${t.shape[d]}u) * ${own[d]}u`);
        rest = `(${rest}) / ${t.shape[d]}u`;
      }
      return terms.join(" + ");
    };
    const better = kind === "max" ? "v > bv" : "v < bv";
    const nan = ty === "f32" ? "isnan_(v)" : "false";
    const bnan = ty === "f32" ? "isnan_(bv)" : "false";
    const body = `  let base = ${offsetOf("i", kept)};
  var best = 0;
  var bv = in0[base];
  for (var j = 1u; j < ${m}u; j = j + 1u) {
    let v = in0[base + ${offsetOf("j", p.axes)}];
    if (!${bnan} && (${better} || ${nan})) { best = i32(j); bv = v; }
  }
  out[i] = best;`;
    perElement(ctx, rows, [{ storage: st(t), type: ty }], st(out), "i32", body);
    return out;
  };
}

/** Adds these kernels to the table of prims.ts (called once by index.ts; a call, not an import for its side effect, so the published types never reach the GPU API's). */
export function registerMoreKernels(): void {
  registerKernels(kernels);
}
export { plain };
