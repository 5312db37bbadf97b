// `chainrule viz --names`: the graph of one training step of the names MLP (Bengio et al. 2003, as
// `train names --model mlp`, but narrow enough to read) on the windows of a few real names, scoped by module
// so the page can collapse CharMLP/embedding, CharMLP/hidden, CharMLP/output and loss into boxes.
import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { nameScope } from "../autodiff/scope.js";
import { CharMLP } from "../nn/char-mlp.js";
import { crossEntropy } from "../nn/losses.js";
import { charExamples, namesSplit, NAMES_VOCAB } from "../data/names.js";
import { trace, type GraphTrace } from "../viz/capture.js";
import { oneHot } from "../ops/indexing.js";


/** The traced step's setup; every choice is fixed so the graph is the same on every run. */
export const NAMES_STEP = {
  /** The first names of the seed-0 training split. */
  names: 3,
  context: 3,
  embedding: 4,
  hidden: 16,
  /** Seed of the split and of the initial weights. */
  seed: 0,
  /** Keeps the [windows, 12] inputs, [windows, 16] activations, [windows, 27] logits and the weights in full for the page's heatmaps. */
  fullValueLimit: 1024,
};

/** What `namesStepTrace` captured. */
export interface NamesStep {
  graph: GraphTrace;
  loss: number;
  names: string[];
  description: string;
}

/**
 * Traces one training step of `new CharMLP({ context 3, embedding 4, hidden 16 })` (seed 0) on every
 * next-character window of the first three training names: logits = model.apply(params, contexts) and the
 * mean cross-entropy inside `nameScope("loss")`, then the backward pass. The five parameters are the graph's
 * inputs, named as in `model.parameters()` (embedding.weight, hidden.weight, hidden.bias, output.weight,
 * output.bias), so the page shows their gradients; the contexts `x` and the one-hot targets `next` [windows, 27] are constants.
 * @param fullValueLimit tensors kept in full (default `NAMES_STEP.fullValueLimit`; text and dot pass 64)
 * @throws ValueError when the names packages are not installed
 */
export async function namesStepTrace(fullValueLimit: number = NAMES_STEP.fullValueLimit): Promise<NamesStep> {
  const { context, embedding, hidden, seed } = NAMES_STEP;
  const split = await namesSplit({ seed });
  const names = split.train.slice(0, NAMES_STEP.names);
  const ex = charExamples(names, context);
  const model = new CharMLP({ vocab: NAMES_VOCAB, context, embedding, hidden, rng: new Rng(seed) });
  const x = Tensor._concrete(ex.contexts, [ex.count, context], "int32");
  x.name = "x";
  // One-hot targets made here rather than inside crossEntropy, so the page names them ("next", not k0).
  const y = oneHot(Tensor._concrete(ex.targets, [ex.count], "int32"), NAMES_VOCAB);
  y.name = "next";
  const params = model.stateDict();
  const keys = Object.keys(params);
  for (const k of keys) params[k]!.name = k;
  const step = (...p: Tensor[]): Tensor => {
    const logits = model.apply(Object.fromEntries(keys.map((k, i) => [k, p[i]!])), x);
    return nameScope("loss", () => crossEntropy(logits, y));
  };
  const graph = trace(step, keys.map((k) => params[k]!), { outputName: "L", fullValueLimit });
  const loss = graph.nodes[graph.output]!.value.data![0]!;
  return {
    graph, loss, names: [...names],
    description: `one training step of the names MLP (context ${context}, embedding ${embedding}, hidden ${hidden}) on the ${ex.count} windows of ${names.join(", ")}; cross-entropy ${loss.toPrecision(5)} nats`,
  };
}
