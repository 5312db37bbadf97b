import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { valueAndGrad } from "../autodiff/transforms.js";
import { batches, type Dataset } from "../data/mnist.js";
import type { OptimizerRule } from "../optim/rules.js";
import { crossEntropy } from "./losses.js";
import type { Module, StateDict } from "./module.js";
import { recordEpoch } from "./record-epoch.js";

/** Number of rows of `logits` [N, C] whose largest entry is at the label (first maximum wins). */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  const [n, c] = logits.shape as [number, number];
  const x = logits.data, y = labels.data;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (x[r * c + k]! > x[r * c + best]!) best = k;
    if (best === y[r]) correct++;
  }
  return correct;
}

/**
 * Classification accuracy and mean cross-entropy of `model` with `params` on a dataset, in batches;
 * nothing is recorded (the params are plain tensors).
 */
export function evaluate(model: Module, params: StateDict, ds: Dataset, batchSize = 500): { accuracy: number; loss: number } {
  let correct = 0, loss = 0;
  for (const [x, y] of batches(ds, batchSize)) {
    const logits = model.apply(params, x);
    correct += countCorrect(logits, y);
    loss += crossEntropy(logits, y, { reduction: "sum" }).item();
  }
  const n = ds.labels.size;
  return { accuracy: correct / n, loss: loss / n };
}

/**
 * A snapshot of the model's parameter values: `stateDict()` without the buffers. Functional training
 * differentiates and updates these; buffers stay in the module, where training-mode forward passes update them.
 */
export function parameterValues(model: Module): StateDict {
  const values = model.stateDict();
  for (const name of Object.keys(model.buffers())) delete values[name];
  return values;
}

/** Statistics of one training epoch. */
export interface EpochStats {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size), measured as training went. */
  trainLoss: number;
  /** Training accuracy over the same batches, with the parameters of the moment. */
  trainAccuracy: number;
  /** Accuracy on the held-out set after the epoch. */
  testAccuracy: number;
  /** Mean cross-entropy on the held-out set after the epoch. */
  testLoss: number;
  /** Wall time of the epoch (training and evaluation), in seconds. */
  seconds: number;
}

/** Options for `trainClassifier`. */
export interface TrainOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Samples per update. */
  batchSize: number;
  /** The update rule, e.g. `optim.adam({ lr: 1e-3 })`. */
  optimizer: OptimizerRule;
  /** Seed of the per-epoch shuffles (default 0). */
  seed?: number;
  /** Called after every update with the batch loss. */
  onBatch?: (info: { epoch: number; batch: number; batches: number; loss: number }) => void;
  /** Called after every epoch; the model already holds that epoch's parameters. */
  onEpoch?: (stats: EpochStats) => void;
}

/**
 * Trains a classifier on softmax cross-entropy in the functional style: `valueAndGrad` over the
 * parameter object, then the optimizer's pure update, once per shuffled mini-batch. The model's
 * parameters are updated in place at the end of each epoch, and it is left in eval mode.
 * @param model maps a batch of inputs [B, ...] to logits [B, C]
 * @returns the per-epoch statistics
 * @throws ValueError for a non-positive epoch count or batch size
 */
export function trainClassifier(model: Module, data: { train: Dataset; test: Dataset }, options: TrainOptions): EpochStats[] {
  const { epochs, batchSize, optimizer } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`trainClassifier: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`trainClassifier: batchSize must be a positive integer, got ${batchSize}`);
  const rng = new Rng(options.seed ?? 0);
  const step = valueAndGrad(
    (p: StateDict, x: Tensor, y: Tensor): [Tensor, Tensor] => {
      const logits = model.apply(p, x);
      return [crossEntropy(logits, y), logits];
    },
    { hasAux: true },
  );
  // Parameters only: buffers (BatchNorm's running statistics) stay in the module, updated by each forward pass.
  let params = parameterValues(model);
  let state = optimizer.init(params);
  const history: EpochStats[] = [];
  const n = data.train.labels.size;
  const perEpoch = Math.ceil(n / batchSize);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    model.train();
    let lossSum = 0, correct = 0, b = 0;
    for (const [x, y] of batches(data.train, batchSize, { rng })) {
      const [[loss, logits], grads] = step(params, x, y);
      ({ params, state } = optimizer.update(params, grads, state));
      const l = loss.item();
      lossSum += l * y.size;
      correct += countCorrect(logits, y);
      options.onBatch?.({ epoch, batch: ++b, batches: perEpoch, loss: l });
    }
    model.eval();
    const test = evaluate(model, params, data.test);
    model.loadStateDict({ ...params, ...model.buffers() });
    recordEpoch(history, options, { epoch, lossSum, correct, n, test, start });
  }
  return history;
}
