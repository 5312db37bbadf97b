// WGSL for every elementwise op, generated from one table of expressions (not one shader per op): a
// generic "map" kernel reads each input through a strided view of the output's index space (broadcasting
// is stride 0, a transpose permutes strides, a slice offsets and scales them) and writes one expression
// of the loaded values. The same generator serves casts, `where`, broadcastTo, transpose, slice and pad.
import type { DType } from "../../core/dtype.js";
import { ValueError } from "../../core/errors.js";
import type { GpuContext, GpuStorage } from "./context.js";

/** The WGSL scalar type a dtype is stored as on the GPU (bool as u32 0/1). */
export function wgslType(dtype: DType): "f32" | "i32" | "u32" {
  if (dtype === "float32") return "f32";
  if (dtype === "int32") return "i32";
  if (dtype === "bool") return "u32";
  throw new ValueError("webgpu: float64 tensors cannot live on the GPU (WGSL has no 64-bit floats); cast to float32 first");
}

/** Helper functions shaders may call; each is emitted only when an expression names it. */
const HELPERS: Record<string, string> = {
  isnan_: "fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }",
  // Through private variables: WGSL rejects NaN and infinity in constant expressions, so the bits are read at run time.
  nan_: "var<private> nanbits_: u32 = 0x7fc00000u;\nfn nan_() -> f32 { return bitcast<f32>(nanbits_); }",
  inf_: "var<private> infbits_: u32 = 0x7f800000u;\nfn inf_() -> f32 { return bitcast<f32>(infbits_); }",
  // IEEE pow (C's pow): pow(x, 0) = 1 and pow(1, y) = 1 even for NaN; negative bases need integer exponents.
  pow_: `fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let ab = abs(b);
  if (ab == inf_()) {
    if (abs(a) == 1.0) { return 1.0; }
    if ((abs(a) > 1.0) == (b > 0.0)) { return inf_(); }
    return 0.0;
  }
  if (a == 0.0) {
    let odd = floor(b) == b && floor(b * 0.5) != b * 0.5;
    if (b < 0.0) { return select(inf_(), select(inf_(), -inf_(), bitcast<u32>(a) != 0u), odd); }
    return select(0.0, a, odd);
  }
  if (abs(a) == inf_()) {
    let odd = floor(b) == b && floor(b * 0.5) != b * 0.5;
    let m = select(0.0, inf_(), b > 0.0);
    return select(m, select(m, -m, a < 0.0), odd);
  }
  if (a < 0.0) {
    if (floor(b) != b) { return nan_(); }
    let r = exp2(b * log2(-a));
    return select(r, -r, floor(b * 0.5) != b * 0.5);
  }
  return exp2(b * log2(a));
}`,
  // sin and cos to float32 accuracy: GPU drivers may give only 2⁻¹¹ absolute error (the Vulkan limit, which
  // SwiftShader uses), so reduce by multiples of π/2 (Cody–Waite, π/2 in three parts as in Cephes' sinf) and use Taylor polynomials
  // on [−π/4, π/4], whose first omitted terms are below 2⁻²⁶. Beyond |x| = 10⁵ the reduction loses digits.
  sincos_: `fn sincos_(x: f32, q0: i32) -> f32 {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-0.16666666666666666 + r2 * (0.008333333333333333 + r2 * (-0.0001984126984126984 + r2 * 2.7557319223985893e-6))));
  let c = 1.0 + r2 * (-0.5 + r2 * (0.041666666666666664 + r2 * (-0.001388888888888889 + r2 * (2.48015873015873e-5 - r2 * 2.755731922398589e-7))));
  let q = (i32(k) + q0) & 3;
  if (q == 0) { return s; }
  if (q == 1) { return c; }
  if (q == 2) { return -s; }
  return -c;
}`,
  expm1_: `fn expm1_(a: f32) -> f32 {
  let u = exp(a);
  if (u == 1.0) { return a; }
  let um = u - 1.0;
  if (um == -1.0) { return -1.0; }
  if (abs(a) > 0.5) { return um; }
  return um * a / log(u);
}`,
  log1p_: `fn log1p_(a: f32) -> f32 {
  let u = 1.0 + a;
  if (u == 1.0) { return a; }
  if (abs(a) > 0.5) { return log(u); }
  return log(u) * a / (u - 1.0);
}`,
  tanh_: `fn tanh_(a: f32) -> f32 {
  if (isnan_(a)) { return a; }
  if (abs(a) < 0.0005) { return a; }
  let e = exp(-2.0 * abs(a));
  return sign(a) * (1.0 - e) / (1.0 + e);
}`,
  sigmoid_: `fn sigmoid_(a: f32) -> f32 {
  if (a >= 0.0) { return 1.0 / (1.0 + exp(-a)); }
  let e = exp(a);
  return e / (1.0 + e);
}`,
  sech2_: `fn sech2_(x: f32) -> f32 { let t = exp(-2.0 * abs(x)); let d = 1.0 + t; return 4.0 * t / (d * d); }`,
  sigslope_: `fn sigslope_(x: f32) -> f32 { let s = exp(-abs(x)); let d = 1.0 + s; return s / (d * d); }`,
  softplus_: `fn softplus_(a: f32) -> f32 { return max(a, 0.0) + log1p_(exp(-abs(a))); }`,
  sinh_: `fn sinh_(a: f32) -> f32 { if (abs(a) < 0.01) { return a + a * a * a / 6.0; } let e = exp(a); return 0.5 * (e - 1.0 / e); }`,
  cosh_: `fn cosh_(a: f32) -> f32 { let e = exp(abs(a)); if (e == inf_()) { return e; } return 0.5 * (e + 1.0 / e); }`,
  asinh_: `fn asinh_(a: f32) -> f32 { let x = abs(a); let r = select(log1p_(x + x * x / (1.0 + sqrt(1.0 + x * x))), log(x) + 0.6931471805599453, x > 1e18); return select(r, -r, a < 0.0); }`,
  acosh_: `fn acosh_(a: f32) -> f32 { if (a < 1.0) { return nan_(); } if (a > 1e18) { return log(a) + 0.6931471805599453; } return log(a + sqrt(a * a - 1.0)); }`,
  atanh_: `fn atanh_(a: f32) -> f32 { if (abs(a) > 1.0) { return nan_(); } return 0.5 * log1p_(2.0 * a / (1.0 - a)); }`,
  round_: `fn round_(a: f32) -> f32 { let f = floor(a); let d = a - f; if (d > 0.5) { return f + 1.0; } if (d < 0.5) { return f; } return select(f + 1.0, f, floor(f * 0.5) * 2.0 == f); }`,
  erf_: `fn erf_(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * abs(x));
  let y = 1.0 - t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(-y, y, x >= 0.0);
}`,
  nanmax_: "fn nanmax_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return select(b, a, a > b); }",
  nanmin_: "fn nanmin_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return select(b, a, a < b); }",
  fmod_: "fn fmod_(a: f32, b: f32) -> f32 { if (b == 0.0 || isnan_(a) || isnan_(b) || abs(a) == inf_()) { return nan_(); } if (abs(b) == inf_()) { return select(a, b, a != 0.0 && (a < 0.0) != (b < 0.0)); } let r = a - b * floor(a / b); return select(r, 0.0, abs(r) >= abs(b)); }",
};
/** Helpers that call other helpers. */
const NEEDS: Record<string, string[]> = {
  pow_: ["isnan_", "nan_", "inf_"], tanh_: ["isnan_"], softplus_: ["log1p_"], cosh_: ["inf_"], asinh_: ["log1p_"], acosh_: ["nan_"],
  atanh_: ["log1p_", "nan_"], nanmax_: ["isnan_", "nan_"], nanmin_: ["isnan_", "nan_"], fmod_: ["isnan_", "nan_", "inf_"],
};

/** The helper definitions an expression uses, dependencies first. */
export function helpersFor(code: string): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const d of NEEDS[name] ?? []) add(d);
    out.push(HELPERS[name]!);
  };
  for (const name of Object.keys(HELPERS)) if (new RegExp(`\\b${name}\\(`).test(code)) add(name);
  return out.join("\n");
}

/** An elementwise op as WGSL: the expression of its operands `a`, `b`, `c` in the compute type. */
export interface OpExpr {
  /** "float": operands and result f32 (ints promote, as the CPU kernels do for float-only math); "same": the promoted dtype; "bool": compares in the promoted dtype. */
  readonly kind: "float" | "same" | "bool";
  /** The expression; `T` stands for the compute type's literal suffix (f32 `0.0`, i32 `0`). */
  readonly f32: string;
  /** The int32 version, when it differs (defaults to `f32`). */
  readonly i32?: string;
}

// The expression table: each entry mirrors the CPU kernel of the same name (src/kernels/unary.ts, binary.ts,
// math.ts, special.ts, fused.ts), including its NaN and kink conventions.
export const OPS: Record<string, OpExpr> = {
  // unary
  neg: { kind: "same", f32: "-a" },
  abs: { kind: "same", f32: "abs(a)" },
  sign: { kind: "same", f32: "select(select(a, -1.0, a < 0.0), 1.0, a > 0.0)" },
  exp: { kind: "float", f32: "exp(a)" },
  expm1: { kind: "float", f32: "expm1_(a)" },
  log: { kind: "float", f32: "select(select(log(a), -inf_(), a == 0.0), nan_(), a < 0.0)" },
  log1p: { kind: "float", f32: "select(select(log1p_(a), -inf_(), a == -1.0), nan_(), a < -1.0)" },
  sqrt: { kind: "float", f32: "select(sqrt(a), nan_(), a < 0.0)" },
  rsqrt: { kind: "float", f32: "select(select(inverseSqrt(a), inf_(), a == 0.0), nan_(), a < 0.0)" },
  square: { kind: "same", f32: "a * a" },
  reciprocal: { kind: "float", f32: "1.0 / a" },
  sin: { kind: "float", f32: "sincos_(a, 0)" },
  cos: { kind: "float", f32: "sincos_(a, 1)" },
  tan: { kind: "float", f32: "sincos_(a, 0) / sincos_(a, 1)" },
  tanh: { kind: "float", f32: "tanh_(a)" },
  sigmoid: { kind: "float", f32: "sigmoid_(a)" },
  relu: { kind: "same", f32: "select(a, 0.0, a <= 0.0)", i32: "select(a, 0, a <= 0)" },
  softplus: { kind: "float", f32: "softplus_(a)" },
  erf: { kind: "float", f32: "erf_(a)" },
  round: { kind: "same", f32: "round_(a)", i32: "a" },
  floor: { kind: "same", f32: "floor(a)", i32: "a" },
  ceil: { kind: "same", f32: "ceil(a)", i32: "a" },
  trunc: { kind: "same", f32: "trunc(a)", i32: "a" },
  log2: { kind: "float", f32: "select(select(log2(a), -inf_(), a == 0.0), nan_(), a < 0.0)" },
  log10: { kind: "float", f32: "select(select(log(a) * 0.4342944819032518, -inf_(), a == 0.0), nan_(), a < 0.0)" },
  exp2: { kind: "float", f32: "exp2(a)" },
  asin: { kind: "float", f32: "select(asin(a), nan_(), abs(a) > 1.0)" },
  acos: { kind: "float", f32: "select(acos(a), nan_(), abs(a) > 1.0)" },
  atan: { kind: "float", f32: "atan(a)" },
  sinh: { kind: "float", f32: "sinh_(a)" },
  cosh: { kind: "float", f32: "cosh_(a)" },
  asinh: { kind: "float", f32: "asinh_(a)" },
  acosh: { kind: "float", f32: "acosh_(a)" },
  atanh: { kind: "float", f32: "atanh_(a)" },
  // binary
  add: { kind: "same", f32: "a + b" },
  sub: { kind: "same", f32: "a - b" },
  mul: { kind: "same", f32: "a * b" },
  div: { kind: "float", f32: "a / b" },
  pow: { kind: "float", f32: "pow_(a, b)" },
  maximum: { kind: "same", f32: "nanmax_(a, b)", i32: "max(a, b)" },
  minimum: { kind: "same", f32: "nanmin_(a, b)", i32: "min(a, b)" },
  atan2: { kind: "float", f32: "atan2(a, b)" },
  remainder: { kind: "same", f32: "fmod_(a, b)", i32: "select(a - b * i32(floor(f32(a) / f32(b))), 0, b == 0)" },
  equal: { kind: "bool", f32: "a == b" },
  notEqual: { kind: "bool", f32: "a != b" },
  greater: { kind: "bool", f32: "a > b" },
  greaterEqual: { kind: "bool", f32: "a >= b" },
  less: { kind: "bool", f32: "a < b" },
  lessEqual: { kind: "bool", f32: "a <= b" },
  // the logistic loss on logits (src/kernels/losses.ts, sigmoidCrossEntropy): max(x, 0) − x·y + log(1 + e^−|x|),
  // each side skipped where its weight is 0 so that an infinite logit never meets a 0 weight (∞·0 = NaN)
  binaryCrossEntropyWithLogits: { kind: "float", f32: "select((1.0 - b) * max(a, 0.0), 0.0, b == 1.0) + select(b * max(-a, 0.0), 0.0, b == 0.0) + log1p_(exp(-abs(a)))" },
  // fused backward kernels (src/kernels/fused.ts)
  reluGrad: { kind: "same", f32: "select(b, 0.0, a <= 0.0)", i32: "select(b, 0, a <= 0)" },
  squareGrad: { kind: "same", f32: "2.0 * a * b", i32: "2 * a * b" },
  tanhGrad: { kind: "float", f32: "select(c * sech2_(a), c * (1.0 - b * b), abs(b) <= 0.97)" },
  sigmoidGrad: { kind: "float", f32: "select(c * sigslope_(a), c * b * (1.0 - b), b <= 0.97)" },
};

/** `value` as a WGSL literal of type `ty` (non-finite floats through the nan_/inf_ helpers, which WGSL constants cannot spell). */
export function literal(ty: "f32" | "i32" | "u32", value: number): string {
  if (ty === "i32") return `${value | 0}`;
  if (ty === "u32") return value !== 0 ? "1u" : "0u";
  if (value !== value) return "nan_()";
  if (!Number.isFinite(Math.fround(value))) return value > 0 ? "inf_()" : "-inf_()";
  return `f32(${value.toExponential()})`;
}

/** An input of a map kernel: a buffer read at offset + Σ coordinate·stride over the output's dimensions. */
export interface View {
  readonly storage: GpuStorage;
  readonly dtype: DType;
  readonly offset: number;
  /** One stride per output dimension (0 for a broadcast dimension). */
  readonly strides: readonly number[];
}

/** Strides of a contiguous row-major array of `shape`. */
export function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A view of a contiguous tensor of `shape` broadcast to `to` (NumPy rules: align the trailing dimensions). */
export function broadcastView(storage: GpuStorage, dtype: DType, shape: readonly number[], to: readonly number[]): View {
  const own = contiguous(shape);
  const lead = to.length - shape.length;
  const strides = to.map((_, i) => (i < lead ? 0 : shape[i - lead] === 1 ? 0 : own[i - lead]!));
  return { storage, dtype, offset: 0, strides };
}

const WG = 64;

/** Workgroup counts covering `n` threads of `WG`, split over two dimensions past the 65535 limit. */
export function groupsFor(n: number, wg = WG): [number, number] {
  const g = Math.max(1, Math.ceil(n / wg));
  if (g <= 65535) return [g, 1];
  const y = Math.ceil(g / 65535);
  return [Math.ceil(g / y), y];
}

/**
 * The entry point of a kernel with one thread per index `i` in [0, n), dispatched as `groupsFor(n)`: the
 * index spans both grid dimensions, and threads past n (the last group's spare lanes) return at once.
 */
export function threadMain(n: number, body: string): string {
  const [gx] = groupsFor(n);
  return `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${gx * WG}u;
  if (i >= ${n}u) { return; }
${body}
}`;
}

/**
 * Records out[i] = expr(loaded inputs) over the `shape` index space. `expr` sees the inputs as `a`, `b`,
 * `c`, … converted to `compute`; `store` converts the expression (of type `result`) to the output's type.
 */
export function mapKernel(ctx: GpuContext, shape: readonly number[], out: GpuStorage, outDtype: DType, inputs: readonly View[], expr: string, compute: "f32" | "i32" | "u32", result: "f32" | "i32" | "u32" | "bool"): void {
  const n = shape.reduce((p, d) => p * d, 1);
  if (n === 0) return;
  const names = "abcdefgh";
  const own = contiguous(shape);
  const decl: string[] = [];
  const body: string[] = [];
  const needCoords = inputs.some((v) => v.strides.length !== shape.length || v.strides.some((s, i) => s !== own[i]) || v.offset !== 0);
  if (needCoords) {
    body.push("  var r = i;");
    for (let d = shape.length - 1; d >= 0; d--) {
      body.push(`  let c${d} = r % ${shape[d]}u; r = r / ${shape[d]}u;`);
    }
  }
  inputs.forEach((v, k) => {
    const t = wgslType(v.dtype);
    decl.push(`@group(0) @binding(${k}) var<storage, read> in${k}: array<${t}>;`);
    let idx = "i";
    if (needCoords) {
      // Negative strides (a reversed slice) need signed arithmetic.
      const signed = v.strides.some((s) => s < 0);
      const terms = [signed ? `${v.offset}` : `${v.offset}u`];
      v.strides.forEach((s, d) => {
        if (s !== 0 && shape[d] !== 1) terms.push(signed ? `i32(c${d}) * ${s}` : `c${d} * ${s}u`);
      });
      idx = signed ? `u32(${terms.join(" + ")})` : terms.join(" + ");
    }
    const raw = `in${k}[${idx}]`;
    let val: string;
    if (t === compute) val = raw;
    else if (compute === "u32") val = t === "f32" ? `select(0u, 1u, ${raw} != 0.0)` : `select(0u, 1u, ${raw} != 0)`;
    else val = `${compute}(${raw})`;
    body.push(`  let ${names[k]} = ${val};`);
  });
  const ot = wgslType(outDtype);
  decl.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${ot}>;`);
  let value = expr;
  if (result === "bool") value = ot === "u32" ? `select(0u, 1u, ${expr})` : `select(${ot}(0), ${ot}(1), ${expr})`;
  else if (result !== ot) value = ot === "u32" ? (result === "f32" ? `select(0u, 1u, (${expr}) != 0.0)` : `select(0u, 1u, (${expr}) != 0)`) : `${ot}(${expr})`;
  const code = `${decl.join("\n")}
${helpersFor(expr)}
${threadMain(n, `${body.join("\n")}
  out[i] = ${value};`)}`;
  ctx.dispatch(code, [...inputs.map((v) => v.storage), out], groupsFor(n));
}

/** Adapts an f32 expression to i32 (integer literals) when the table has no int version. */
export function intExpr(e: OpExpr): string {
  return e.i32 ?? e.f32.replace(/(\d+)\.0\b/g, "$1");
}
