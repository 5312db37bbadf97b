import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { valueAndGrad } from "../autodiff/transforms.js";
import type { OptimizerRule } from "../optim/rules.js";
import { IGNORE_TARGET, type CharExamples, type CharSequences } from "../data/names.js";
import { clipGrads } from "../optim/clip.js";
import { crossEntropy } from "./losses.js";
import { logSoftmax } from "./activations.js";
import { reshape, slice } from "../ops/index.js";
import type { Module, StateDict } from "./module.js";
import { parameterValues } from "./train.js";

// Training, evaluating and sampling character-level language models. Two kinds of model and data:
// window models map int32 contexts [N, T] to next-token logits [N, V] (CharMLP, Bigram) and read
// `CharExamples`; sequence models map [N, L] to logits at every position [N, L, V] (CharTransformer, CharGRU)
// and read `CharSequences`, whose padding targets the loss ignores.

/** Training or test data of either kind. */
export type CharData = CharExamples | CharSequences;

const isSequences = (d: CharData): d is CharSequences => "inputs" in d;

/** The number of rows (examples or names) a batch is drawn from. */
const rowsOf = (d: CharData): number => (isSequences(d) ? d.sequences : d.count);

/** Rows `idx` as tensors: [B, T] and [B] for windows; [B, L] and [B, L] for sequences, cut after the longest name. */
function batchOf(ex: CharData, idx: ArrayLike<number>): [Tensor, Tensor] {
  if (isSequences(ex)) return sequenceBatch(ex, idx);
  const t = ex.blockSize;
  const x = new Int32Array(idx.length * t), y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    x.set(ex.contexts.subarray(j * t, (j + 1) * t), i * t);
    y[i] = ex.targets[j]!;
  }
  return [Tensor._concrete(x, [idx.length, t], "int32"), Tensor._concrete(y, [idx.length], "int32")];
}

function sequenceBatch(ex: CharSequences, idx: ArrayLike<number>): [Tensor, Tensor] {
  const t = ex.blockSize;
  // Positions after every name's end hold only ignored targets and, in a causal model, change nothing
  // before them: cutting them is exact and saves most of the work (names average 6 letters of 15).
  let l = 1;
  for (let i = 0; i < idx.length; i++) {
    const row = ex.targets.subarray(idx[i]! * t, (idx[i]! + 1) * t);
    const used = row.indexOf(IGNORE_TARGET);
    l = Math.max(l, used < 0 ? t : used);
  }
  const x = new Int32Array(idx.length * l), y = new Int32Array(idx.length * l);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    x.set(ex.inputs.subarray(j * t, j * t + l), i * l);
    y.set(ex.targets.subarray(j * t, j * t + l), i * l);
  }
  return [Tensor._concrete(x, [idx.length, l], "int32"), Tensor._concrete(y, [idx.length, l], "int32")];
}

/** Mean (or summed) cross-entropy of a batch; padding targets of sequences are ignored. */
function batchLoss(logits: Tensor, y: Tensor, reduction: "mean" | "sum"): Tensor {
  return crossEntropy(logits, y, { reduction, ignoreIndex: IGNORE_TARGET });
}

/**
 * Mean negative log-likelihood per predicted character, in nats: −(1/N) Σ log p(target | context) over all
 * N predicted characters (each name's letters and its end marker), evaluated in batches with `params`
 * (default: the model's own values). Records nothing.
 * @param ex windows for a window model, sequences for a sequence model
 * @param batchSize rows per forward pass (examples, or names for sequences; default 2048 or 512)
 * @throws ValueError for an empty set
 */
export function charNLL(model: Module, ex: CharData, params: StateDict = model.stateDict(), batchSize?: number): number {
  if (ex.count === 0) throw new ValueError("charNLL: no examples to evaluate");
  const rows = rowsOf(ex), size = batchSize ?? (isSequences(ex) ? 512 : 2048);
  const order = isSequences(ex) ? byLength(ex) : null;
  let total = 0;
  for (let start = 0; start < rows; start += size) {
    const idx = order === null
      ? Int32Array.from({ length: Math.min(size, rows - start) }, (_, i) => start + i)
      : order.subarray(start, Math.min(rows, start + size));
    const [x, y] = batchOf(ex, idx);
    total += batchLoss(model.apply(params, x), y, "sum").item();
  }
  return total / ex.count;
}

/**
 * The rows of `ex` ordered by the length of their names (stable). Evaluation batches of similar lengths are
 * cut short (`sequenceBatch`), so a pass computes about 7 positions per name instead of nearly 16; each
 * name's loss is the same in any batch (no layer mixes names), so only the order of the sum changes.
 */
function byLength(ex: CharSequences): Int32Array {
  const t = ex.blockSize, len = new Int32Array(ex.sequences);
  for (let r = 0; r < ex.sequences; r++) {
    const used = ex.targets.subarray(r * t, (r + 1) * t).indexOf(IGNORE_TARGET);
    len[r] = used < 0 ? t : used;
  }
  return Int32Array.from({ length: ex.sequences }, (_, i) => i).sort((a, b) => len[a]! - len[b]! || a - b);
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
  /** Scale each batch's gradients to a total 2-norm of at most this (`clipGrads`). Default: no clipping. */
  clipNorm?: number;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /** Called after every update with the batch's mean cross-entropy (nats per character). */
  onBatch?: (info: { epoch: number; batch: number; batches: number; loss: number }) => void;
  /** Called after every epoch with the train and test NLL; the model already holds that epoch's parameters. */
  onEpoch?: (stats: CharEpochStats) => void;
}

/**
 * Trains a next-character model on mean cross-entropy, functional style (`valueAndGrad` over the parameter
 * object, optional clipping, then the optimizer's update) on shuffled mini-batches, and measures the NLL
 * per character on both sets after every epoch. A batch is `batchSize` windows for a window model, or
 * `batchSize` names for a sequence model (the loss then averages over their characters, as PyTorch's
 * cross_entropy with ignore_index). The model holds the final parameters at the end.
 * @throws ValueError for a non-positive epoch count or batch size, or a negative clipNorm
 */
export function trainCharModel(model: Module, data: { train: CharData; test: CharData }, options: CharTrainOptions): CharEpochStats[] {
  const { epochs, batchSize, optimizer } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`trainCharModel: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`trainCharModel: batchSize must be a positive integer, got ${batchSize}`);
  const clip = options.clipNorm;
  if (clip !== undefined && !(clip >= 0)) throw new ValueError(`trainCharModel: clipNorm must be a number ≥ 0, got ${clip}`);
  const rng = new Rng(options.seed ?? 0);
  const step = valueAndGrad((p: StateDict, x: Tensor, y: Tensor) => batchLoss(model.apply(p, x), y, "mean"));
  let params = parameterValues(model); // buffers stay in the module
  let state = optimizer.init(params);
  const n = rowsOf(data.train);
  const batches = Math.ceil(n / batchSize);
  const history: CharEpochStats[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    model.train();
    const order = rng.permutation(n);
    for (let b = 0; b < batches; b++) {
      const [x, y] = batchOf(data.train, order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)));
      const [loss, g] = step(params, x, y);
      const grads = clip === undefined ? g : clipGrads(g, clip).grads;
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
  /**
   * The model is a sequence model ([N, L] → [N, L, V]): it reads the sequence so far from its start, [end,
   * t1, …] (its last `blockSize` tokens once longer), and the logits at the last position are used.
   * Default false: a window model reads the last `blockSize` tokens, padded with end markers.
   */
  sequence?: boolean;
}

/**
 * Draws token sequences from a next-token model, one token at a time from softmax(logits / temperature),
 * starting from a context of end markers and stopping at the end marker (ancestral sampling). All sequences
 * advance together, one batched forward pass per position.
 * @returns the sequences, without the end marker
 * @throws ValueError for a non-positive count, maxLength or temperature
 */
export function sampleSequences(model: Module, options: SampleOptions): number[][] {
  const { count, blockSize, end, maxLength, temperature = 1, rng = new Rng(0), sequence = false } = options;
  if (!Number.isInteger(count) || count < 1) throw new ValueError(`sampleSequences: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new ValueError(`sampleSequences: maxLength must be a positive integer, got ${maxLength}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new ValueError(`sampleSequences: temperature must be a positive number, got ${temperature}`);
  model.eval();
  const out: number[][] = Array.from({ length: count }, () => []);
  const done = new Array<boolean>(count).fill(false);
  const ctx = new Int32Array(count * blockSize).fill(end);
  for (let pos = 0; pos < maxLength && done.includes(false); pos++) {
    let logits: Tensor;
    if (sequence) {
      // The window's last `used` places hold [end, t1, …, t_pos]; a sequence model reads them from position 0.
      const used = Math.min(pos + 1, blockSize);
      const x = new Int32Array(count * used);
      for (let i = 0; i < count; i++) x.set(ctx.subarray((i + 1) * blockSize - used, (i + 1) * blockSize), i * used);
      const all = model.forward(Tensor._concrete(x, [count, used], "int32"));
      logits = reshape(slice(all, [0, used - 1, 0], [count, used, all.shape[2]!]), [count, all.shape[2]!]);
    } else {
      logits = model.forward(Tensor._concrete(ctx.slice(), [count, blockSize], "int32"));
    }
    const logp = logSoftmax(logits.div(temperature), -1);
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
