import { Tensor } from "../core/tensor.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";
import { gather, zeros } from "../ops/index.js";
import { Module } from "./module.js";

// The count-based bigram language model: the baseline every character model must beat. It is fitted by
// counting, not by gradient descent, and stored as a Module so it saves, loads and samples like the others.

/** Options for `fitBigram`. */
export interface BigramOptions {
  /** Added to every count before normalising (Laplace smoothing, so unseen pairs keep a finite cost). Default 1. */
  smoothing?: number;
}

/**
 * Bigram language model over a vocabulary of V tokens: P(next | previous) is a table. Parameter `weight`
 * [V, V] holds log-probabilities (row = previous token, column = next; each row's exponentials sum to 1),
 * so `forward` returns normalised logits and the model plugs into the same loss and sampler as learned
 * models. Fit it with `fitBigram`; initially every row is uniform.
 */
export class Bigram extends Module {
  /** @param vocab V, the number of tokens @throws ValueError for a non-positive V */
  constructor(readonly vocab: number) {
    super();
    if (!Number.isInteger(vocab) || vocab < 1) throw new ValueError(`Bigram: vocab must be a positive integer, got ${vocab}`);
    this.registerParameter("weight", zeros([vocab, vocab], "float64").sub(Math.log(vocab)));
  }

  /**
   * Log-probabilities of the next token given the last token of each context.
   * @param x int32 contexts [..., T] (only the last position is read) @returns float64 [..., V]
   * @throws ShapeError for a scalar input
   */
  forward(x: Tensor): Tensor {
    if (x.rank < 1) throw new ShapeError(`Bigram: input must have a context axis [..., T], got shape ${fmtShape(x.shape)}`);
    const t = x.shape[x.rank - 1]!;
    return gather(this.param("weight"), gather(x, t - 1, x.rank - 1), 0);
  }

  override describe(): string {
    return `Bigram(${this.vocab})`;
  }
}

/**
 * Fits a bigram model by counting the (previous, next) pairs of token sequences: log((count + α) /
 * (row total + α·V)), the maximum-likelihood estimate with add-α smoothing (Jurafsky & Martin, ch. 3).
 * @param sequences token sequences; each is read as starting after token `start` (e.g. the end marker that
 *   also pads a name's beginning), so the first token is predicted from `start`
 * @param vocab V; every token must be in 0..V-1
 * @throws ValueError for a negative or non-finite smoothing, zero smoothing with an unseen previous token, or a token out of range
 */
export function fitBigram(sequences: Iterable<ArrayLike<number>>, vocab: number, start: number, options: BigramOptions = {}): Bigram {
  const alpha = options.smoothing ?? 1;
  if (!(alpha >= 0 && Number.isFinite(alpha))) throw new ValueError(`fitBigram: smoothing must be a finite number ≥ 0, got ${alpha}`);
  const model = new Bigram(vocab);
  const counts = new Float64Array(vocab * vocab);
  const check = (t: number): number => {
    if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new ValueError(`fitBigram: token ${t} is outside 0..${vocab - 1}`);
    return t;
  };
  for (const seq of sequences) {
    let prev = check(start);
    for (let i = 0; i < seq.length; i++) {
      const next = check(seq[i]!);
      counts[prev * vocab + next]!++;
      prev = next;
    }
  }
  const logp = new Float64Array(vocab * vocab);
  for (let r = 0; r < vocab; r++) {
    let total = 0;
    for (let c = 0; c < vocab; c++) total += counts[r * vocab + c]! + alpha;
    for (let c = 0; c < vocab; c++) {
      const v = counts[r * vocab + c]! + alpha;
      // A row never seen without smoothing has no estimate: keep it uniform rather than 0/0 = NaN.
      logp[r * vocab + c] = total === 0 ? -Math.log(vocab) : Math.log(v / total);
    }
  }
  model.loadStateDict({ weight: Tensor._concrete(logp, [vocab, vocab], "float64") });
  return model;
}
