// One epoch's bookkeeping, shared by the CPU and the device training loops (train.ts, train-device.ts);
// internal: src/nn/index.ts does not re-export it.
import type { EpochStats, TrainOptions } from "./train.js";

/**
 * Closes an epoch of a training loop (trainClassifier's, and trainClassifierOnDevice's): its statistics from
 * the summed per-example loss and hit count over `n` training examples, the test evaluation and the epoch's
 * start time (performance.now(), ms), appended to `history` and passed to `onEpoch`.
 */
export function recordEpoch(
  history: EpochStats[],
  options: Pick<TrainOptions, "onEpoch">,
  e: { epoch: number; lossSum: number; correct: number; n: number; test: { accuracy: number; loss: number }; start: number },
): void {
  const stats: EpochStats = {
    epoch: e.epoch,
    trainLoss: e.lossSum / e.n,
    trainAccuracy: e.correct / e.n,
    testAccuracy: e.test.accuracy,
    testLoss: e.test.loss,
    seconds: (performance.now() - e.start) / 1000,
  };
  history.push(stats);
  options.onEpoch?.(stats);
}
