import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { reshape, tanh } from "../ops/index.js";
import { Module } from "./module.js";
import { Embedding } from "./embedding.js";
import { Linear } from "./layers.js";

/** Sizes of a `CharMLP`. */
export interface CharMLPOptions {
  /** Vocabulary size V (27 for the names: end marker plus 26 letters). */
  vocab: number;
  /** Tokens of context the model sees (the window length). */
  context: number;
  /** Length of each token's learned vector. */
  embedding: number;
  /** Width of the tanh hidden layer. */
  hidden: number;
  /** Generator for the initial weights. Default `new Rng(0)`. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * The neural probabilistic language model of Bengio, Ducharme, Vincent & Jauvin (2003), without the direct
 * input-to-output connections: each of the `context` previous tokens is looked up in a shared embedding
 * table, the vectors are concatenated, passed through one tanh layer and a linear layer to logits over the
 * next token. Children `embedding` (Embedding V×E), `hidden` (Linear context·E → H), `output` (Linear H → V),
 * so parameters read `embedding.weight`, `hidden.weight`, `hidden.bias`, `output.weight`, `output.bias`, as a
 * PyTorch module with those attributes. The linear layers use Glorot initialisation (suited to tanh).
 */
export class CharMLP extends Module {
  readonly vocab: number;
  readonly context: number;
  readonly embeddingDim: number;
  readonly hiddenDim: number;
  readonly embedding: Embedding;
  readonly hidden: Linear;
  readonly output: Linear;
  /** @throws ValueError for non-positive sizes */
  constructor(options: CharMLPOptions) {
    super();
    const { vocab, context, embedding, hidden, dtype } = options;
    for (const [what, v] of [["vocab", vocab], ["context", context], ["embedding", embedding], ["hidden", hidden]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`CharMLP: ${what} must be a positive integer, got ${v}`);
    }
    const rng = options.rng ?? new Rng(0);
    this.vocab = vocab;
    this.context = context;
    this.embeddingDim = embedding;
    this.hiddenDim = hidden;
    this.embedding = this.registerModule("embedding", new Embedding(vocab, embedding, { rng, dtype }));
    this.hidden = this.registerModule("hidden", new Linear(context * embedding, hidden, { rng, dtype, init: "glorot" }));
    this.output = this.registerModule("output", new Linear(hidden, vocab, { rng, dtype, init: "glorot" }));
  }

  /**
   * Logits of the next token.
   * @param x int32 contexts [N, context] @returns [N, vocab]
   * @throws ShapeError for another input shape
   */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.context) {
      throw new ShapeError(`CharMLP: input has shape ${fmtShape(x.shape)}, expected [N, ${this.context}] (token ids of the ${this.context} previous characters)`);
    }
    const e = reshape(this.embedding.forward(x), [x.shape[0]!, this.context * this.embeddingDim]);
    return this.output.forward(tanh(this.hidden.forward(e)));
  }

  override describe(): string {
    return `CharMLP(context ${this.context}, embedding ${this.embeddingDim}, hidden ${this.hiddenDim}, vocab ${this.vocab})`;
  }
}
