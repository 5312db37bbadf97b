import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, Normalize, ReLU, Reshape, Sequential } from "./layers.js";

/**
 * Mean of MNIST pixels in [0, 1], the value used by PyTorch's MNIST example (the 10,000 digits of the
 * `mnist` package give 0.1311). The models standardize with it and `MNIST_STD`.
 */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of MNIST pixels in [0, 1], as in PyTorch's MNIST example (the package's digits give 0.3087). */
export const MNIST_STD = 0.3081;

/** Options for `mnistModel`. */
export interface MnistModelOptions {
  /** Hidden width of the MLP (default 256); ignored by the CNN. */
  hidden?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/**
 * The two MNIST classifiers of `chainrule train mnist`, taking flat images [N, 784] with pixels in [0, 1]
 * to logits [N, 10]. Both start by standardizing the pixels (`Normalize(MNIST_MEAN, MNIST_STD)`), which
 * gained about half a point of test accuracy for the MLP over three seeds.
 * - "mlp": 784 → hidden → 10 with ReLU;
 * - "cnn": conv 5×5×16 → ReLU → max-pool 2 → conv 5×5×32 → ReLU → max-pool 2 → dropout 0.25 → linear 512 → 10.
 *   Valid convolutions (no padding: 28 → 24 → 12 → 8 → 4, as LeNet-5); padding 2 would cost 3× the arithmetic.
 *   The dropout (seeded from `seed`) raised 10-epoch test accuracy from 97.20/96.40/96.75% to 97.60/97.10/97.40%
 *   for seeds 0/1/2. Call `eval()` before predicting.
 * @throws ValueError for an unknown kind or a non-positive hidden width
 */
export function mnistModel(kind: "mlp" | "cnn", options: MnistModelOptions = {}): Sequential {
  const rng = new Rng(options.seed ?? 0);
  if (kind === "mlp") {
    const hidden = options.hidden ?? 256;
    if (!Number.isInteger(hidden) || hidden < 1) throw new ValueError(`mnistModel: hidden must be a positive integer, got ${hidden}`);
    return new Sequential(new Normalize(MNIST_MEAN, MNIST_STD), new Linear(784, hidden, { rng }), new ReLU(), new Linear(hidden, 10, { rng }));
  }
  if (kind === "cnn") {
    return new Sequential(
      new Normalize(MNIST_MEAN, MNIST_STD),
      new Reshape([1, 28, 28]),
      new Conv2d(1, 16, 5, { padding: 0, rng }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(16, 32, 5, { padding: 0, rng }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Dropout(0.25, { rng: new Rng((options.seed ?? 0) + 1000) }),
      new Linear(32 * 4 * 4, 10, { rng }),
    );
  }
  throw new ValueError(`mnistModel: unknown model ${JSON.stringify(kind)}; expected "mlp" or "cnn"`);
}
