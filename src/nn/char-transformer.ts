import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { Module } from "./module.js";
import { Embedding } from "./embedding.js";
import { Linear, Sequential } from "./layers.js";
import { LayerNorm } from "./normalization.js";
import { PositionalEmbedding, TransformerBlock } from "./transformer.js";

/** Sizes of a `CharTransformer`. */
export interface CharTransformerOptions {
  /** Vocabulary size V. */
  vocab: number;
  /** Longest sequence T (positions with a learned vector). */
  context: number;
  /** Model width E. */
  embedding: number;
  /** Attention heads per block; must divide E. */
  heads: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Width of each block's feed-forward layer. */
  feedforward: number;
  /** Generator for the initial weights. Default `new Rng(0)`. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * A decoder-only character transformer in the manner of GPT (Radford et al. 2018) and Karpathy's makemore:
 * token embedding plus learned position embedding, `layers` causal pre-norm `TransformerBlock`s (GELU),
 * a final LayerNorm and a linear layer to next-token logits at every position. Children `tokens`
 * (Embedding V×E), `positions` (PositionalEmbedding T×E), `blocks` (Sequential, "blocks.0.self_attn…"),
 * `norm` (LayerNorm E), `output` (Linear E → V, Glorot) — a PyTorch module with those attributes
 * (nn.Embedding, nn.Embedding, nn.Sequential of norm_first TransformerEncoderLayers, nn.LayerNorm,
 * nn.Linear) reads the same state dict.
 */
export class CharTransformer extends Module {
  readonly vocab: number;
  readonly context: number;
  readonly embeddingDim: number;
  readonly heads: number;
  readonly layers: number;
  readonly feedforward: number;
  readonly tokens: Embedding;
  readonly positions: PositionalEmbedding;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly output: Linear;
  /** @throws ValueError for non-positive sizes or heads that do not divide the embedding */
  constructor(options: CharTransformerOptions) {
    super();
    const { vocab, context, embedding, heads, layers, feedforward, dtype } = options;
    for (const [what, v] of [["vocab", vocab], ["context", context], ["embedding", embedding], ["heads", heads], ["layers", layers], ["feedforward", feedforward]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`CharTransformer: ${what} must be a positive integer, got ${v}`);
    }
    if (embedding % heads !== 0) throw new ValueError(`CharTransformer: embedding ${embedding} must be divisible by heads ${heads}`);
    const rng = options.rng ?? new Rng(0);
    this.vocab = vocab;
    this.context = context;
    this.embeddingDim = embedding;
    this.heads = heads;
    this.layers = layers;
    this.feedforward = feedforward;
    this.tokens = this.registerModule("tokens", new Embedding(vocab, embedding, { rng, dtype }));
    this.positions = this.registerModule("positions", new PositionalEmbedding(context, embedding, { rng, dtype }));
    const blocks = Array.from({ length: layers }, () => new TransformerBlock(embedding, heads, { dimFeedforward: feedforward, causal: true, rng, dtype }));
    this.blocks = this.registerModule("blocks", new Sequential(...blocks));
    this.norm = this.registerModule("norm", new LayerNorm(embedding, { dtype }));
    this.output = this.registerModule("output", new Linear(embedding, vocab, { rng, dtype, init: "glorot" }));
  }

  /**
   * Next-token logits at every position; position t sees tokens 0..t only.
   * @param x int32 token ids [N, L] with L ≤ context
   * @returns [N, L, vocab]
   * @throws ShapeError for another shape or L > context
   */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1]! > this.context || x.shape[1] === 0) {
      throw new ShapeError(`CharTransformer: input has shape ${fmtShape(x.shape)}, expected [N, L] token ids with 1 ≤ L ≤ ${this.context}`);
    }
    const h = this.blocks.forward(this.positions.forward(this.tokens.forward(x)));
    return this.output.forward(this.norm.forward(h));
  }

  override describe(): string {
    return `CharTransformer(context ${this.context}, embedding ${this.embeddingDim}, heads ${this.heads}, blocks ${this.layers}, feed-forward ${this.feedforward}, vocab ${this.vocab})`;
  }
}
