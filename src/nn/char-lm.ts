import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { valueAndGrad } from "../autodiff/transforms.js";
import type { OptimizerRule } from "../optim/rules.js";
import type { CharExamples } from "../data/names.js";
import { crossEntropy } from "./losses.js";
import { logSoftmax } from "./activations.js";
import type { Module, StateDict } from "./module.js";
import { parameterValues } from "./train.js";

// Training, evaluating and sampling character-level language models: any Module that maps int32 contexts
// [N, T] to next-token logits [N, V] (CharMLP, Bigram).

/** The contexts and targets of examples `idx` as tensors [B, T] and [B]. */
function batchOf(ex: CharExamples, idx: ArrayLike<number>): [Tensor, Tensor] {
  const t = ex.blockSize;
  const x = new Int32Array(idx.length * t), y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    x.set(ex.contexts.subarray(j * t, (j + 1) * t), i * t);
    y[i] = ex.targets[j]!;
  }
  return [Tensor._concrete(x, [idx.length, t], "int32"), Tensor._concrete(y, [idx.length], "int32")];
}

/**
 * Mean negative log-likelihood per predicted character, in nats: −(1/N) Σ log p(target | context) over all
 * examples (each name's letters and its end marker), evaluated in batches with `params` (default: the
 * model's own values). Records nothing.
 * @throws ValueError for an empty example set
 */
export function charNLL(model: Module, ex: CharExamples, params: StateDict = model.stateDict(), batchSize = 2048): number {
  if (ex.count === 0) throw new ValueError("charNLL: no examples to evaluate");
  let total = 0;
  for (let start = 0; start < ex.count; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, ex.count - start) }, (_, i) => start + i);
    const [x, y] = batchOf(ex, idx);
    total += crossEntropy(model.apply(params, x), y, { reduction: "sum" }).item();
  }
  return total / ex.count;
}

/** Statistics of one epoch of `trainCharModel`. */
export interface CharEpochStats {
  /** 1-based epoch number. */
  epoch: number;
  /** NLL per character (nats) on the whole training set after the epoch. */
  trainNLL: number;
  /** NLL per character (nats) on the test set after the epoch. */
  testNLL: number;
  /** Wall time of the epoch (training and evaluation), in seconds. */
  seconds: number;
}

/** Options for `trainCharModel`. */
export interface CharTrainOptions {
  epochs: number;
  batchSize: number;
  /** The update rule, e.g. `optim.adam({ lr: cosineDecay(1e-2, steps) })`. */
  optimizer: OptimizerRule;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /** Called after every update with the batch's mean cross-entropy (nats per character). */
  onBatch?: (info: { epoch: number; batch: number; batches: number; loss: number }) => void;
  /** Called after every epoch with the train and test NLL; the model already holds that epoch's parameters. */
  onEpoch?: (stats: CharEpochStats) => void;
}

/**
 * Trains a next-character model on mean cross-entropy, functional style (`valueAndGrad` over the parameter
 * object, then the optimizer's update) on shuffled mini-batches, and measures the NLL per character on both
 * sets after every epoch. The model holds the final parameters at the end.
 * @throws ValueError for a non-positive epoch count or batch size
 */
export function trainCharModel(model: Module, data: { train: CharExamples; test: CharExamples }, options: CharTrainOptions): CharEpochStats[] {
  const { epochs, batchSize, optimizer } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`trainCharModel: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`trainCharModel: batchSize must be a positive integer, got ${batchSize}`);
  const rng = new Rng(options.seed ?? 0);
  const step = valueAndGrad((p: StateDict, x: Tensor, y: Tensor) => crossEntropy(model.apply(p, x), y));
  let params = parameterValues(model); // buffers stay in the module
  let state = optimizer.init(params);
  const n = data.train.count;
  const batches = Math.ceil(n / batchSize);
  const history: CharEpochStats[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    model.train();
    const order = rng.permutation(n);
    for (let b = 0; b < batches; b++) {
      const [x, y] = batchOf(data.train, order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)));
      const [loss, grads] = step(params, x, y);
      ({ params, state } = optimizer.update(params, grads, state));
      options.onBatch?.({ epoch, batch: b + 1, batches, loss: loss.item() });
    }
    model.eval();
    model.loadStateDict({ ...params, ...model.buffers() });
    const stats: CharEpochStats = { epoch, trainNLL: charNLL(model, data.train, params), testNLL: charNLL(model, data.test, params), seconds: 0 };
    stats.seconds = (performance.now() - start) / 1000;
    history.push(stats);
    options.onEpoch?.(stats);
  }
  return history;
}

/** Options for `sampleSequences`. */
export interface SampleOptions {
  /** Number of sequences. */
  count: number;
  /** Context length the model reads (its input width). */
  blockSize: number;
  /** Token that pads the start and ends a sequence. */
  end: number;
  /** Longest sequence produced, in tokens before the end (a sequence reaching it is cut). */
  maxLength: number;
  /** Softmax temperature > 0: below 1 sharper, above 1 flatter. Default 1. */
  temperature?: number;
  /** Generator of the draws. Default `new Rng(0)`. */
  rng?: Rng;
}

/**
 * Draws token sequences from a next-token model, one token at a time from softmax(logits / temperature),
 * starting from a context of end markers and stopping at the end marker (ancestral sampling). All sequences
 * advance together, one batched forward pass per position.
 * @returns the sequences, without the end marker
 * @throws ValueError for a non-positive count, maxLength or temperature
 */
export function sampleSequences(model: Module, options: SampleOptions): number[][] {
  const { count, blockSize, end, maxLength, temperature = 1, rng = new Rng(0) } = options;
  if (!Number.isInteger(count) || count < 1) throw new ValueError(`sampleSequences: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new ValueError(`sampleSequences: maxLength must be a positive integer, got ${maxLength}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new ValueError(`sampleSequences: temperature must be a positive number, got ${temperature}`);
  model.eval();
  const out: number[][] = Array.from({ length: count }, () => []);
  const done = new Array<boolean>(count).fill(false);
  const ctx = new Int32Array(count * blockSize).fill(end);
  for (let pos = 0; pos < maxLength && done.includes(false); pos++) {
    const logp = logSoftmax(model.forward(Tensor._concrete(ctx.slice(), [count, blockSize], "int32")).div(temperature), -1);
    const v = logp.shape[1]!, d = logp.data;
    for (let i = 0; i < count; i++) {
      if (done[i]) continue;
      // Inverse-CDF draw from the row's probabilities.
      let u = rng.next(), next = v - 1;
      for (let k = 0; k < v; k++) {
        u -= Math.exp(d[i * v + k]!);
        if (u < 0) { next = k; break; }
      }
      if (next === end) { done[i] = true; continue; }
      out[i]!.push(next);
      ctx.copyWithin(i * blockSize, i * blockSize + 1, (i + 1) * blockSize);
      ctx[(i + 1) * blockSize - 1] = next;
    }
  }
  return out;
}
