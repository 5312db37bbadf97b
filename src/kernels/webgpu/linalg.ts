// Small dense linear algebra on the GPU, for inv, solve, det, slogdet and cholesky (src/ops/linalg-factor.ts):
// the CPU kernels' algorithms (src/kernels/linalg.ts: LAPACK's getrf/getrs/potrf) in float32. A factorization
// takes one workgroup per matrix, its threads sharing the rows of each elimination step; the triangular solves
// take one thread per right-hand-side column. float32 throughout (the CPU factors in float64 and rounds), so
// results agree to float32 rounding times the matrix's condition number: within rtol 1e-4 for the
// well-conditioned matrices of the property table. A singular or indefinite matrix is found on the GPU and
// reported, with the CPU's message, at the next read (GpuContext.deferCheck).
import { Tensor } from "../../core/tensor.js";
import { batchIndexSuffix, fmtShape, sizeOf, type Shape } from "../../core/shape.js";
import type { GpuContext, GpuStorage } from "./context.js";
import { empty, registerKernels, st, type DeviceKernel } from "./prims.js";
import { perElement } from "./more-kernels.js";
import { groupsFor, helpersFor } from "./wgsl.js";

const WG = 64;

/** Which op failed and why it needed the factorization (the primitive's `Caller` parameter, or the op itself). */
type Caller = { readonly op: string; readonly why: string } | null;

/** Why each op needs a nonsingular matrix, as the CPU's errors say it (src/ops/linalg-factor.ts). */
const WHY: Record<string, string> = {
  inv: "; a singular matrix has no inverse (check for linearly dependent rows, or use solve with a regularised matrix)",
  solve: "; A·X = B has no unique solution (check for linearly dependent rows of A)",
};

/** Reports, at the next read, the first matrix whose LU factorization met an exactly zero pivot. */
function checkNonsingular(ctx: GpuContext, info: GpuStorage, x: Tensor, caller: Caller, op: string): void {
  const n = x.shape[x.rank - 1]!;
  ctx.deferCheck(info, sizeOf(x.shape.slice(0, -2)), (status) => {
    const b = status.findIndex((v) => v !== 0);
    if (b < 0) return null;
    return `${caller?.op ?? op}: matrix is singular${batchIndexSuffix(x.shape, b)}: pivot ${status[b]} of ${n} is exactly 0 after partial pivoting (found on the GPU, reported at this read); got shape ${fmtShape(x.shape)}${caller?.why ?? WHY[op]}`;
  });
}

/** The head of a one-workgroup-per-matrix kernel: `b` the matrix, `o` its offset, threads `lid.x`. */
function perMatrix(count: number, n: number, decl: string, body: string): { code: string; groups: [number, number] } {
  const [gx, gy] = groupsFor(count, 1);
  const code = `${decl}
${helpersFor(body)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.x + wg.y * ${gx}u;
  if (b >= ${count}u) { return; }
  let o = b * ${n * n}u;
  for (var e = lid.x; e < ${n * n}u; e = e + ${WG}u) { m[o + e] = src[o + e]; }
  if (lid.x == 0u) { info[b] = 0; }
  storageBarrier();
  workgroupBarrier();
${body}
}`;
  return { code, groups: [gx, gy] };
}

/**
 * LU with partial pivoting of every n×n matrix of x (P·A = L·U, as luFactorInto): the factors, the row
 * swapped at each step (as LAPACK's ipiv, 0-based) and, per matrix, 0 or 1 + the first exactly-zero pivot.
 */
function luFactor(ctx: GpuContext, x: Tensor): { lu: GpuStorage; piv: GpuStorage; info: GpuStorage } {
  const n = x.shape[x.rank - 1]!, count = sizeOf(x.shape.slice(0, -2));
  const lu = ctx.alloc(count * n * n), piv = ctx.alloc(count * n), info = ctx.alloc(count);
  if (count * n === 0) {
    // 0×0 matrices are nonsingular; the status must say so (a fresh buffer may come from the reuse pool).
    ctx.write(info, new Int32Array(count), "int32");
    return { lu, piv, info };
  }
  const { code, groups } = perMatrix(count, n, `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> piv: array<i32>;
@group(0) @binding(3) var<storage, read_write> info: array<i32>;
var<workgroup> pivotRow: u32;`, `  for (var k = 0u; k < ${n}u; k = k + 1u) {
    if (lid.x == 0u) {
      // The largest magnitude at or below the diagonal; the first wins ties, NaN wins over all.
      var p = k;
      var best = abs(m[o + k * ${n}u + k]);
      for (var i = k + 1u; i < ${n}u; i = i + 1u) {
        let v = abs(m[o + i * ${n}u + k]);
        if (v > best || (isnan_(v) && !isnan_(best))) { best = v; p = i; }
      }
      piv[b * ${n}u + k] = i32(p);
      pivotRow = p;
      if (best == 0.0 && info[b] == 0) { info[b] = i32(k) + 1; }
    }
    let p = workgroupUniformLoad(&pivotRow);
    if (p != k) {
      for (var j = lid.x; j < ${n}u; j = j + ${WG}u) {
        let t = m[o + k * ${n}u + j];
        m[o + k * ${n}u + j] = m[o + p * ${n}u + j];
        m[o + p * ${n}u + j] = t;
      }
    }
    storageBarrier();
    workgroupBarrier();
    let d = m[o + k * ${n}u + k];
    if (d != 0.0) {
      for (var i = k + 1u + lid.x; i < ${n}u; i = i + ${WG}u) {
        let l = m[o + i * ${n}u + k] / d;
        m[o + i * ${n}u + k] = l;
        if (l != 0.0) {
          for (var j = k + 1u; j < ${n}u; j = j + 1u) { m[o + i * ${n}u + j] = m[o + i * ${n}u + j] - l * m[o + k * ${n}u + j]; }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }`);
  ctx.dispatch(code, [st(x), lu, piv, info], groups);
  return { lu, piv, info };
}

/**
 * X = A⁻¹·B from A's LU factors (as luSolveInto): `rhs` holds count n×k right-hand sides, or null for the
 * identity (the inverse). One thread per (matrix, column): the row swaps, then L (unit) forward, then U back.
 */
function luSolve(ctx: GpuContext, f: { lu: GpuStorage; piv: GpuStorage }, n: number, count: number, rhs: Tensor | null, k: number, shape: Shape): Tensor {
  const out = empty(ctx, shape, "float32");
  const inputs = [{ storage: f.lu, type: "f32" }, { storage: f.piv, type: "i32" }];
  if (rhs !== null) inputs.push({ storage: st(rhs), type: "f32" });
  const at = (row: string): string => `r + (${row}) * ${k}u + q`;
  const body = `  let b = i / ${k}u;
  let q = i % ${k}u;
  let o = b * ${n * n}u;
  let r = b * ${n * k}u;
  for (var i2 = 0u; i2 < ${n}u; i2 = i2 + 1u) { out[${at("i2")}] = ${rhs !== null ? `in2[${at("i2")}]` : "select(0.0, 1.0, i2 == q)"}; }
  for (var i2 = 0u; i2 < ${n}u; i2 = i2 + 1u) {
    let p = u32(in1[b * ${n}u + i2]);
    if (p != i2) { let t = out[${at("i2")}]; out[${at("i2")}] = out[${at("p")}]; out[${at("p")}] = t; }
  }
  for (var i2 = 0u; i2 < ${n}u; i2 = i2 + 1u) {
    var s = out[${at("i2")}];
    for (var j = 0u; j < i2; j = j + 1u) { s = s - in0[o + i2 * ${n}u + j] * out[${at("j")}]; }
    out[${at("i2")}] = s;
  }
  for (var t2 = 0u; t2 < ${n}u; t2 = t2 + 1u) {
    let i2 = ${n - 1}u - t2;
    var s = out[${at("i2")}];
    for (var j = i2 + 1u; j < ${n}u; j = j + 1u) { s = s - in0[o + i2 * ${n}u + j] * out[${at("j")}]; }
    out[${at("i2")}] = s / in0[o + i2 * ${n}u + i2];
  }`;
  perElement(ctx, n === 0 ? 0 : count * k, inputs, st(out), "f32", body);
  return out;
}

/** det, log|det| or the sign of det of every matrix from its LU factors (as luDeterminantsInto). */
function determinants(ctx: GpuContext, x: Tensor, f: { lu: GpuStorage; piv: GpuStorage }, which: "det" | "logAbs" | "sign"): Tensor {
  const n = x.shape[x.rank - 1]!, batch = x.shape.slice(0, -2);
  const out = empty(ctx, batch, "float32");
  const value = { det: "select(d * perm, 0.0, d == 0.0)", logAbs: "l", sign: "select(select(s * perm, 0.0, l == -inf_()), nan_(), isnan_(l))" }[which];
  const body = `  let o = i * ${n * n}u;
  var perm = 1.0; var s = 1.0; var l = 0.0; var d = 1.0;
  for (var k = 0u; k < ${n}u; k = k + 1u) {
    let u = in0[o + k * ${n}u + k];
    if (u32(in1[i * ${n}u + k]) != k) { perm = -perm; }
    if (u < 0.0) { s = -s; }
    l = l + select(log(abs(u)), -inf_(), u == 0.0);
    d = d * u;
  }
  out[i] = ${value};`;
  perElement(ctx, sizeOf(batch), [{ storage: f.lu, type: "f32" }, { storage: f.piv, type: "i32" }], st(out), "f32", body);
  return out;
}

/**
 * Cholesky A = L·Lᵀ of every matrix, reading the lower triangle (as choleskyInto, column by column): thread 0
 * takes each diagonal entry, then the threads share the rows below it. Reports, at the next read, the first
 * matrix with a leading minor that is not positive.
 */
function choleskyKernel(ctx: GpuContext, x: Tensor): Tensor {
  const n = x.shape[x.rank - 1]!, count = sizeOf(x.shape.slice(0, -2));
  const out = empty(ctx, x.shape, "float32");
  const info = ctx.alloc(count);
  if (count * n === 0) return out;
  const { code, groups } = perMatrix(count, n, `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> info: array<i32>;`, `  for (var j = 0u; j < ${n}u; j = j + 1u) {
    if (lid.x == 0u) {
      var d = m[o + j * ${n + 1}u];
      for (var k = 0u; k < j; k = k + 1u) { d = d - m[o + j * ${n}u + k] * m[o + j * ${n}u + k]; }
      if (!(d > 0.0) && info[b] == 0) { info[b] = i32(j) + 1; }
      m[o + j * ${n + 1}u] = sqrt(d);
    }
    storageBarrier();
    workgroupBarrier();
    let l = m[o + j * ${n + 1}u];
    for (var i = j + 1u + lid.x; i < ${n}u; i = i + ${WG}u) {
      var s = m[o + i * ${n}u + j];
      for (var k = 0u; k < j; k = k + 1u) { s = s - m[o + i * ${n}u + k] * m[o + j * ${n}u + k]; }
      m[o + i * ${n}u + j] = s / l;
    }
    for (var i = lid.x; i < j; i = i + ${WG}u) { m[o + i * ${n}u + j] = 0.0; }
    storageBarrier();
    workgroupBarrier();
  }`);
  ctx.dispatch(code, [st(x), st(out), info], groups);
  ctx.deferCheck(info, count, (status) => {
    const b = status.findIndex((v) => v !== 0);
    if (b < 0) return null;
    return `cholesky: matrix is not positive definite${batchIndexSuffix(x.shape, b)}: its leading minor of order ${status[b]} is not positive (found on the GPU, reported at this read); got shape ${fmtShape(x.shape)}; cholesky needs a symmetric positive-definite matrix (add a multiple of the identity to a nearly singular one)`;
  });
  return out;
}

const kernels: Record<string, DeviceKernel> = {
  inv: (ctx, [x], caller) => {
    const a = x!;
    const n = a.shape[a.rank - 1]!, count = sizeOf(a.shape.slice(0, -2));
    const f = luFactor(ctx, a);
    checkNonsingular(ctx, f.info, a, caller as Caller, "inv");
    return luSolve(ctx, f, n, count, null, n, a.shape);
  },
  solve: (ctx, [a, b]) => {
    const n = a!.shape[a!.rank - 1]!, count = sizeOf(a!.shape.slice(0, -2));
    const f = luFactor(ctx, a!);
    checkNonsingular(ctx, f.info, a!, null, "solve");
    return luSolve(ctx, f, n, count, b!, b!.shape[b!.rank - 1]!, b!.shape);
  },
  det: (ctx, [x]) => determinants(ctx, x!, luFactor(ctx, x!), "det"),
  // Two primitives share the name slogdet: log|det| (parameter null) and its sign (parameter "sign"). A singular
  // matrix is not an error: sign 0 and logabsdet −∞, as on the CPU (NumPy, PyTorch).
  slogdet: (ctx, [x], part) => determinants(ctx, x!, luFactor(ctx, x!), part === "sign" ? "sign" : "logAbs"),
  cholesky: (ctx, [x]) => choleskyKernel(ctx, x!),
};

/** Adds the linear-algebra kernels to the table of prims.ts (called once by index.ts). */
export function registerLinalgKernels(): void {
  registerKernels(kernels);
}
