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
import { greater, mul, square, sub } from "./elementwise.js";
import { cast } from "./select.js";

// Fused VJPs: each is itself an elementwise primitive with local partials, so gradients of gradients
// (Hessians, grad-of-grad) still work — only the first-order backward pass gets faster.

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

const prims = {
  // tanhGrad(y, ct) = ct·(1 − y²): ∂/∂y = −2·y·ct, ∂/∂ct = 1 − y².
  tanhGrad: elementwise("tanhGrad", fusedImpl("tanhGrad"), [
    (x) => mul(-2, mul(x[0]!, x[1]!)),
    (x) => sub(1, square(x[0]!)),
  ]),
  // sigmoidGrad(y, ct) = ct·y·(1 − y): ∂/∂y = ct·(1 − 2y), ∂/∂ct = y·(1 − y).
  sigmoidGrad: elementwise("sigmoidGrad", fusedImpl("sigmoidGrad"), [
    (x) => mul(x[1]!, sub(1, mul(2, x[0]!))),
    (x) => mul(x[0]!, sub(1, x[0]!)),
  ]),
  // reluGrad(x, ct) = ct·[x > 0]: ∂/∂x = 0 almost everywhere, ∂/∂ct = [x > 0].
  reluGrad: elementwise("reluGrad", fusedImpl("reluGrad"), [
    () => null,
    (x) => cast(greater(x[0]!, 0), x[1]!.dtype),
  ]),
  // squareGrad(x, ct) = 2·x·ct: ∂/∂x = 2·ct, ∂/∂ct = 2·x.
  squareGrad: elementwise("squareGrad", fusedImpl("squareGrad"), [
    (x) => mul(2, x[1]!),
    (x) => mul(2, x[0]!),
  ]),
} satisfies Record<string, Primitive<null>>;

/** @internal ct·(1 − y²) for y = tanh(x), in one pass. Shapes of y and ct must match. */
export function tanhGrad(y: Tensor, ct: Tensor): Tensor { return bind(prims.tanhGrad, [y, ct], null); }
/** @internal ct·y·(1 − y) for y = σ(x), in one pass. */
export function sigmoidGrad(y: Tensor, ct: Tensor): Tensor { return bind(prims.sigmoidGrad, [y, ct], null); }
/** @internal ct where x > 0, else 0, in one pass. */
export function reluGrad(x: Tensor, ct: Tensor): Tensor { return bind(prims.reluGrad, [x, ct], null); }
/** @internal 2·x·ct in one pass. */
export function squareGrad(x: Tensor, ct: Tensor): Tensor { return bind(prims.squareGrad, [x, ct], null); }

