// Batched matrix product on the GPU: 16×16 output tiles, each workgroup staging 16×16 blocks of A and B in
// workgroup memory (the classic shared-memory tiling of CUDA's SGEMM example). Operands are strided
// views, so transposed operands (the VJP's products) and broadcast batch dimensions cost no copy.
import type { GpuContext, GpuStorage } from "./context.js";

const TILE = 16;

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
  const code = `@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
var<workgroup> ta: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tb: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let bz = wg.z;
  let row = wg.y * ${TILE}u + lid.y;
  let col = wg.x * ${TILE}u + lid.x;
  let aoff = ${offset(a)};
  let boff = ${offset(b)};
  var acc = 0.0;
  for (var t = 0u; t < ${Math.ceil(k / TILE)}u; t = t + 1u) {
    let ak = t * ${TILE}u + lid.x;
    let bk = t * ${TILE}u + lid.y;
    ta[lid.y][lid.x] = select(0.0, A[aoff + row * ${a.rowStride}u + ak * ${a.colStride}u], row < ${m}u && ak < ${k}u);
    tb[lid.y][lid.x] = select(0.0, B[boff + bk * ${b.rowStride}u + col * ${b.colStride}u], bk < ${k}u && col < ${n}u);
    workgroupBarrier();
    for (var p = 0u; p < ${TILE}u; p = p + 1u) {
      acc = acc + ta[lid.y][p] * tb[p][lid.x];
    }
    workgroupBarrier();
  }
  if (row < ${m}u && col < ${n}u) {
    C[bz * ${m * n}u + row * ${n}u + col] = acc;
  }
}`;
  ctx.dispatch(code, [a.storage, b.storage, out], [Math.ceil(n / TILE), Math.ceil(m / TILE), nb]);
}
