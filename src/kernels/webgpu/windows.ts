// im2col and col2im on the GPU: the window primitives behind average pooling with overlapping or padded
// windows (src/nn/conv.ts). Same layouts as the CPU kernels (src/kernels/conv.ts): cols is
// [C, kh, kw, N, OH, OW]. One thread per output element; col2im sums the window entries that came from
// its pixel (a gather, like conv2dInputGrad), so no atomics.
import type { WindowGeometry } from "../conv.js";
import { empty, registerKernels, st, type DeviceKernel } from "./prims.js";
import { coords, perElement } from "./more-kernels.js";
import { literal, wgslType } from "./wgsl.js";

interface WindowParams extends WindowGeometry {
  /** What padded positions read. */
  readonly padValue: number;
}

const kernels: Record<string, DeviceKernel> = {
  // cols[c, ki, kj, n, r, q] = x[n, c, r·sh − ph + ki, q·sw − pw + kj], or padValue outside the image.
  im2col: (ctx, [x], params) => {
    const g = params as WindowParams;
    const ty = wgslType(x!.dtype);
    const shape = [g.c, g.kh, g.kw, g.n, g.oh, g.ow];
    const out = empty(ctx, shape, x!.dtype);
    const body = `${coords("i", shape, "c")}
  let ih = c4 * ${g.sh} - ${g.ph} + c1;
  let iw = c5 * ${g.sw} - ${g.pw} + c2;
  var v = ${literal(ty, g.padValue)};
  if (ih >= 0 && ih < ${g.h} && iw >= 0 && iw < ${g.w}) { v = in0[u32(((c3 * ${g.c} + c0) * ${g.h} + ih) * ${g.w} + iw)]; }
  out[i] = v;`;
    perElement(ctx, out.size, [{ storage: st(x!), type: ty }], st(out), ty, body);
    return out;
  },
  // x[n, c, h, w] = Σ cols[c, ki, kj, n, r, q] over the windows (r, q) and offsets (ki, kj) that read (h, w).
  col2im: (ctx, [cols], params) => {
    const g = params as WindowParams;
    const ty = wgslType(cols!.dtype);
    const out = empty(ctx, [g.n, g.c, g.h, g.w], cols!.dtype);
    const body = `${coords("i", [g.n, g.c, g.h, g.w], "c")}
  var acc = ${literal(ty, 0)};
  for (var ki = 0; ki < ${g.kh}; ki = ki + 1) {
    let y = c2 + ${g.ph} - ki;
    if (y < 0 || y % ${g.sh} != 0 || y / ${g.sh} >= ${g.oh}) { continue; }
    for (var kj = 0; kj < ${g.kw}; kj = kj + 1) {
      let z = c3 + ${g.pw} - kj;
      if (z < 0 || z % ${g.sw} != 0 || z / ${g.sw} >= ${g.ow}) { continue; }
      acc = acc + in0[u32(((((c1 * ${g.kh} + ki) * ${g.kw} + kj) * ${g.n} + c0) * ${g.oh} + y / ${g.sh}) * ${g.ow} + z / ${g.sw})];
    }
  }
  out[i] = acc;`;
    perElement(ctx, out.size, [{ storage: st(cols!), type: ty }], st(out), ty, body);
    return out;
  },
};

/** Adds the window kernels to the table of prims.ts (called once by index.ts). */
export function registerWindowKernels(): void {
  registerKernels(kernels);
}
