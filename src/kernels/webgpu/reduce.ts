// Reductions over any set of axes: each output element reduces the elements that share its kept
// coordinates. Few elements per output: one thread loops over them. Many: a workgroup of 64 threads
// strides over them and combines partial results in workgroup memory (a tree reduction).
import type { DType } from "../../core/dtype.js";
import type { GpuContext, GpuStorage } from "./context.js";
import { contiguous, groupsFor, helpersFor, mapKernel, wgslType } from "./wgsl.js";

const WG = 64;

/** The combining step and identity of each kind, in the accumulator type. */
function combine(kind: "sum" | "max" | "min" | "prod", t: "f32" | "i32"): { init: string; step: (acc: string, v: string) => string } {
  const f = t === "f32";
  switch (kind) {
    case "sum":
      return { init: f ? "0.0" : "0", step: (a, v) => `${a} + ${v}` };
    case "prod":
      return { init: f ? "1.0" : "1", step: (a, v) => `${a} * ${v}` };
    case "max":
      return { init: f ? "-inf_()" : "-2147483647 - 1", step: (a, v) => (f ? `nanmax_(${a}, ${v})` : `max(${a}, ${v})`) };
    case "min":
      return { init: f ? "inf_()" : "2147483647", step: (a, v) => (f ? `nanmin_(${a}, ${v})` : `min(${a}, ${v})`) };
  }
}

/**
 * Reduces `src` (dtype `inType`, row-major `shape`) over the sorted `axes` into `out` (the kept dimensions
 * in order), accumulating in `outType` (float32 or int32; bools sum as int32, as on the CPU).
 */
export function reduceKernel(ctx: GpuContext, src: GpuStorage, inType: DType, shape: readonly number[], axes: readonly number[], out: GpuStorage, outType: DType, kind: "sum" | "max" | "min" | "prod"): void {
  const strides = contiguous(shape).map((s, i) => (shape[i] === 1 ? 0 : s));
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const nOut = kept.reduce((p, d) => p * shape[d]!, 1);
  const nRed = axes.reduce((p, d) => p * shape[d]!, 1);
  if (nOut === 0) return;
  const acc = wgslType(outType) as "f32" | "i32";
  const { init, step } = combine(kind, acc);
  if (nRed === 0) {
    // Nothing to reduce: every output is the identity (0, 1, −∞ or +∞).
    mapKernel(ctx, [nOut], out, outType, [], init, acc, acc);
    return;
  }
  const inT = wgslType(inType);
  // base(o): offset of the first element of output o; off(j): offset of reduced element j.
  const decompose = (v: string, dims: readonly number[]): string => {
    const terms = ["0u"];
    let rest = v;
    for (let q = dims.length - 1; q >= 0; q--) {
      const d = dims[q]!;
      if (strides[d] !== 0) terms.push(`((${rest}) % ${shape[d]}u) * ${strides[d]}u`);
      rest = `(${rest}) / ${shape[d]}u`;
    }
    return terms.join(" + ");
  };
  const load = (idx: string): string => (inT === acc ? `src[${idx}]` : `${acc}(src[${idx}])`);
  const head = `@group(0) @binding(0) var<storage, read> src: array<${inT}>;
@group(0) @binding(1) var<storage, read_write> dst: array<${acc}>;`;
  const body = step("acc", "v") + init;
  let code: string;
  if (nRed <= 256) {
    const [gx] = groupsFor(nOut);
    code = `${head}
${helpersFor(body)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * ${gx * WG}u;
  if (o >= ${nOut}u) { return; }
  let base = ${decompose("o", kept)};
  var acc: ${acc} = ${init};
  for (var j = 0u; j < ${nRed}u; j = j + 1u) {
    let v = ${load(`base + ${decompose("j", axes)}`)};
    acc = ${step("acc", "v")};
  }
  dst[o] = acc;
}`;
    ctx.dispatch(code, [src, out], groupsFor(nOut));
    return;
  }
  const [gx] = groupsFor(nOut, 1);
  code = `${head}
var<workgroup> part: array<${acc}, ${WG}>;
${helpersFor(body)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = wg.x + wg.y * ${gx}u;
  let base = ${decompose("o", kept)};
  var acc: ${acc} = ${init};
  for (var j = lid.x; j < ${nRed}u; j = j + ${WG}u) {
    let v = ${load(`base + ${decompose("j", axes)}`)};
    acc = ${step("acc", "v")};
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      let v = part[lid.x + s];
      part[lid.x] = ${step("part[lid.x]", "v")};
    }
    workgroupBarrier();
  }
  if (lid.x == 0u && o < ${nOut}u) { dst[o] = part[0]; }
}`;
  ctx.dispatch(code, [src, out], groupsFor(nOut, 1));
}
