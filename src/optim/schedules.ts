import { ValueError } from "../core/errors.js";

/** A learning-rate schedule: the rate for the update that follows `step` completed updates (step 0 is the first). */
export type Schedule = (step: number) => number;

/** A fixed learning rate or a schedule. */
export type LearningRate = number | Schedule;

function check(op: string, what: string, v: number, min: number): void {
  if (!(Number.isFinite(v) && v >= min)) throw new ValueError(`${op}: ${what} must be a finite number ≥ ${min}, got ${v}`);
}

/**
 * Step decay (PyTorch's `StepLR`, counted in updates): lr·γ^⌊step / stepSize⌋.
 * @param stepSize updates between decays (a positive integer; steps per epoch × epochs for epoch-wise decay)
 * @param gamma multiplicative factor, default 0.1
 * @throws ValueError for a non-positive lr or stepSize, or a negative gamma
 */
export function stepDecay(lr: number, stepSize: number, gamma = 0.1): Schedule {
  check("stepDecay", "lr", lr, Number.MIN_VALUE);
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new ValueError(`stepDecay: stepSize must be a positive integer, got ${stepSize}`);
  check("stepDecay", "gamma", gamma, 0);
  return (step) => lr * Math.pow(gamma, Math.floor(step / stepSize));
}

/**
 * Cosine decay (Loshchilov & Hutter's SGDR without restarts; PyTorch's `CosineAnnealingLR`) from lr to
 * minLr over totalSteps, after an optional linear warm-up from lr/warmupSteps; stays at minLr afterwards.
 * @throws ValueError for a non-positive lr or totalSteps, or warmupSteps ≥ totalSteps
 */
export function cosineDecay(lr: number, totalSteps: number, options: { minLr?: number; warmupSteps?: number } = {}): Schedule {
  const { minLr = 0, warmupSteps = 0 } = options;
  check("cosineDecay", "lr", lr, Number.MIN_VALUE);
  check("cosineDecay", "minLr", minLr, 0);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new ValueError(`cosineDecay: totalSteps must be a positive integer, got ${totalSteps}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || warmupSteps >= totalSteps) {
    throw new ValueError(`cosineDecay: warmupSteps must be an integer in [0, totalSteps), got ${warmupSteps}`);
  }
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    const t = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * t));
  };
}
