import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { Module } from "./module.js";
import { Embedding } from "./embedding.js";
import { Linear } from "./layers.js";
import { GRU } from "./recurrent.js";

/** Sizes of a `CharGRU`. */
export interface CharGRUOptions {
  /** Vocabulary size V. */
  vocab: number;
  /** Length of each token's learned vector. */
  embedding: number;
  /** GRU state size H. */
  hidden: number;
  /** Stacked GRU layers. Default 1. */
  layers?: number;
  /** Generator for the initial weights. Default `new Rng(0)`. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * A recurrent character model (as makemore's RNN/GRU; Cho et al. 2014): token embedding, a batch-first
 * `GRU` from a zero state, and a linear layer to next-token logits at every position. Children
 * `embedding` (Embedding V×E), `rnn` (GRU E → H, parameters `rnn.weight_ih_l0` …), `output` (Linear H → V,
 * Glorot), the names a PyTorch module with those attributes (nn.Embedding, nn.GRU(batch_first=True),
 * nn.Linear) has.
 */
export class CharGRU extends Module {
  readonly vocab: number;
  readonly embeddingDim: number;
  readonly hiddenDim: number;
  readonly layers: number;
  readonly embedding: Embedding;
  readonly rnn: GRU;
  readonly output: Linear;
  /** @throws ValueError for non-positive sizes */
  constructor(options: CharGRUOptions) {
    super();
    const { vocab, embedding, hidden, layers = 1, dtype } = options;
    for (const [what, v] of [["vocab", vocab], ["embedding", embedding], ["hidden", hidden], ["layers", layers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`CharGRU: ${what} must be a positive integer, got ${v}`);
    }
    const rng = options.rng ?? new Rng(0);
    this.vocab = vocab;
    this.embeddingDim = embedding;
    this.hiddenDim = hidden;
    this.layers = layers;
    this.embedding = this.registerModule("embedding", new Embedding(vocab, embedding, { rng, dtype }));
    this.rnn = this.registerModule("rnn", new GRU(embedding, hidden, { numLayers: layers, batchFirst: true, rng, dtype }));
    this.output = this.registerModule("output", new Linear(hidden, vocab, { rng, dtype, init: "glorot" }));
  }

  /**
   * Next-token logits at every position; position t has read tokens 0..t.
   * @param x int32 token ids [N, L]
   * @returns [N, L, vocab]
   * @throws ShapeError for another shape
   */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] === 0) throw new ShapeError(`CharGRU: input has shape ${fmtShape(x.shape)}, expected [N, L] token ids with L ≥ 1`);
    return this.output.forward(this.rnn.forward(this.embedding.forward(x)));
  }

  override describe(): string {
    return `CharGRU(embedding ${this.embeddingDim}, hidden ${this.hiddenDim}, layers ${this.layers}, vocab ${this.vocab})`;
  }
}
