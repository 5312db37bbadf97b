import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { add, gelu, relu, slice } from "../ops/index.js";
import { Module } from "./module.js";
import { Linear } from "./layers.js";
import { LayerNorm } from "./normalization.js";
import { MultiheadAttention } from "./attention.js";

let defaultSeed = 0x7f0b;

function positive(op: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${what} must be a positive integer, got ${v}`);
}

/** Options for `PositionalEmbedding`. */
export interface PositionalEmbeddingOptions {
  /** Generator for the initial vectors. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Learned absolute position embeddings (as in GPT, Radford et al. 2018): one trained vector per position,
 * added to the token vectors. Parameter `weight` [maxLength, dim], initialised N(0, 1) like an
 * `nn.Embedding` — it is PyTorch's `nn.Embedding(maxLength, dim)` applied to `arange(L)` and added, so
 * the weights interchange with such a module.
 */
export class PositionalEmbedding extends Module {
  /**
   * @param maxLength the longest sequence (positions 0..maxLength−1)
   * @param dim the vector length (the model width)
   * @throws ValueError for non-positive sizes
   */
  constructor(readonly maxLength: number, readonly dim: number, options: PositionalEmbeddingOptions = {}) {
    super();
    positive("PositionalEmbedding", "maxLength", maxLength);
    positive("PositionalEmbedding", "dim", dim);
    const rng = options.rng ?? new Rng(defaultSeed++);
    const dtype = options.dtype ?? "float32";
    const w = new (dtype === "float64" ? Float64Array : Float32Array)(maxLength * dim);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal();
    this.registerParameter("weight", Tensor._concrete(w, [maxLength, dim], dtype));
  }

  /**
   * x plus the vectors of positions 0..L−1.
   * @param x [..., L, dim] with L ≤ maxLength
   * @returns the same shape
   * @throws ShapeError when the last dimension is not dim or L exceeds maxLength
   */
  forward(x: Tensor): Tensor {
    const l = x.shape[x.rank - 2];
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.dim || l === undefined || l > this.maxLength) {
      throw new ShapeError(`PositionalEmbedding: input has shape ${fmtShape(x.shape)}, expected [..., L, ${this.dim}] with L ≤ ${this.maxLength}`);
    }
    return add(x, slice(this.param("weight"), [0, 0], [l, this.dim]));
  }

  override describe(): string {
    return `PositionalEmbedding(${this.maxLength}, ${this.dim})`;
  }
}

/** Options for `TransformerBlock`. */
export interface TransformerBlockOptions {
  /** Width of the feed-forward layer. Default 4·dModel. */
  dimFeedforward?: number;
  /** Activation of the feed-forward layer: "gelu" (default, exact) or "relu". */
  activation?: "gelu" | "relu";
  /** Each position attends only to itself and earlier positions (a decoder / language model). Default false. */
  causal?: boolean;
  /** LayerNorm's eps. Default 1e-5. */
  eps?: number;
  rng?: Rng;
  dtype?: DType;
}

/**
 * A pre-norm transformer block (Vaswani et al. 2017 with the layer norms moved before each sublayer, as in
 * GPT-2 and Xiong et al. 2020): x + attn(norm1(x)), then + ff(norm2(·)) with ff = linear2(act(linear1)).
 * Batch-first, no dropout. It is PyTorch's `nn.TransformerEncoderLayer(dModel, nhead, dimFeedforward,
 * dropout=0, activation, batch_first=True, norm_first=True)` with the same parameter names and order:
 * `self_attn.in_proj_weight` [3E, E], `self_attn.in_proj_bias`, `self_attn.out_proj.{weight,bias}`,
 * `linear1.{weight,bias}` [F, E], `linear2.{weight,bias}` [E, F], `norm1.{weight,bias}`, `norm2.{weight,bias}`;
 * with `causal` it equals that layer called with a causal `src_mask`. Linear layers use Glorot initialisation.
 */
export class TransformerBlock extends Module {
  readonly dimFeedforward: number;
  readonly activation: "gelu" | "relu";
  readonly causal: boolean;
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  /**
   * @param dModel E, the width of the input and output
   * @param numHeads heads of the self-attention; must divide dModel
   * @throws ValueError for non-positive sizes, a numHeads that does not divide dModel, or an unknown activation
   */
  constructor(readonly dModel: number, readonly numHeads: number, options: TransformerBlockOptions = {}) {
    super();
    positive("TransformerBlock", "dModel", dModel);
    positive("TransformerBlock", "numHeads", numHeads);
    if (dModel % numHeads !== 0) throw new ValueError(`TransformerBlock: dModel ${dModel} must be divisible by numHeads ${numHeads}`);
    this.dimFeedforward = options.dimFeedforward ?? 4 * dModel;
    positive("TransformerBlock", "dimFeedforward", this.dimFeedforward);
    this.activation = options.activation ?? "gelu";
    if (this.activation !== "gelu" && this.activation !== "relu") throw new ValueError(`TransformerBlock: activation must be "gelu" or "relu", got ${JSON.stringify(this.activation)}`);
    this.causal = options.causal ?? false;
    const rng = options.rng ?? new Rng(defaultSeed++);
    const { dtype, eps } = options;
    // Registration order = PyTorch's state-dict order for TransformerEncoderLayer.
    this.selfAttn = this.registerModule("self_attn", new MultiheadAttention(dModel, numHeads, { batchFirst: true, causal: this.causal, rng, dtype }));
    this.linear1 = this.registerModule("linear1", new Linear(dModel, this.dimFeedforward, { rng, dtype, init: "glorot" }));
    this.linear2 = this.registerModule("linear2", new Linear(this.dimFeedforward, dModel, { rng, dtype, init: "glorot" }));
    this.norm1 = this.registerModule("norm1", new LayerNorm(dModel, { eps, dtype }));
    this.norm2 = this.registerModule("norm2", new LayerNorm(dModel, { eps, dtype }));
  }

  /**
   * @param x [N, L, dModel]
   * @returns [N, L, dModel]
   * @throws ShapeError for another shape
   */
  forward(x: Tensor): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) throw new ShapeError(`TransformerBlock: input has shape ${fmtShape(x.shape)}, expected [N, L, ${this.dModel}]`);
    const h = this.norm1.forward(x);
    const a = add(x, this.selfAttn.forward(h));
    const act = this.activation === "gelu" ? gelu : relu;
    return add(a, this.linear2.forward(act(this.linear1.forward(this.norm2.forward(a)))));
  }

  override describe(): string {
    return `TransformerBlock(${this.dModel}, heads ${this.numHeads}, feed-forward ${this.dimFeedforward}, ${this.activation}${this.causal ? ", causal" : ""})`;
  }
}
