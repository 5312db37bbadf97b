// The property table (test/helpers/op-table.ts) over the nn primitives: conv2d (its input and weight
// gradients are primitives too, reached at first and second order), im2col, max and average pooling, and
// the losses. Each spec runs through checkGrads (orders 1–2, both modes, duality), the backend parity
// check and the batching table (vmap against loops, nested, with grad and jvp), like the ops' specs.
// Sizes stay small: every derivative here is checked by central differences over every input element.
import fc from "fast-check";
import { describe } from "vitest";
import { mul, nn, sin, Tensor, tensor } from "../src/index.js";
import { constantLike, positive, propertyTable, seedArb, values, type OpSpec } from "./helpers/op-table.js";

const dim = (min: number, max: number) => fc.integer({ min, max });

/** Window geometry: kernel, stride and padding per axis, and an input size the window fits. */
const windowArb = (maxPad: (k: number) => number) =>
  fc.tuple(dim(1, 2), dim(1, 2)).chain(([kh, kw]) =>
    fc.tuple(fc.constant([kh, kw] as [number, number]), fc.tuple(dim(1, 2), dim(1, 2)), fc.tuple(dim(0, maxPad(kh)), dim(0, maxPad(kw)))).chain(([k, s, p]) =>
      fc.tuple(fc.constant(k), fc.constant(s), fc.constant(p), dim(Math.max(1, k[0] - 2 * p[0]), 4), dim(Math.max(1, k[1] - 2 * p[1]), 4)),
    ),
  );

/** Images [N, C, H, W] with N and C in 1..2. */
const imageArb = (maxPad: (k: number) => number) => fc.tuple(dim(1, 2), dim(1, 2), windowArb(maxPad), seedArb);

/** Fixed weights for `out` (its shape, dtype and device), so a scalar-free output is not linear in its input (second order sees the op). */
const weights = (out: Tensor) => constantLike(values(out.shape, 99), out);

/** out·weights(out) (a plain `out` for a scalar, as `mul(out, 1)`). */
const weighted = (out: Tensor) => (out.rank === 0 ? out : mul(out, weights(out)));

const specs: OpSpec[] = [
  {
    name: "conv2d (input, weight, bias; stride, padding)",
    cases: fc.tuple(imageArb(() => 1), dim(1, 2), fc.boolean()).map(([[n, c, [k, s, p, h, w], seed], o, withBias]) => {
      const x = values([n, c, h, w], seed);
      const wt = values([o, c, k[0], k[1]], seed + 1);
      const args = withBias ? [x, wt, values([o], seed + 2)] : [x, wt];
      // sin after the convolution: its second derivative goes through conv2d's input and weight gradients.
      const fn = (xi: Tensor, wi: Tensor, bi?: Tensor) => sin(nn.conv2d(xi, wi, bi ?? null, { stride: s, padding: p }));
      return { args, fn, label: `conv2d x ${JSON.stringify([n, c, h, w])} w ${JSON.stringify([o, c, ...k])} stride ${s} padding ${p}${withBias ? " bias" : ""}` };
    }),
    numRuns: 8,
  },
  {
    name: "im2col",
    cases: imageArb(() => 1).map(([n, c, [k, s, p, h, w], seed]) => ({
      args: [values([n, c, h, w], seed)],
      fn: (x: Tensor) => {
        const cols = nn.im2col(x, k, { stride: s, padding: p });
        return weighted(sin(cols));
      },
      label: `im2col ${JSON.stringify([n, c, h, w])} kernel ${k} stride ${s} padding ${p}`,
    })),
    numRuns: 8,
  },
  {
    // Random normal inputs have no ties, and central differences (step 1e-5) stay on one side of every kink.
    name: "maxPool2d (stride, padding)",
    cases: imageArb((k) => k >> 1).map(([n, c, [k, s, p, h, w], seed]) => ({
      args: [values([n, c, h, w], seed)],
      fn: (x: Tensor) => {
        const y = nn.maxPool2d(x, k, { stride: s, padding: p });
        return weighted(sin(y));
      },
      label: `maxPool2d ${JSON.stringify([n, c, h, w])} kernel ${k} stride ${s} padding ${p}`,
    })),
    numRuns: 10,
  },
  {
    name: "avgPool2d (stride, padding)",
    cases: imageArb((k) => k >> 1).map(([n, c, [k, s, p, h, w], seed]) => ({
      args: [values([n, c, h, w], seed)],
      fn: (x: Tensor) => sin(nn.avgPool2d(x, k, { stride: s, padding: p })),
      label: `avgPool2d ${JSON.stringify([n, c, h, w])} kernel ${k} stride ${s} padding ${p}`,
    })),
    numRuns: 10,
  },
  {
    name: "crossEntropy (int labels; mean, sum, none; label smoothing)",
    cases: fc.tuple(dim(1, 3), dim(1, 4), fc.constantFrom("mean", "sum", "none"), fc.constantFrom(0, 0.1), seedArb).chain(([n, classes, reduction, eps, seed]) =>
      fc.array(dim(0, classes - 1), { minLength: n, maxLength: n }).map((labels) => ({
        args: [values([n, classes], seed), tensor(labels, { dtype: "int32" })],
        fn: (x: Tensor, y: Tensor) => weighted(nn.crossEntropy(x, y, { reduction, labelSmoothing: eps })),
        label: `crossEntropy [${n},${classes}] labels ${JSON.stringify(labels)} ${reduction} ε ${eps}`,
      })),
    ),
    numRuns: 12,
  },
  {
    name: "crossEntropy (probability targets, both differentiated)",
    cases: fc.tuple(dim(1, 3), dim(1, 4), fc.constantFrom("mean", "sum"), seedArb).map(([n, classes, reduction, seed]) => ({
      args: [values([n, classes], seed), values([n, classes], seed + 1, positive)],
      fn: (x: Tensor, t: Tensor) => nn.crossEntropy(x, t, { reduction }),
      label: `crossEntropy [${n},${classes}] probabilities ${reduction}`,
    })),
    numRuns: 12,
  },
  {
    name: "softmaxCrossEntropy (per row)",
    cases: fc.tuple(dim(0, 3), dim(1, 4), seedArb).map(([n, classes, seed]) => ({
      args: [values([n, classes], seed), values([n, classes], seed + 1, positive)],
      fn: (x: Tensor, t: Tensor) => weighted(nn.softmaxCrossEntropy(x, t)),
      label: `softmaxCrossEntropy [${n},${classes}]`,
    })),
    numRuns: 12,
  },
  {
    name: "binaryCrossEntropyWithLogits (mean, sum, none)",
    cases: fc.tuple(dim(1, 3), dim(1, 3), fc.constantFrom("mean", "sum", "none"), seedArb).map(([n, m, reduction, seed]) => ({
      args: [values([n, m], seed), values([n, m], seed + 1, (v) => 1 / (1 + Math.exp(-v)))],
      fn: (x: Tensor, y: Tensor) => weighted(nn.binaryCrossEntropyWithLogits(x, y, { reduction })),
      label: `binaryCrossEntropyWithLogits [${n},${m}] ${reduction}`,
    })),
    numRuns: 12,
  },
  {
    name: "mseLoss (mean, sum, none; a broadcast target)",
    cases: fc.tuple(dim(1, 3), dim(1, 3), fc.constantFrom("mean", "sum", "none"), fc.boolean(), seedArb).map(([n, m, reduction, rowTarget, seed]) => ({
      args: [values([n, m], seed), values(rowTarget ? [m] : [n, m], seed + 1)],
      fn: (p: Tensor, t: Tensor) => weighted(nn.mseLoss(p, t, { reduction })),
      label: `mseLoss [${n},${m}] target ${rowTarget ? `[${m}]` : `[${n},${m}]`} ${reduction}`,
    })),
    numRuns: 12,
  },
];

describe("nn primitives: property table", () => {
  propertyTable(specs, { numRuns: 10 });
});
