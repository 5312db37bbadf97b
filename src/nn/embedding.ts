import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { DTypeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { gather } from "../ops/index.js";
import { deviceState } from "../core/device.js";
import { Module } from "./module.js";

let defaultSeed = 0xe3b0;

/** Options for `Embedding`. */
export interface EmbeddingOptions {
  /** Generator for the initial weights; share one `new Rng(seed)` across a model for reproducible runs. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * A lookup table of learned vectors, one row per token (PyTorch's `nn.Embedding` without `padding_idx`,
 * `max_norm` or sparse gradients). Parameter `weight` [numEmbeddings, embeddingDim], initialised N(0, 1)
 * as PyTorch. The lookup is `gather`, whose VJP scatter-adds: a token that occurs several times in a batch
 * receives the sum of its gradients.
 */
export class Embedding extends Module {
  /**
   * @param numEmbeddings the number of rows (vocabulary size)
   * @param embeddingDim the length of each vector
   * @throws ValueError for non-positive sizes
   */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    for (const [what, v] of [["numEmbeddings", numEmbeddings], ["embeddingDim", embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Embedding: ${what} must be a positive integer, got ${v}`);
    }
    const rng = options.rng ?? new Rng(defaultSeed++);
    const dtype = options.dtype ?? "float32";
    const w = new (dtype === "float64" ? Float64Array : Float32Array)(numEmbeddings * embeddingDim);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal();
    this.registerParameter("weight", Tensor._concrete(w, [numEmbeddings, embeddingDim], dtype));
  }

  /**
   * The rows of `weight` at the token ids.
   * @param x int32 token ids of any shape, each in [0, numEmbeddings)
   * @returns shape [...x.shape, embeddingDim]
   * @throws DTypeError for a non-int32 input; ValueError for an id out of range (for ids on the GPU: at the
   *   next read-back of a GPU tensor, since reading them here would wait for the GPU)
   */
  forward(x: Tensor): Tensor {
    if (x.dtype !== "int32") throw new DTypeError(`Embedding: token ids must be int32, got ${x.dtype}; use cast(x, "int32")`);
    const v = x._concreteValue(true);
    if (v._device !== null) {
      // Ids on the GPU are checked there; the next read-back of a GPU tensor throws if one was out of range.
      deviceState.backend!.checkRange("Embedding", v, 0, this.numEmbeddings, `for ${this.numEmbeddings} embeddings`, "", undefined, "token id");
      return gather(this.param("weight"), x, 0);
    }
    const ids = x.data;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= this.numEmbeddings) throw new ValueError(`Embedding: token id ${id} at flat position ${i} is out of range; expected 0..${this.numEmbeddings - 1}`);
    }
    return gather(this.param("weight"), x, 0);
  }

  override describe(): string {
    return `Embedding(${this.numEmbeddings}, ${this.embeddingDim})`;
  }
}
