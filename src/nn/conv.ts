import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, isFloat, promote } from "../core/dtype.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { bind } from "../autodiff/bind.js";
import { add, broadcastTo, cast, mean, reshape, sum, transpose } from "../ops/index.js";
import { operand } from "../ops/operands.js";
import { requireFloat } from "../ops/select.js";
import type { WindowGeometry } from "../kernels/conv.js";
import { kernels } from "../kernels/registry.js";
import { mergedRule } from "../core/batching.js";
import { conv2dBatch, inputGradBatch, mergeImages, weightGradBatch, type Windows } from "./conv-batch.js";

/** A size given once for both spatial dimensions, or as [height, width]. */
export type Size2 = number | readonly [number, number];

interface WindowParams extends WindowGeometry {
  /** What padded positions read (0 unless asked otherwise). */
  readonly padValue: number;
}

// im2col and col2im are linear and each other's transpose, so each rule is the other op. They serve
// average pooling with overlapping windows and custom window ops; conv2d and maxPool2d have fused kernels.
const im2colPrim: Primitive<WindowParams> = {
  name: "im2col",
  batch: mergedRule(0, 3, mergeImages),
  impl([x], g) {
    const out = allocate(x!.dtype, g.c * g.kh * g.kw * g.n * g.oh * g.ow);
    kernels().conv.im2col(x!.data, g, g.padValue, out);
    return Tensor._concrete(out, [g.c, g.kh, g.kw, g.n, g.oh, g.ow], x!.dtype);
  },
  // The padding constant has no tangent: tangents are padded with 0.
  jvp: (_x, [t], _out, g) => (t ? bind(im2colPrim, [t], { ...g, padValue: 0 }) : null),
  vjp: (ct, _x, _out, g) => [bind(col2imPrim, [ct], g)],
};

const col2imPrim: Primitive<WindowParams> = {
  name: "col2im",
  batch: mergedRule(3, 0, mergeImages),
  impl([cols], g) {
    const out = allocate(cols!.dtype, g.n * g.c * g.h * g.w);
    kernels().conv.col2im(cols!.data, g, out);
    return Tensor._concrete(out, [g.n, g.c, g.h, g.w], cols!.dtype);
  },
  jvp: (_x, [t], _out, g) => (t ? bind(col2imPrim, [t], g) : null),
  vjp: (ct, _x, _out, g) => [bind(im2colPrim, [ct], { ...g, padValue: 0 })],
};

function pair(op: string, what: string, v: Size2, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  for (const d of p) {
    if (!Number.isInteger(d) || d < min) throw new ValueError(`${op}: ${what} must be an integer ≥ ${min} (or a pair of them), got ${JSON.stringify(v)}`);
  }
  return p;
}

function geometry(op: string, x: Tensor, kernel: Size2, stride: Size2, padding: Size2): WindowGeometry {
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be NCHW (rank 4), got shape ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = pair(op, "kernel size", kernel, 1);
  const [sh, sw] = pair(op, "stride", stride, 1);
  const [ph, pw] = pair(op, "padding", padding, 0);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${op}: a ${kh}×${kw} window does not fit input ${fmtShape(x.shape)} with padding [${ph},${pw}]; expected H + 2·padding ≥ kernel`);
  }
  return { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * Every kh×kw window of an NCHW batch, as a tensor of shape [C, kh, kw, N, OH, OW] (the im2col layout the
 * conv2d kernels use internally). Linear in x; its transpose (col2im) adds window entries back into place.
 * @param x float, shape [N, C, H, W]
 * @param options.padValue value read outside the image (default 0)
 * @throws ShapeError for a non-4-D input or a window larger than the padded input
 */
export function im2col(x: TensorLike, kernel: Size2, options: { stride?: Size2; padding?: Size2; padValue?: number } = {}): Tensor {
  const t = operand("im2col", x);
  const g = geometry("im2col", t, kernel, options.stride ?? 1, options.padding ?? 0);
  return bind(im2colPrim, [t], { ...g, padValue: options.padValue ?? 0 });
}

/** Options for `conv2d`. */
export interface Conv2dOptions {
  /** Step between windows: one number or [height, width]. Default 1. */
  stride?: Size2;
  /** Zero padding added on each side: one number or [height, width]. Default 0. */
  padding?: Size2;
}

/** A convolution's window geometry plus its number of output channels. */
interface ConvParams extends WindowGeometry {
  readonly o: number;
}

// Convolution and its two transposes are bilinear, and each one's rules are the other two, so the set is
// closed under differentiation (as JAX's conv_general_dilated, whose transposes are convolutions again):
//   conv2d(x, w) = y;  conv2dInputGrad(g, w) = Aᵀ_w g;  conv2dWeightGrad(x, g) = the w-gradient of ⟨g, conv2d(x, w)⟩.
// conv2d optionally takes the bias as a third input, added in the kernel's last pass over the output rather
// than by a broadcast add (which would write two more output-sized arrays); its cotangent is the sum of the
// output cotangent over N, OH and OW, and its tangent is broadcast along them.
/** The window primitives, for the batching rules of the convolutions (src/nn/conv-batch.ts). */
const windowPrims: Windows = {
  cols: (x, g) => bind(im2colPrim, [x], { ...g, padValue: 0 }),
  uncols: (cols, g) => bind(col2imPrim, [cols], { ...g, padValue: 0 }),
};

const conv2dPrim: Primitive<ConvParams> = {
  name: "conv2d",
  batch: conv2dBatch(windowPrims),
  impl([x, w, b], g) {
    const out = allocate(x!.dtype, g.n * g.o * g.oh * g.ow);
    kernels().conv.forward(x!.data, w!.data, b?.data ?? null, g, g.o, out);
    return Tensor._concrete(out, [g.n, g.o, g.oh, g.ow], x!.dtype);
  },
  jvp([x, w], [tx, tw, tb], out, g) {
    const a = tx ? bind(conv2dPrim, [tx, w!], g) : null;
    const b = tw ? bind(conv2dPrim, [x!, tw], g) : null;
    const ab = a && b ? add(a, b) : a ?? b;
    if (!tb) return ab;
    const bias = reshape(tb, [1, g.o, 1, 1]);
    return ab ? add(ab, bias) : broadcastTo(bias, out.shape);
  },
  vjp(ct, x, _out, g, needs) {
    const cts = [
      needs[0] ? bind(conv2dInputGradPrim, [ct, x[1]!], g) : null,
      needs[1] ? bind(conv2dWeightGradPrim, [x[0]!, ct], g) : null,
    ];
    if (x.length === 3) cts.push(needs[2] ? sum(ct, [0, 2, 3]) : null);
    return cts;
  },
  // x's cotangent reads w, w's reads x, the bias's only the cotangent: the output is never kept.
  residuals: [[1], [0], []],
};

const conv2dInputGradPrim: Primitive<ConvParams> = {
  name: "conv2dInputGrad",
  batch: inputGradBatch(windowPrims),
  impl([ct, w], g) {
    const out = allocate(ct!.dtype, g.n * g.c * g.h * g.w);
    kernels().conv.inputGrad(ct!.data, w!.data, g, g.o, out);
    return Tensor._concrete(out, [g.n, g.c, g.h, g.w], ct!.dtype);
  },
  jvp([ct, w], [tc, tw], _out, g) {
    const a = tc ? bind(conv2dInputGradPrim, [tc, w!], g) : null;
    const b = tw ? bind(conv2dInputGradPrim, [ct!, tw], g) : null;
    return a && b ? add(a, b) : a ?? b;
  },
  vjp: (ct, [gy, w], _out, g, needs) => [
    needs[0] ? bind(conv2dPrim, [ct, w!], g) : null,
    needs[1] ? bind(conv2dWeightGradPrim, [ct, gy!], g) : null,
  ],
  residuals: [[1], [0]],
};

const conv2dWeightGradPrim: Primitive<ConvParams> = {
  name: "conv2dWeightGrad",
  batch: weightGradBatch(windowPrims),
  impl([x, ct], g) {
    const out = allocate(x!.dtype, g.o * g.c * g.kh * g.kw);
    kernels().conv.weightGrad(x!.data, ct!.data, g, g.o, out);
    return Tensor._concrete(out, [g.o, g.c, g.kh, g.kw], x!.dtype);
  },
  jvp([x, ct], [tx, tc], _out, g) {
    const a = tx ? bind(conv2dWeightGradPrim, [tx, ct!], g) : null;
    const b = tc ? bind(conv2dWeightGradPrim, [x!, tc], g) : null;
    return a && b ? add(a, b) : a ?? b;
  },
  vjp: (ct, [x, gy], _out, g, needs) => [
    needs[0] ? bind(conv2dInputGradPrim, [gy!, ct], g) : null,
    needs[1] ? bind(conv2dPrim, [x!, ct], g) : null,
  ],
  residuals: [[1], [0]],
};

/**
 * 2-D convolution (cross-correlation, as PyTorch's `conv2d`) of an NCHW batch. Computed by im2col and
 * one large matrix product per chunk of images, W[O, C·kh·kw] · cols[C·kh·kw, images·OH·OW], with a
 * packed, register-blocked product kernel; both gradients are products of the same kind (Wᵀ · g then
 * col2im for the input, g · colsᵀ for the weight). The three are primitives whose rules are each other,
 * so gradients of every order work.
 * @param x float, shape [N, C, H, W]
 * @param weight shape [O, C, kh, kw]
 * @param bias optional, shape [O]
 * @returns shape [N, O, OH, OW] with OH = ⌊(H + 2·padding − kh)/stride⌋ + 1 (same for W)
 * @throws ShapeError when channel counts differ, the bias is not [O], or the window does not fit
 */
export function conv2d(x: TensorLike, weight: TensorLike, bias?: TensorLike | null, options: Conv2dOptions = {}): Tensor {
  let t = operand("conv2d", x);
  let w = operand("conv2d", weight);
  requireFloat("conv2d", t, "input");
  if (w.rank !== 4) throw new ShapeError(`conv2d: weight must be [O, C, kh, kw], got shape ${fmtShape(w.shape)}`);
  const [o, cw, kh, kw] = w.shape as [number, number, number, number];
  if (t.rank === 4 && t.shape[1] !== cw) {
    throw new ShapeError(`conv2d: input has ${t.shape[1]} channels (shape ${fmtShape(t.shape)}), weight expects ${cw} (shape ${fmtShape(w.shape)})`);
  }
  const g = geometry("conv2d", t, [kh, kw], options.stride ?? 1, options.padding ?? 0);
  const dtype = isFloat(w.dtype) ? promote(t.dtype, w.dtype) : t.dtype;
  if (t.dtype !== dtype) t = cast(t, dtype);
  if (w.dtype !== dtype) w = cast(w, dtype);
  if (bias === undefined || bias === null) return bind(conv2dPrim, [t, w], { ...g, o });
  let b = operand("conv2d", bias);
  if (b.rank !== 1 || b.shape[0] !== o) throw new ShapeError(`conv2d: bias must have shape [${o}], got ${fmtShape(b.shape)}`);
  // A bias of a wider float type promotes the result, as adding it would: then it is added separately.
  if (promote(dtype, b.dtype) !== dtype) return add(bind(conv2dPrim, [t, w], { ...g, o }), reshape(b, [1, o, 1, 1]));
  if (b.dtype !== dtype) b = cast(b, dtype);
  return bind(conv2dPrim, [t, w, b], { ...g, o });
}

/** Options for the pooling functions. */
export interface PoolOptions {
  /** Step between windows; default the kernel size (non-overlapping windows). */
  stride?: Size2;
  /** Padding on each side; default 0. Max pooling pads with −∞, average pooling with 0 (counted, as PyTorch's default). */
  padding?: Size2;
}

/** Windows with their kh·kw entries on one axis, plus a function that puts the pooled result back into NCHW. */
function windows(op: string, x: Tensor, kernel: Size2, options: PoolOptions): { win: Tensor; axis: number; finish: (r: Tensor) => Tensor } {
  const g = geometry(op, x, kernel, options.stride ?? kernel, options.padding ?? 0);
  if (g.sh === g.kh && g.sw === g.kw && g.ph === 0 && g.pw === 0 && g.h % g.kh === 0 && g.w % g.kw === 0) {
    // Non-overlapping windows that tile the image exactly: a reshape and one transpose, no im2col.
    const r = reshape(x, [g.n, g.c, g.oh, g.kh, g.ow, g.kw]);
    const win = reshape(transpose(r, [0, 1, 2, 4, 3, 5]), [g.n, g.c, g.oh, g.ow, g.kh * g.kw]);
    return { win, axis: 4, finish: (p) => p };
  }
  const cols = bind(im2colPrim, [x], { ...g, padValue: 0 });
  const win = reshape(cols, [g.c, g.kh * g.kw, g.n, g.oh, g.ow]);
  return { win, axis: 1, finish: (p) => transpose(p, [1, 0, 2, 3]) };
}

// Max pooling routes each output to one input, the window's argmax (recomputed from x, which is
// piecewise constant). Three primitives close the set: the pool itself, its transpose "scatter" (adds a
// cotangent into the argmax positions) and "gather" (reads a tensor at the argmax positions); x only
// selects positions, so it gets no gradient from the latter two. The argmax is found again by each kernel
// rather than kept from the forward pass: one more read of x is cheaper than holding an index per output.
function gatherAt(x: Tensor, y: Tensor, g: WindowGeometry): Tensor {
  const out = allocate(y.dtype, g.n * g.c * g.oh * g.ow);
  kernels().conv.maxPoolGather(x.data, y.data, g, out);
  return Tensor._concrete(out, [g.n, g.c, g.oh, g.ow], y.dtype);
}

const maxPoolPrim: Primitive<WindowGeometry> = {
  name: "maxPool2d",
  batch: mergedRule(0, 0, mergeImages),
  impl: ([x], g) => gatherAt(x!, x!, g),
  jvp: ([x], [t], _out, g) => (t ? bind(maxPoolGatherPrim, [x!, t], g) : null),
  vjp: (ct, [x], _out, g) => [bind(maxPoolScatterPrim, [x!, ct], g)],
  residuals: [[0]],
};

const maxPoolScatterPrim: Primitive<WindowGeometry> = {
  name: "maxPool2dScatter",
  batch: mergedRule(0, 0, mergeImages),
  impl([x, ct], g) {
    const out = allocate(ct!.dtype, x!.size);
    kernels().conv.maxPoolScatter(x!.data, ct!.data, g, out);
    return Tensor._concrete(out, x!.shape, ct!.dtype);
  },
  jvp: ([x], [, t], _out, g) => (t ? bind(maxPoolScatterPrim, [x!, t], g) : null),
  vjp: (ct, [x], _out, g, needs) => [null, needs[1] ? bind(maxPoolGatherPrim, [x!, ct], g) : null],
  residuals: [[], [0]],
};

const maxPoolGatherPrim: Primitive<WindowGeometry> = {
  name: "maxPool2dGather",
  batch: mergedRule(0, 0, mergeImages),
  impl: ([x, y], g) => gatherAt(x!, y!, g),
  jvp: ([x], [, t], _out, g) => (t ? bind(maxPoolGatherPrim, [x!, t], g) : null),
  vjp: (ct, [x], _out, g, needs) => [null, needs[1] ? bind(maxPoolScatterPrim, [x!, ct], g) : null],
  residuals: [[], [0]],
};

/**
 * 2-D max pooling over an NCHW batch (PyTorch's `max_pool2d`). The gradient goes to the first maximum
 * of each window (as PyTorch); padded positions never win. A primitive with direct kernels.
 * @param x float, shape [N, C, H, W]
 * @param kernel window size, one number or [kh, kw]
 * @returns shape [N, C, OH, OW]
 * @throws ShapeError for a non-4-D input or a window larger than the padded input; ValueError for padding above half the kernel
 */
export function maxPool2d(x: TensorLike, kernel: Size2, options: PoolOptions = {}): Tensor {
  const t = operand("maxPool2d", x);
  requireFloat("maxPool2d", t, "input");
  const g = geometry("maxPool2d", t, kernel, options.stride ?? kernel, options.padding ?? 0);
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw) {
    throw new ValueError(`maxPool2d: padding [${g.ph},${g.pw}] must be at most half the kernel [${g.kh},${g.kw}] (as in PyTorch), so every window holds an input`);
  }
  return bind(maxPoolPrim, [t], g);
}

/**
 * 2-D average pooling over an NCHW batch (PyTorch's `avg_pool2d` with count_include_pad = true).
 * @param x float, shape [N, C, H, W]
 * @param kernel window size, one number or [kh, kw]
 * @returns shape [N, C, OH, OW]
 * @throws ShapeError for a non-4-D input or a window larger than the padded input
 */
export function avgPool2d(x: TensorLike, kernel: Size2, options: PoolOptions = {}): Tensor {
  const t = operand("avgPool2d", x);
  requireFloat("avgPool2d", t, "input");
  const { win, axis, finish } = windows("avgPool2d", t, kernel, options);
  return finish(mean(win, axis));
}
