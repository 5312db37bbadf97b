// Timing: warm-up, then the median of repeated timed runs.

/** Thrown by a library's setup when a workload cannot run there for a known reason (not a failure). */
export class SkipError extends Error {}

export interface TimingOptions {
  /** Timed repeats: keep going until `maxRepeats`, or until `budgetMs` is spent and there are at least `minRepeats`. */
  minRepeats: number;
  maxRepeats: number;
  budgetMs: number;
  /** The minimum instead, when one call alone takes more than half the budget (--quick only lowers it). */
  slowMinRepeats: number;
  /** Warm up for at least this long (and at least one call). */
  warmupMs: number;
  /** Calls shorter than this are batched, so one timed repeat is never a few microseconds. */
  minRepeatMs: number;
}

export interface Timing {
  /** Median milliseconds per call. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Median CPU time per call (user + system of this process): less sensitive to other processes on a shared machine. */
  cpuMedianMs: number;
  /** Timed repeats, and calls per repeat. */
  repeats: number;
  callsPerRepeat: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Warms `run` up (with `warmup` when given, a cheaper call of the same code), picks a batch size so
 * that one timed repeat lasts at least `minRepeatMs`, then times repeats. A call that is already
 * that slow is not repeated for calibration: it becomes the first timed repeat.
 */
export function measure(run: () => void, warmup: (() => void) | undefined, o: TimingOptions): Timing {
  const now = () => performance.now();
  const t0 = now();
  if (warmup) {
    do { warmup(); } while (now() - t0 < o.warmupMs);
  } else {
    while (now() - t0 < o.warmupMs) run();
  }
  const samples: number[] = [];
  const cpu: number[] = [];
  const start = now();
  let inner = 1;
  for (;;) {
    const c = process.cpuUsage();
    const s = now();
    for (let i = 0; i < inner; i++) run();
    const dt = now() - s;
    if (dt >= o.minRepeatMs) {
      if (inner === 1) { samples.push(dt); cpu.push(cpuMs(c)); }
      break;
    }
    inner *= 2;
  }
  const floor = samples.length > 0 && samples[0]! > o.budgetMs / 2 ? o.slowMinRepeats : o.minRepeats;
  while (samples.length < o.maxRepeats) {
    if (samples.length >= floor && now() - start > o.budgetMs) break;
    const c = process.cpuUsage();
    const s = now();
    for (let i = 0; i < inner; i++) run();
    samples.push((now() - s) / inner);
    cpu.push(cpuMs(c) / inner);
  }
  return {
    medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples),
    cpuMedianMs: median(cpu), repeats: samples.length, callsPerRepeat: inner,
  };
}

/** CPU milliseconds (user + system, all threads of this process) since `since`. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/**
 * `measure` for calls that resolve asynchronously (GPU rows: each call ends by awaiting its results back).
 * The same rules; each call is awaited before the next starts, so calls never overlap on the device.
 */
export async function measureAsync(run: () => Promise<void>, warmup: (() => Promise<void>) | undefined, o: TimingOptions): Promise<Timing> {
  const now = () => performance.now();
  const t0 = now();
  if (warmup) {
    do { await warmup(); } while (now() - t0 < o.warmupMs);
  } else {
    do { await run(); } while (now() - t0 < o.warmupMs);
  }
  const samples: number[] = [];
  const cpu: number[] = [];
  const start = now();
  let inner = 1;
  for (;;) {
    const c = process.cpuUsage();
    const s = now();
    for (let i = 0; i < inner; i++) await run();
    const dt = now() - s;
    if (dt >= o.minRepeatMs) {
      if (inner === 1) { samples.push(dt); cpu.push(cpuMs(c)); }
      break;
    }
    inner *= 2;
  }
  const floor = samples.length > 0 && samples[0]! > o.budgetMs / 2 ? o.slowMinRepeats : o.minRepeats;
  while (samples.length < o.maxRepeats) {
    if (samples.length >= floor && now() - start > o.budgetMs) break;
    const c = process.cpuUsage();
    const s = now();
    for (let i = 0; i < inner; i++) await run();
    samples.push((now() - s) / inner);
    cpu.push(cpuMs(c) / inner);
  }
  return {
    medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples),
    cpuMedianMs: median(cpu), repeats: samples.length, callsPerRepeat: inner,
  };
}
