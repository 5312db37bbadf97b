// Batched matrix product on the GPU, tiled in registers: each invocation computes a 4×4 block of the output
// and each workgroup of 8×8 invocations a 32×32 tile. Operands are strided views, so transposed operands
// (the VJP's products) and broadcast batch dimensions cost no copy.
import type { GpuContext, GpuStorage } from "./context.js";

/** A matrix operand: element (batch b, row i, column p) at offset(b) + i·rowStride + p·colStride. */
export interface MatrixOperand {
  readonly storage: GpuStorage;
  readonly rowStride: number;
  readonly colStride: number;
  /** Per batch dimension of the output, the stride in this operand (0 where it broadcasts). */
  readonly batchStrides: readonly number[];
}

/** C[batch, m, n] = A[batch, m, k] · B[batch, k, n], all float32; `batch` the output's batch dimensions. */
export function matmulKernel(ctx: GpuContext, batch: readonly number[], m: number, n: number, k: number, a: MatrixOperand, b: MatrixOperand, out: GpuStorage): void {
  const nb = batch.reduce((p, d) => p * d, 1);
  if (nb === 0 || m === 0 || n === 0) return;
  const offset = (op: MatrixOperand): string => {
    const terms = ["0u"];
    let rest = "bz";
    for (let d = batch.length - 1; d >= 0; d--) {
      if (op.batchStrides[d] !== 0 && batch[d] !== 1) terms.push(`((${rest}) % ${batch[d]}u) * ${op.batchStrides[d]}u`);
      rest = `(${rest}) / ${batch[d]}u`;
    }
    return terms.join(" + ");
  };
  // Each invocation computes a 4×4 block of C in registers, reading A and B straight from the buffers:
  // no workgroup memory and no barriers, which software GPUs (SwiftShader runs each barrier as a coroutine
  // switch) execute far faster than the shared-memory tiling, and GPUs still serve from their caches.
  const code = `@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let bz = gid.z;
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= ${m}u || col0 >= ${n}u) { return; }
  let aoff = ${offset(a)};
  let boff = ${offset(b)};
  var acc: array<vec4<f32>, 4>;
  var rows: array<u32, 4>;
  for (var r = 0u; r < 4u; r = r + 1u) { rows[r] = aoff + min(row0 + r, ${m - 1}u) * ${a.rowStride}u; }
  var cols: vec4<u32>;
  for (var c = 0u; c < 4u; c = c + 1u) { cols[c] = boff + min(col0 + c, ${n - 1}u) * ${b.colStride}u; }
  for (var p = 0u; p < ${k}u; p = p + 1u) {
    let bp = p * ${b.rowStride}u;
    let bv = vec4<f32>(B[cols.x + bp], B[cols.y + bp], B[cols.z + bp], B[cols.w + bp]);
    let ap = p * ${a.colStride}u;
    acc[0] = acc[0] + A[rows[0] + ap] * bv;
    acc[1] = acc[1] + A[rows[1] + ap] * bv;
    acc[2] = acc[2] + A[rows[2] + ap] * bv;
    acc[3] = acc[3] + A[rows[3] + ap] * bv;
  }
  for (var r = 0u; r < 4u; r = r + 1u) {
    let row = row0 + r;
    if (row >= ${m}u) { break; }
    for (var c = 0u; c < 4u; c = c + 1u) {
      if (col0 + c < ${n}u) { C[bz * ${m * n}u + row * ${n}u + col0 + c] = acc[r][c]; }
    }
  }
}`;
  ctx.dispatch(code, [a.storage, b.storage, out], [Math.ceil(n / 32), Math.ceil(m / 32), nb]);
}
