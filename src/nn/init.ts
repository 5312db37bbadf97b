import { Tensor } from "../core/tensor.js";
import { allocate, type DType } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import { ValueError } from "../core/errors.js";
import type { Rng } from "../core/random.js";

/** Options shared by the initialisers. */
export interface InitOptions {
  /** The seeded generator to draw from (`new Rng(seed)`): the same seed gives the same weights everywhere. */
  rng: Rng;
  /** Scale factor: √2 suits ReLU (He et al. 2015), 1 suits linear/tanh/sigmoid layers (Glorot & Bengio 2010). */
  gain?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

function fill(shape: readonly number[], dtype: DType | undefined, draw: () => number): Tensor {
  const dt = dtype ?? "float32";
  const data = allocate(dt, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw();
  return Tensor._concrete(data, [...shape], dt);
}

function checkFan(op: string, fan: number): void {
  if (!(Number.isInteger(fan) && fan > 0)) throw new ValueError(`${op}: fan must be a positive integer, got ${fan}`);
}

/**
 * He/Kaiming uniform initialisation (He et al. 2015): U(−b, b) with b = gain·√(3 / fanIn), so the
 * variance is gain²/fanIn. Default gain √2 (for ReLU networks).
 * @param fanIn inputs feeding each output unit (in_features, or in_channels·kh·kw)
 * @throws ValueError for a non-positive fanIn
 */
export function kaimingUniform(shape: readonly number[], fanIn: number, options: InitOptions): Tensor {
  checkFan("kaimingUniform", fanIn);
  const b = (options.gain ?? Math.SQRT2) * Math.sqrt(3 / fanIn);
  return fill(shape, options.dtype, () => (2 * options.rng.next() - 1) * b);
}

/**
 * He/Kaiming normal initialisation (He et al. 2015): N(0, σ²) with σ = gain / √fanIn. Default gain √2.
 * @throws ValueError for a non-positive fanIn
 */
export function kaimingNormal(shape: readonly number[], fanIn: number, options: InitOptions): Tensor {
  checkFan("kaimingNormal", fanIn);
  const s = (options.gain ?? Math.SQRT2) / Math.sqrt(fanIn);
  return fill(shape, options.dtype, () => options.rng.normal() * s);
}

/**
 * Glorot/Xavier uniform initialisation (Glorot & Bengio 2010): U(−b, b) with b = gain·√(6 / (fanIn + fanOut)).
 * Default gain 1.
 * @throws ValueError for a non-positive fan
 */
export function glorotUniform(shape: readonly number[], fanIn: number, fanOut: number, options: InitOptions): Tensor {
  checkFan("glorotUniform", fanIn);
  checkFan("glorotUniform", fanOut);
  const b = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return fill(shape, options.dtype, () => (2 * options.rng.next() - 1) * b);
}

/**
 * Glorot/Xavier normal initialisation: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)). Default gain 1.
 * @throws ValueError for a non-positive fan
 */
export function glorotNormal(shape: readonly number[], fanIn: number, fanOut: number, options: InitOptions): Tensor {
  checkFan("glorotNormal", fanIn);
  checkFan("glorotNormal", fanOut);
  const s = (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return fill(shape, options.dtype, () => options.rng.normal() * s);
}

/**
 * Uniform initialisation U(low, high), as PyTorch's `nn.init.uniform_` (recurrent layers use
 * U(−1/√H, 1/√H)). `gain` is not used.
 * @throws ValueError unless low < high, both finite
 */
export function uniformInit(shape: readonly number[], low: number, high: number, options: InitOptions): Tensor {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) throw new ValueError(`uniformInit: need finite low < high, got ${low} and ${high}`);
  return fill(shape, options.dtype, () => low + (high - low) * options.rng.next());
}
