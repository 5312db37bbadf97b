// `chainrule viz --mlp`: the graph of one training step of a small MLP on real MNIST digits, small enough
// to step through (a dozen or so nodes, since matmul and the fused cross-entropy are one node each) and
// scoped by module, so the page can collapse MLP/Linear0, MLP/ReLU1, MLP/Linear2 and loss into boxes.
import type { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { nameScope } from "../autodiff/scope.js";
import { MLP } from "../nn/layers.js";
import { crossEntropy } from "../nn/losses.js";
import { loadMnist, subset } from "../data/mnist.js";
import { FULL_VALUE_LIMIT, trace, type GraphTrace } from "../viz/capture.js";
import { oneHot } from "../ops/indexing.js";

/** The traced step's setup; every choice is fixed so the graph is the same on every run. */
export const MLP_STEP = {
  sizes: [784, 16, 10] as const,
  batch: 8,
  /** Seed of the initial weights and of the digits drawn. */
  seed: 0,
  /** For the page and JSON: keeps activations [8,16], logits [8,10] and the [10,16] weight in full, so the page draws them as heatmaps. */
  fullValueLimit: 256,
};

/** What `mlpStepTrace` captured, for the one-line summary. */
export interface MlpStep {
  graph: GraphTrace;
  loss: number;
  /** The digits' labels, in batch order. */
  labels: number[];
  description: string;
}

/**
 * Traces one training step of `new MLP([784, 16, 10])` (Kaiming-uniform init, seed 0) on a batch of 8
 * MNIST digits drawn with a seeded permutation: logits = model.apply(params, x) and the mean
 * cross-entropy, inside `nameScope("loss")`, then the engine's backward pass. The four parameters are the
 * graph's inputs (named as in `model.parameters()`: 0.weight, 0.bias, 2.weight, 2.bias), so the page shows
 * their gradients; the image batch `x` and the one-hot targets `labels` ([8,10]) are constants.
 * @param fullValueLimit tensors kept in full (default `MLP_STEP.fullValueLimit`; text and dot output pass 64,
 *   since a 128-number list makes an unreadable line or Graphviz record)
 */
export function mlpStepTrace(fullValueLimit: number = MLP_STEP.fullValueLimit): MlpStep {
  const { sizes, batch, seed } = MLP_STEP;
  const model = new MLP(sizes, { rng: new Rng(seed) });
  const all = loadMnist();
  const picked = subset(all, new Rng(seed).permutation(all.labels.size).subarray(0, batch));
  const x = picked.images;
  x.name = "x";
  // One-hot targets made here rather than inside crossEntropy, so the page names them ("labels", not k0).
  const targets = oneHot(picked.labels, sizes[sizes.length - 1]!);
  targets.name = "labels";
  const params = model.stateDict();
  const names = Object.keys(params);
  for (const n of names) params[n]!.name = n;
  const step = (...p: Tensor[]): Tensor => {
    const logits = model.apply(Object.fromEntries(names.map((n, i) => [n, p[i]!])), x);
    return nameScope("loss", () => crossEntropy(logits, targets));
  };
  // The page replays the step for its finite-difference checks, so the parameters and data are kept in full.
  const graph = trace(step, names.map((n) => params[n]!), { outputName: "L", fullValueLimit, fullLeaves: fullValueLimit > FULL_VALUE_LIMIT });
  const loss = graph.nodes[graph.output]!.value.data![0]!;
  const labels = Array.from(picked.labels.data);
  return { graph, loss, labels, description: `one training step of an MLP ${sizes.join("-")} on ${batch} MNIST digits (${labels.join(" ")}), cross-entropy loss ${loss.toPrecision(5)}` };
}
