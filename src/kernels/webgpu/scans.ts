// Scans and sorting on the GPU: cumsum, cumprod and logcumsumexp along one axis (one thread per line of
// the axis, walking it in order, as the CPU's scanInto), and argsort along the last axis, on which sort,
// topk and takeAlongAxis are built (src/ops/sort.ts). Their gradients need no kernel of their own: the
// scans' rules are scans again, and sort/topk go back through gather and scatterAdd.
import { isFloat, type DType } from "../../core/dtype.js";
import { sizeOf } from "../../core/shape.js";
import { empty, registerKernels, st, type DeviceKernel } from "./prims.js";
import { perElement } from "./more-kernels.js";
import { wgslType } from "./wgsl.js";

interface ScanParams {
  readonly axis: number;
  readonly reverse: boolean;
}

/** Each kind's identity and combining step, in WGSL over the accumulator `acc` and the value `v`. */
const SCANS = {
  sum: { f32: ["0.0", "acc + v"], i32: ["0", "acc + v"] },
  prod: { f32: ["1.0", "acc * v"], i32: ["1", "acc * v"] },
  // log(e^acc + e^v) without overflow, −∞ as the identity (logAddExp in src/kernels/math.ts).
  logsumexp: { f32: ["-inf_()", "select(select(max(acc, v) + log1p_(exp(-abs(acc - v))), acc, v == -inf_()), v, acc == -inf_())"], i32: ["", ""] },
} as const;

/**
 * The inclusive scan of `kind` along params.axis (from the end when reversed). Ints and bools scan in
 * int32 (sums and products) or float32 (logsumexp), as on the CPU.
 */
function scanKernel(kind: keyof typeof SCANS): DeviceKernel {
  return (ctx, [x], params) => {
    const { axis, reverse } = params as ScanParams;
    const t = x!;
    const dtype: DType = isFloat(t.dtype) ? t.dtype : kind === "logsumexp" ? "float32" : "int32";
    const acc = wgslType(dtype) as "f32" | "i32";
    const [init, step] = SCANS[kind][acc];
    const outer = sizeOf(t.shape.slice(0, axis)), n = t.shape[axis]!, inner = sizeOf(t.shape.slice(axis + 1));
    const out = empty(ctx, t.shape, dtype);
    const load = wgslType(t.dtype) === acc ? "in0[at]" : `${acc}(in0[at])`;
    const body = `  let base = (i / ${inner}u) * ${n * inner}u + i % ${inner}u;
  var acc: ${acc} = ${init};
  for (var s = 0u; s < ${n}u; s = s + 1u) {
    let at = base + ${reverse ? `(${n - 1}u - s)` : "s"} * ${inner}u;
    let v = ${load};
    acc = ${step};
    out[at] = acc;
  }`;
    perElement(ctx, n === 0 ? 0 : outer * inner, [{ storage: st(t), type: wgslType(t.dtype) }], st(out), acc, body);
    return out;
  };
}

/**
 * argsort of each row of the last axis, stable, NaN as the largest value (argsortRows in
 * src/kernels/math.ts). One thread per element counts the row's elements that sort before it, which is
 * its place: O(m²) work per row of m, all of it parallel and without workgroup memory, suited to the short
 * rows that sort and topk see; long rows would want a bitonic network.
 */
const argsort: DeviceKernel = (ctx, [x], params) => {
  const { descending } = params as { descending: boolean };
  const t = x!;
  const m = t.shape[t.rank - 1] ?? 1;
  const ty = wgslType(t.dtype);
  const out = empty(ctx, t.shape, "int32");
  // c < 0 when a sorts before b by value alone; NaN (only in f32) after every number.
  const nan = (v: string): string => (ty === "f32" ? `isnan_(${v})` : "false");
  const body = `  let base = (i / ${m}u) * ${m}u;
  let me = i - base;
  let a = in0[i];
  var rank = 0;
  for (var j = 0u; j < ${m}u; j = j + 1u) {
    let b = in0[base + j];
    var c = 0;
    if (${nan("a")} || ${nan("b")}) { c = select(select(1, -1, ${nan("a")}), 0, ${nan("a")} == ${nan("b")}); }
    else { c = select(select(0, 1, b > a), -1, b < a); }
    ${descending ? "c = -c;" : ""}
    if (c < 0 || (c == 0 && j < me)) { rank = rank + 1; }
  }
  out[base + u32(rank)] = i32(me);`;
  perElement(ctx, m === 0 ? 0 : t.size, [{ storage: st(t), type: ty }], st(out), "i32", body);
  return out;
};

const kernels: Record<string, DeviceKernel> = {
  cumsum: scanKernel("sum"),
  cumprod: scanKernel("prod"),
  logcumsumexp: scanKernel("logsumexp"),
  argsort,
};

/** Adds the scan and sorting kernels to the table of prims.ts (called once by index.ts). */
export function registerScanKernels(): void {
  registerKernels(kernels);
}
