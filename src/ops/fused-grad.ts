import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { elementwise } from "../core/define.js";
import { allocate, promote } from "../core/dtype.js";
import { sameShape, fmtShape } from "../core/shape.js";
import { ShapeError } from "../core/errors.js";
import type { KernelTable } from "../kernels/backend.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { castConcrete } from "./creation.js";
import { lessEqual, mul, neg, reciprocal, sigmoid, square, sub } from "./elementwise.js";
import { cosh } from "./math.js";
import { cast, where } from "./select.js";
import { leadingRule } from "../core/batching.js";
import { selectedAway } from "../autodiff/strong-zeros.js";

// Fused VJPs: each is itself an elementwise primitive with local partials, so gradients of gradients
// (Hessians, grad-of-grad) still work — only the first-order backward pass gets faster.

function saturatingImpl(name: keyof KernelTable["saturatingGrad"]) {
  return ([a, b, ct]: Tensor[]): Tensor => {
    let x = a!, y = b!, c = ct!;
    if (!sameShape(x.shape, y.shape) || !sameShape(x.shape, c.shape)) {
      throw new ShapeError(`${name}: operands must have the same shape; got ${fmtShape(x.shape)}, ${fmtShape(y.shape)} and ${fmtShape(c.shape)}`);
    }
    const dtype = promote(promote(x.dtype, y.dtype), c.dtype);
    if (x.dtype !== dtype) x = castConcrete(x, dtype);
    if (y.dtype !== dtype) y = castConcrete(y, dtype);
    if (c.dtype !== dtype) c = castConcrete(c, dtype);
    const out = allocate(dtype, x.size);
    kernels().saturatingGrad[name](x.data, y.data, c.data, out);
    return Tensor._concrete(out, x.shape, dtype);
  };
}

function fusedImpl(name: keyof KernelTable["fusedGrad"]) {
  return ([a, ct]: Tensor[]): Tensor => {
    let x = a!;
    let c = ct!;
    if (!sameShape(x.shape, c.shape)) throw new ShapeError(`${name}: operands must have the same shape; got ${fmtShape(x.shape)} and ${fmtShape(c.shape)}`);
    const dtype = promote(x.dtype, c.dtype);
    if (x.dtype !== dtype) x = castConcrete(x, dtype);
    if (c.dtype !== dtype) c = castConcrete(c, dtype);
    const out = allocate(dtype, x.size);
    kernels().fusedGrad[name](x.data, c.data, out);
    return Tensor._concrete(out, x.shape, dtype);
  };
}

// tanhGrad and sigmoidGrad take (x, y, ct) with y = f(x) and compute ct·f'(x), reading y where it is accurate
// and x where it is not (src/kernels/fused.ts). As functions they are ct·f'(x): y is only a cache of f(x), so its
// partial is zero and all of the dependence on x goes through the x operand. That keeps higher derivatives right
// whichever formula the kernel used.
// The kernels need operands of one shape: unbatched operands get the batch axis too.
const SAME_SHAPES = { batch: leadingRule<null>() };

/** @internal The fused backward primitives (for jit's fused loops). */
export const fusedGradPrims = {
  // tanhGrad = ct·sech²(x): ∂/∂x = ct·(−2·tanh x·sech² x) = −2·y·out, ∂/∂y = 0, ∂/∂ct = sech² x.
  tanhGrad: elementwise("tanhGrad", saturatingImpl("tanhGrad"), [
    (x, out) => mul(-2, mul(x[1]!, out)),
    () => null,
    (x) => tanhSlope(x[0]!),
  ], undefined, SAME_SHAPES),
  // sigmoidGrad = ct·σ'(x): ∂/∂x = ct·σ'(x)·(1 − 2σ(x)) = out·(1 − 2y), ∂/∂y = 0, ∂/∂ct = σ'(x) = y·σ(−x).
  sigmoidGrad: elementwise("sigmoidGrad", saturatingImpl("sigmoidGrad"), [
    (x, out) => mul(out, sub(1, mul(2, x[1]!))),
    () => null,
    (x) => sigmoidSlope(x[0]!, x[1]!),
  ], undefined, SAME_SHAPES),
  // reluGrad(x, ct) = ct where x ≤ 0 is false, else 0: ∂/∂x = 0 almost everywhere, ∂/∂ct selects as relu does.
  reluGrad: elementwise("reluGrad", fusedImpl("reluGrad"), [
    () => null,
    (x) => sub(1, cast(lessEqual(x[0]!, 0), x[1]!.dtype)),
  ], undefined, { select: [undefined, (v, x) => selectedAway(lessEqual(x[0]!, 0), v, v)], batch: SAME_SHAPES.batch }),
  // squareGrad(x, ct) = 2·x·ct: ∂/∂x = 2·ct, ∂/∂ct = 2·x.
  squareGrad: elementwise("squareGrad", fusedImpl("squareGrad"), [
    (x) => mul(2, x[1]!),
    (x) => mul(2, x[0]!),
  ], undefined, SAME_SHAPES),
} satisfies Record<string, Primitive<null>>;

/**
 * @internal tanh'(x) = sech² x = 1/cosh² x as differentiable ops, accurate for every x (1 − tanh² x is 0 once
 * tanh x rounds to ±1, at |x| ≈ 9 in float32 and 19 in float64, where sech² x is still positive). For |x| past
 * cosh's overflow (≈ 89 in float32, 710 in float64) 1/cosh x is 0, as is sech² x in that precision.
 */
export function tanhSlope(x: Tensor): Tensor { return square(reciprocal(cosh(x))); }
/** @internal σ'(x) = σ(x)·σ(−x) from x and y = σ(x), accurate for every x (y·(1 − y) is 0 once y rounds to 1). */
export function sigmoidSlope(x: Tensor, y: Tensor): Tensor { return mul(y, sigmoid(neg(x))); }

/** @internal ct·tanh'(x) in one pass, from x, y = tanh(x) and ct (same shapes). */
export function tanhGrad(x: Tensor, y: Tensor, ct: Tensor): Tensor { return bind(fusedGradPrims.tanhGrad, [x, y, ct], null); }
/** @internal ct·σ'(x) in one pass, from x, y = σ(x) and ct (same shapes). */
export function sigmoidGrad(x: Tensor, y: Tensor, ct: Tensor): Tensor { return bind(fusedGradPrims.sigmoidGrad, [x, y, ct], null); }
/** @internal 0 where x ≤ 0, else ct (so ct where x is NaN), in one pass. */
export function reluGrad(x: Tensor, ct: Tensor): Tensor { return bind(fusedGradPrims.reluGrad, [x, ct], null); }
/** @internal 2·x·ct in one pass. */
export function squareGrad(x: Tensor, ct: Tensor): Tensor { return bind(fusedGradPrims.squareGrad, [x, ct], null); }

