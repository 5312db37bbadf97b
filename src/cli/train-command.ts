import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { ValueError } from "../core/errors.js";
import { mnistSplit } from "../data/mnist.js";
import { mnistModel } from "../nn/models.js";
import { trainClassifier, type EpochStats, type TrainOptions } from "../nn/train.js";
import { trainClassifierOnDevice } from "../nn/train-device.js";
import { initWebGPU, type WebGPUDevice } from "../kernels/webgpu/index.js";
import { adam, sgd } from "../optim/rules.js";
import { saveModule } from "../io/model-file.js";
import { curvesSvg } from "./train-plot.js";
import { checkSvgName, checkWritable, writeError } from "./output-file.js";
import { registerPredictCommand } from "./predict-command.js";

/** The options of `chainrule train`, as commander hands them over (strings until checked). */
export interface TrainCommandOptions {
  model: string;
  epochs: string;
  batch: string;
  lr?: string;
  optimizer: string;
  hidden: string;
  seed: string;
  out?: string;
  plot?: string;
  json?: boolean;
  device?: string;
  /** Digits to train on (default 8000): a smaller number makes a quick run, e.g. to check a device works. */
  trainSize?: string;
  /** Digits to test on (default 2000). */
  testSize?: string;
}

/** The final numbers of a run (what `--json` prints, plus the per-epoch history). */
export interface TrainSummary {
  testAccuracy: number;
  trainLoss: number;
  epochs: number;
  seconds: number;
  history: EpochStats[];
}

/** Where the command writes; `isTTY` decides whether a progress bar is drawn. */
export interface Output {
  write(s: string): void;
  isTTY: boolean;
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new ValueError(`train: --${name} must be an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new ValueError(`train: --${name} must be a positive number, got "${v}"`);
  return n;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/**
 * `chainrule train mnist`: trains the MLP or CNN on the seeded 8,000/2,000 split, printing one line per
 * epoch (with a progress bar on a terminal), optionally saving the model and an SVG of the curves.
 * @param sizes training/test set sizes (for tests; the CLI takes them from --train-size/--test-size, 8000/2000 by default)
 * @throws ValueError (exit status 2 in the CLI) for an unknown dataset or model, bad numbers, an --out or
 *   --plot path that cannot be written (checked before training), or a write that fails at the end
 */
export async function runTrain(dataset: string, opts: TrainCommandOptions, out: Output, sizes: { train?: number; test?: number } = {}): Promise<TrainSummary> {
  if (dataset !== "mnist") throw new ValueError(`train: unknown dataset "${dataset}"; expected mnist`);
  if (opts.model !== "mlp" && opts.model !== "cnn") throw new ValueError(`train: unknown model "${opts.model}"; expected mlp or cnn`);
  if (opts.optimizer !== "adam" && opts.optimizer !== "sgd") throw new ValueError(`train: unknown optimizer "${opts.optimizer}"; expected adam or sgd`);
  const epochs = int("epochs", opts.epochs, 1);
  const batch = int("batch", opts.batch, 1);
  const hidden = int("hidden", opts.hidden, 1);
  const seed = int("seed", opts.seed, 0);
  // Explicit arguments (tests) win over the options; mnistSplit checks that the two fit in the 10,000 digits.
  const split = {
    ...(opts.trainSize !== undefined ? { train: int("train-size", opts.trainSize, 1) } : {}),
    ...(opts.testSize !== undefined ? { test: int("test-size", opts.testSize, 1) } : {}),
    ...sizes,
  };
  const device = opts.device ?? "cpu";
  if (device !== "cpu" && device !== "webgpu") throw new ValueError(`train: unknown device "${device}"; expected cpu or webgpu`);
  const lr = opts.lr === undefined ? (opts.optimizer === "adam" ? 1e-3 : 0.05) : positive("lr", opts.lr);
  const optimizer = opts.optimizer === "adam" ? adam({ lr }) : sgd({ lr, momentum: 0.9 });
  // Before training: a bad path must not cost a whole run.
  if (opts.out !== undefined) checkWritable("train: --out", opts.out);
  if (opts.plot !== undefined) {
    checkSvgName("train: --plot", opts.plot);
    checkWritable("train: --plot", opts.plot);
  }

  const start = performance.now();
  const data = mnistSplit({ seed, ...split });
  const model = mnistModel(opts.model, { hidden, seed });
  const quiet = opts.json === true;
  if (!quiet) {
    const arch = opts.model === "mlp" ? `MLP 784-${hidden}-10` : "CNN conv5×5×16 → pool → conv5×5×32 → pool → dropout 0.25 → linear";
    out.write(`${arch}, ${model.numParameters().toLocaleString("en-US")} parameters; ${opts.optimizer} lr ${lr}, batch ${batch}, seed ${seed}; `
      + `${data.train.labels.size} training / ${data.test.labels.size} test digits\n`);
  }
  const bar = !quiet && out.isTTY
    ? new cliProgress.SingleBar({ format: "epoch {epoch} [{bar}] {value}/{total} batches, loss {loss}", clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  const width = String(epochs).length;
  let history: EpochStats[];
  // On webgpu the same loop runs with parameters and images on the GPU (trainClassifierOnDevice).
  let gpu: WebGPUDevice | null = null;
  if (device === "webgpu") {
    gpu = await initWebGPU();
    if (!quiet) out.write(`device webgpu: ${gpu.adapter}\n`);
  }
  const train = (o: TrainOptions): Promise<EpochStats[]> => (gpu !== null ? trainClassifierOnDevice(model, data, o) : Promise.resolve(trainClassifier(model, data, o)));
  try {
    history = await train({
      epochs,
      batchSize: batch,
      optimizer,
      seed,
      onBatch: ({ epoch, batch: b, batches, loss }) => {
        if (!bar) return;
        if (b === 1) bar.start(batches, 0, { epoch: `${epoch}/${epochs}`, loss: "…" });
        bar.update(b, { loss: loss.toFixed(4) });
      },
      onEpoch: (s) => {
        bar?.stop();
        if (quiet) return;
        out.write(`epoch ${String(s.epoch).padStart(width)}/${epochs}  train loss ${s.trainLoss.toFixed(4)}  train acc ${pct(s.trainAccuracy)}  `
          + `test acc ${pct(s.testAccuracy)}  ${s.seconds.toFixed(1)}s\n`);
      },
    });
  } finally {
    bar?.stop();
    gpu?.release();
  }
  const last = history[history.length - 1]!;
  const summary: TrainSummary = {
    testAccuracy: last.testAccuracy,
    trainLoss: last.trainLoss,
    epochs,
    seconds: Number(((performance.now() - start) / 1000).toFixed(2)),
    history,
  };
  if (opts.out) {
    try {
      saveModule(opts.out, model, {
        dataset: "mnist", model: opts.model, hidden: String(hidden), seed: String(seed),
        trainSize: String(data.train.labels.size), testSize: String(data.test.labels.size),
        epochs: String(epochs), testAccuracy: String(last.testAccuracy),
      });
    } catch (e) {
      throw writeError("train: --out", opts.out, e);
    }
    if (!quiet) out.write(`saved ${opts.out}\n`);
  } else if (!quiet) {
    out.write(`the model was not saved: add --out ${opts.model}.safetensors to keep it for chainrule predict\n`);
  }
  if (opts.plot) {
    const svg = await curvesSvg(history, `MNIST ${opts.model.toUpperCase()}, seed ${seed}`);
    try {
      writeFileSync(opts.plot, svg);
    } catch (e) {
      throw writeError("train: --plot", opts.plot, e);
    }
    if (!quiet) out.write(`wrote ${opts.plot}\n`);
  }
  if (quiet) {
    out.write(JSON.stringify({ testAccuracy: summary.testAccuracy, trainLoss: summary.trainLoss, epochs: summary.epochs, seconds: summary.seconds }) + "\n");
  } else {
    out.write(`test accuracy ${pct(summary.testAccuracy)} after ${epochs} epoch${epochs === 1 ? "" : "s"}, ${summary.seconds.toFixed(1)}s in total\n`);
  }
  return summary;
}

/** Adds `train` and `predict` to the program (called once by `main`). */
export function registerTrainCommands(program: Command): void {
  program
    .command("train")
    .description("train a classifier on a dataset (mnist: the 10,000 digits of the mnist package, seeded 8,000/2,000 split)")
    .argument("<dataset>", "mnist")
    .addOption(new Option("--model <model>", "mlp (784-hidden-10) or cnn (two 5×5 conv + max-pool layers, dropout, linear)").default("mlp"))
    .option("--epochs <n>", "passes over the training set", "10")
    .option("--batch <n>", "mini-batch size", "128")
    .option("--lr <rate>", "learning rate (default 1e-3 for adam, 0.05 for sgd with momentum 0.9)")
    .addOption(new Option("--optimizer <name>", "adam or sgd (with momentum 0.9)").default("adam"))
    .option("--hidden <n>", "hidden units of the MLP", "256")
    .option("--seed <n>", "seed of the split, the initial weights and the shuffles", "0")
    .option("--train-size <n>", "train on the first n digits of the seeded split (default 8000; train + test ≤ 10000): a quick run, e.g. to check a device")
    .option("--test-size <n>", "test on n digits (default 2000)")
    .option("--out <file>", "save the trained model (safetensors)")
    .option("--plot <file>", "write loss and accuracy curves as SVG")
    .option("--json", "print only {\"testAccuracy\",\"trainLoss\",\"epochs\",\"seconds\"} at the end")
    .addOption(new Option("--device <device>", "cpu, or webgpu (the GPU through WebGPU: needs the webgpu package in Node)").default("cpu"))
    .action(async (dataset: string, opts: TrainCommandOptions) => {
      await runTrain(dataset, opts, { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true });
    });
  registerPredictCommand(program);
}
