import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { div, gelu, relu, reshape, sigmoid, sub, tanh, transpose, zeros } from "../ops/index.js";
import { linear } from "./linear.js";
import { Module } from "./module.js";
import { glorotUniform, kaimingUniform } from "./init.js";
import { avgPool2d, conv2d, maxPool2d, type PoolOptions, type Size2 } from "./conv.js";
import { dropout } from "./activations.js";

let defaultSeed = 0x1a7e;

/** Options for layers with weights. */
export interface LayerInitOptions {
  /** Generator for the initial weights; share one `new Rng(seed)` across a model for reproducible runs. */
  rng?: Rng;
  /** "kaiming" (default; He uniform with gain √2, for ReLU networks) or "glorot" (Xavier uniform, gain 1). */
  init?: "kaiming" | "glorot";
  /** Add a bias (initialised to 0). Default true. */
  bias?: boolean;
  /** float32 (default) or float64. */
  dtype?: DType;
}

function initWeight(shape: number[], fanIn: number, fanOut: number, o: LayerInitOptions): Tensor {
  const rng = o.rng ?? new Rng(defaultSeed++);
  const dtype = o.dtype ?? "float32";
  const kind = o.init ?? "kaiming";
  if (kind === "kaiming") return kaimingUniform(shape, fanIn, { rng, dtype });
  if (kind === "glorot") return glorotUniform(shape, fanIn, fanOut, { rng, dtype });
  throw new ValueError(`init must be "kaiming" or "glorot", got ${JSON.stringify(kind)}`);
}

function positive(op: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${what} must be a positive integer, got ${v}`);
}

/**
 * Fully connected layer y = x·Wᵀ + b (see `linear`). The weight is stored [out, in], as PyTorch's
 * `nn.Linear`, so a state dict moves between the two libraries unchanged (files saved by chainrule before
 * this layout, [in, out], are still read by `io.loadModule`: see there).
 * Parameters: `weight` [out, in], `bias` [out] (unless `bias: false`).
 */
export class Linear extends Module {
  readonly hasBias: boolean;
  /**
   * @param inFeatures size of the last input dimension
   * @param outFeatures size of the last output dimension
   * @throws ValueError for non-positive sizes
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LayerInitOptions = {}) {
    super();
    positive("Linear", "inFeatures", inFeatures);
    positive("Linear", "outFeatures", outFeatures);
    this.hasBias = options.bias ?? true;
    // Drawn in [in, out] order and transposed, so a seed gives the same network as in earlier releases
    // (the README's MNIST results were measured with these draws).
    this.registerParameter("weight", transpose(initWeight([inFeatures, outFeatures], inFeatures, outFeatures, options)));
    if (this.hasBias) this.registerParameter("bias", zeros([outFeatures], options.dtype ?? "float32"));
  }

  /** x·Wᵀ + b. @param x shape [..., in] @returns shape [..., out] @throws ShapeError when the last dimension is not `inFeatures` */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear: input has shape ${fmtShape(x.shape)}, expected last dimension ${this.inFeatures}`);
    }
    return linear(x, this.param("weight"), this.hasBias ? this.param("bias") : null);
  }

  override describe(): string {
    return `Linear(${this.inFeatures} → ${this.outFeatures})`;
  }
}

/** Options for `Conv2d`. */
export interface Conv2dLayerOptions extends LayerInitOptions {
  stride?: Size2;
  padding?: Size2;
}

/**
 * 2-D convolution layer over NCHW batches (see `conv2d`). Parameters: `weight` [out, in, kh, kw] and
 * `bias` [out]; Kaiming init with fanIn = in·kh·kw.
 */
export class Conv2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: Size2;
  readonly padding: Size2;
  readonly hasBias: boolean;
  /**
   * @param inChannels C of the input
   * @param outChannels O, the number of filters
   * @param kernelSize one number or [kh, kw]
   * @throws ValueError for non-positive sizes
   */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Size2, options: Conv2dLayerOptions = {}) {
    super();
    positive("Conv2d", "inChannels", inChannels);
    positive("Conv2d", "outChannels", outChannels);
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    positive("Conv2d", "kernel size", kh);
    positive("Conv2d", "kernel size", kw);
    this.kernelSize = [kh, kw];
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.hasBias = options.bias ?? true;
    const fanIn = inChannels * kh * kw;
    this.registerParameter("weight", initWeight([outChannels, inChannels, kh, kw], fanIn, outChannels * kh * kw, options));
    if (this.hasBias) this.registerParameter("bias", zeros([outChannels], options.dtype ?? "float32"));
  }

  /** The convolution plus bias. @param x shape [N, in, H, W] @returns shape [N, out, OH, OW] */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.param("weight"), this.hasBias ? this.param("bias") : null, { stride: this.stride, padding: this.padding });
  }

  override describe(): string {
    return `Conv2d(${this.inChannels} → ${this.outChannels}, ${this.kernelSize.join("×")}, stride ${JSON.stringify(this.stride)}, padding ${JSON.stringify(this.padding)})`;
  }
}

/** Max pooling layer (see `maxPool2d`); no parameters. */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Size2, readonly options: PoolOptions = {}) {
    super();
  }
  /** Max over each window. @param x shape [N, C, H, W] */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
  override describe(): string {
    return `MaxPool2d(${JSON.stringify(this.kernelSize)})`;
  }
}

/** Average pooling layer (see `avgPool2d`); no parameters. */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Size2, readonly options: PoolOptions = {}) {
    super();
  }
  /** Mean over each window. @param x shape [N, C, H, W] */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override describe(): string {
    return `AvgPool2d(${JSON.stringify(this.kernelSize)})`;
  }
}

/** Flattens every dimension after the first: [N, ...] → [N, product]. */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    if (x.rank < 1) throw new ShapeError(`Flatten: input must have a batch dimension, got shape ${fmtShape(x.shape)}`);
    return reshape(x, [x.shape[0]!, -1]);
  }
}

/** Reshapes each sample, keeping the batch dimension: [N, ...] → [N, ...shape] (e.g. [N, 784] → [N, 1, 28, 28]). */
export class Reshape extends Module {
  constructor(readonly shape: readonly number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0]!, ...this.shape]);
  }
  override describe(): string {
    return `Reshape(${fmtShape(this.shape)})`;
  }
}

/**
 * Standardizes inputs with fixed statistics, y = (x − mean) / std (torchvision's `Normalize` for one
 * channel); no parameters. Putting it in the model keeps a saved model usable on raw inputs.
 * @throws ValueError unless mean is finite and std is finite and positive
 */
export class Normalize extends Module {
  constructor(readonly mean: number, readonly std: number) {
    super();
    if (!Number.isFinite(mean) || !(Number.isFinite(std) && std > 0)) throw new ValueError(`Normalize: need a finite mean and a positive std, got ${mean} and ${std}`);
  }
  forward(x: Tensor): Tensor {
    return div(sub(x, this.mean), this.std);
  }
  override describe(): string {
    return `Normalize(mean ${this.mean}, std ${this.std})`;
  }
}

/** max(x, 0) elementwise. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** tanh elementwise. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Logistic sigmoid elementwise. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** GELU elementwise: exact (erf) by default, or the tanh approximation, as PyTorch. */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** Inverted dropout with drop probability `p`, active only in training mode; seeded for reproducible runs. */
export class Dropout extends Module {
  private readonly _rng: Rng;
  constructor(readonly p: number, options: { rng?: Rng } = {}) {
    super();
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1), got ${p}`);
    this._rng = options.rng ?? new Rng(defaultSeed++);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { rng: this._rng, training: this.training });
  }
  override describe(): string {
    return `Dropout(${this.p})`;
  }
}

/** Applies its layers in order; they are named "0", "1", … so parameters read "0.weight", "2.bias", …. */
export class Sequential extends Module {
  readonly layers: readonly Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
}

/** Options for `MLP`. */
export interface MLPOptions extends Omit<LayerInitOptions, "bias"> {
  /** Activation between layers (none after the last). Default "relu". */
  activation?: "relu" | "tanh" | "sigmoid" | "gelu";
}

/**
 * Multi-layer perceptron: Linear layers of the given widths with an activation between them (none after
 * the last, so the output is logits). `new MLP([784, 256, 10])` has parameters 0.weight [256,784], 0.bias,
 * 2.weight [10,256], 2.bias.
 */
export class MLP extends Sequential {
  /** @throws ValueError for fewer than two sizes or non-positive sizes */
  constructor(sizes: readonly number[], options: MLPOptions = {}) {
    if (sizes.length < 2) throw new ValueError(`MLP: needs at least two sizes (input and output), got ${JSON.stringify(sizes)}`);
    const rng = options.rng ?? new Rng(defaultSeed++);
    const act = options.activation ?? "relu";
    const make = (): Module => {
      switch (act) {
        case "relu": return new ReLU();
        case "tanh": return new Tanh();
        case "sigmoid": return new Sigmoid();
        case "gelu": return new GELU();
        default: throw new ValueError(`MLP: unknown activation ${JSON.stringify(act)}`);
      }
    };
    const layers: Module[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      if (i > 0) layers.push(make());
      layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { ...options, rng }));
    }
    super(...layers);
  }
}
