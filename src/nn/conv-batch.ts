import type { Tensor } from "../core/tensor.js";
import type { WindowGeometry } from "../kernels/conv.js";
import { mergedRule, moveAxis, withBatch, type BatchRule } from "../core/batching.js";
import { add, matmul, reshape, transpose } from "../ops/index.js";

// Batching rules of the convolution primitives. A batched input with a shared weight is just more
// images: the batch merges into N. A batched weight (per-example weights, as in per-example gradients)
// cannot merge, so the convolution is written as what its kernels compute — im2col, then one product
// per example — with the batch as the leading dimension of a batched matmul.

/** Geometry plus output channels, as the conv primitives take. */
interface ConvParams extends WindowGeometry {
  readonly o: number;
}

/** im2col and col2im of the conv module, with zero padding (passed in: they are its primitives). */
export interface Windows {
  cols(x: Tensor, g: WindowGeometry): Tensor;
  uncols(cols: Tensor, g: WindowGeometry): Tensor;
}

/** Geometry for `size` times as many images. */
export const mergeImages = <G extends WindowGeometry>(g: G, size: number): G => ({ ...g, n: g.n * size });

/** The im2col matrix of each example, [b, C·kh·kw, N·OH·OW] with b = size (batched x) or 1. */
function patches(x: Tensor, batched: boolean, g: ConvParams, size: number, win: Windows): Tensor {
  const b = batched ? size : 1;
  const images = batched ? reshape(x, [size * g.n, g.c, g.h, g.w]) : x;
  const cols = win.cols(images, { ...g, n: b * g.n });
  return moveAxis(reshape(cols, [g.c * g.kh * g.kw, b, g.n * g.oh * g.ow]), 1, 0);
}

/** An output-shaped tensor [b?, N, O, OH, OW] as matrix rows [b, O, N·OH·OW]. */
function rows(y: Tensor, batched: boolean, g: ConvParams, size: number): Tensor {
  const b = batched ? size : 1;
  const y5 = batched ? y : reshape(y, [1, ...y.shape]);
  return reshape(moveAxis(y5, 2, 1), [b, g.o, g.n * g.oh * g.ow]);
}

/** conv2d(x, w[, bias]). */
export function conv2dBatch(win: Windows): BatchRule<ConvParams> {
  const merged = mergedRule<ConvParams>(0, 0, mergeImages, [0]);
  return (x, batched, g, size, self) => {
    if (!batched[1] && !batched[2]) return merged(x, batched, g, size, self);
    const [images, w, bias] = x as [Tensor, Tensor, Tensor | undefined];
    const wm = reshape(withBatch(w, batched[1]!, size), [size, g.o, g.c * g.kh * g.kw]);
    const y = moveAxis(reshape(matmul(wm, patches(images, batched[0]!, g, size, win)), [size, g.o, g.n, g.oh, g.ow]), 2, 1);
    return bias === undefined ? y : add(y, reshape(withBatch(bias, batched[2]!, size), [size, 1, g.o, 1, 1]));
  };
}

/** conv2dInputGrad(ct, w): Wᵀ·ct per example, then col2im. */
export function inputGradBatch(win: Windows): BatchRule<ConvParams> {
  const merged = mergedRule<ConvParams>(0, 0, mergeImages, [0]);
  return (x, batched, g, size, self) => {
    if (!batched[1]) return merged(x, batched, g, size, self);
    const [ct, w] = x as [Tensor, Tensor];
    const wt = transpose(reshape(w, [size, g.o, g.c * g.kh * g.kw]), [0, 2, 1]);
    const cols = matmul(wt, rows(ct, batched[0]!, g, size)); // [B, C·kh·kw, N·OH·OW]
    const laid = reshape(moveAxis(cols, 0, 1), [g.c, g.kh, g.kw, size * g.n, g.oh, g.ow]);
    return reshape(win.uncols(laid, mergeImages(g, size)), [size, g.n, g.c, g.h, g.w]);
  };
}

/** conv2dWeightGrad(x, ct): ct·colsᵀ per example (it sums over N, so the batch cannot merge into N). */
export function weightGradBatch(win: Windows): BatchRule<ConvParams> {
  return (x, batched, g, size) => {
    const [images, ct] = x as [Tensor, Tensor];
    const p = patches(images, batched[0]!, g, size, win);
    const dw = matmul(rows(ct, batched[1]!, g, size), transpose(p, [0, 2, 1]));
    return reshape(dw, [size, g.o, g.c, g.kh, g.kw]);
  };
}
