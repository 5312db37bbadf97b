// Training on a device (WebGPU): the loop of trainClassifier with the parameters, the optimizer state and
// the images on the GPU. Values come back only as numbers (the batch loss and hit count, read
// asynchronously), and the module receives the trained parameters on the CPU after each epoch.
import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { valueAndGrad } from "../autodiff/transforms.js";
import { batches, type Dataset } from "../data/mnist.js";
import { argmax, sum } from "../ops/index.js";
import { equal } from "../ops/elementwise.js";
import { crossEntropy } from "./losses.js";
import type { Module, StateDict } from "./module.js";
import { parameterValues, type EpochStats, type TrainOptions } from "./train.js";
import { recordEpoch } from "./record-epoch.js";

/** Number of rows of logits [N, C] (on the device) whose first largest entry is at the label, read back. */
async function hits(logits: Tensor, labels: Tensor): Promise<number> {
  return sum(equal(argmax(logits, -1), labels.to("webgpu"))).itemAsync();
}

/** Accuracy and mean cross-entropy of `model` with device `params` on a dataset, in batches. */
export async function evaluateOnDevice(model: Module, params: StateDict, ds: Dataset, batchSize = 500): Promise<{ accuracy: number; loss: number }> {
  let correct = 0, loss = 0;
  for (const [x, y] of batches(ds, batchSize)) {
    const logits = model.apply(params, x.to("webgpu"));
    const [h, l] = await Promise.all([hits(logits, y), crossEntropy(logits, y, { reduction: "sum" }).itemAsync()]);
    correct += h;
    loss += l;
  }
  const n = ds.labels.size;
  return { accuracy: correct / n, loss: loss / n };
}

/** The values of a state dict, moved to the CPU. */
async function toCpu(values: StateDict): Promise<StateDict> {
  const entries = await Promise.all(Object.entries(values).map(async ([k, v]) => [k, await v.to("cpu")] as const));
  return Object.fromEntries(entries);
}

/**
 * `trainClassifier` on the webgpu device (call `await initWebGPU()` first): the same steps, shuffles and
 * statistics, with the parameters, optimizer state and images on the GPU (labels are checked on the CPU and
 * their one-hot targets uploaded). Resolves with the per-epoch statistics; after each epoch the module holds
 * that epoch's parameters (on the CPU) and is left in eval mode.
 * @throws ValueError for a non-positive epoch count or batch size, or when the device is not initialised
 */
export async function trainClassifierOnDevice(model: Module, data: { train: Dataset; test: Dataset }, options: TrainOptions): Promise<EpochStats[]> {
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
  let params: StateDict = Object.fromEntries(Object.entries(parameterValues(model)).map(([k, v]) => [k, v.to("webgpu")]));
  let state = optimizer.init(params);
  const history: EpochStats[] = [];
  const n = data.train.labels.size;
  const perEpoch = Math.ceil(n / batchSize);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    model.train();
    let lossSum = 0, correct = 0, b = 0;
    for (const [x, y] of batches(data.train, batchSize, { rng })) {
      const [[loss, logits], grads] = step(params, x.to("webgpu"), y);
      ({ params, state } = optimizer.update(params, grads, state));
      const [l, h] = await Promise.all([loss.itemAsync(), hits(logits, y)]);
      lossSum += l * y.size;
      correct += h;
      options.onBatch?.({ epoch, batch: ++b, batches: perEpoch, loss: l });
    }
    model.eval();
    const test = await evaluateOnDevice(model, params, data.test);
    model.loadStateDict({ ...(await toCpu(params)), ...model.buffers() });
    recordEpoch(history, options, { epoch, lossSum, correct, n, test, start });
  }
  return history;
}
