import { existsSync } from "node:fs";
import type { Command } from "commander";
import { ValueError } from "../core/errors.js";
import { MNIST_PIXELS, mnistSplit, subset } from "../data/mnist.js";
import { mnistModel } from "../nn/models.js";
import type { Sequential } from "../nn/layers.js";
import { softmax } from "../nn/activations.js";
import { loadSafetensors } from "../io/safetensors-file.js";
import { upgradeStateDict } from "../io/model-bytes.js";
import type { Output } from "./train-command.js";

/** The options of `chainrule predict`. */
export interface PredictCommandOptions {
  index: string;
  json?: boolean;
}

/** What `predict` found for one held-out digit. */
export interface Prediction {
  index: number;
  label: number;
  predicted: number;
  probabilities: number[];
}

const RAMP = " .:-=+*#%@";

/** A 28×28 image (pixels in [0, 1]) as 28 lines of text, two characters per pixel so it is not squashed. */
export function asciiDigit(pixels: ArrayLike<number>): string {
  const lines: string[] = [];
  for (let r = 0; r < 28; r++) {
    let line = "";
    for (let c = 0; c < 28; c++) {
      const v = Math.min(1, Math.max(0, pixels[r * 28 + c]!));
      const ch = RAMP[Math.min(RAMP.length - 1, Math.floor(v * RAMP.length))]!;
      line += ch + ch;
    }
    lines.push(line.trimEnd());
  }
  return lines.join("\n");
}

function need(op: string, meta: Record<string, string>, key: string, path: string): string {
  const v = meta[key];
  if (v === undefined) throw new ValueError(`${op}: ${path} has no "${key}" in its metadata; it was not written by chainrule train`);
  return v;
}

/** An MNIST model file written by `chainrule train mnist --out`: the model (in eval mode, weights loaded) and the split it was trained on. */
export interface MnistModelFile {
  readonly model: Sequential;
  readonly kind: "mlp" | "cnn";
  readonly seed: number;
  readonly trainSize: number;
  readonly testSize: number;
}

/**
 * Rebuilds the model recorded in a file's metadata and loads its weights (used by predict and export).
 * @throws ValueError (exit status 2) naming `op` and the file for a missing, foreign or mismatched model file;
 *   ParseError for a corrupt one
 */
export function loadMnistModelFile(op: string, path: string): MnistModelFile {
  if (!existsSync(path)) {
    throw new ValueError(`${op}: ${path} does not exist; train and save a model first, e.g. chainrule train mnist --model cnn --out ${path}`);
  }
  const { tensors, metadata } = loadSafetensors(path);
  if (need(op, metadata, "dataset", path) !== "mnist") throw new ValueError(`${op}: ${path} is a model for "${metadata.dataset}", expected mnist`);
  const kind = need(op, metadata, "model", path);
  if (kind !== "mlp" && kind !== "cnn") throw new ValueError(`${op}: ${path} has unknown model "${kind}"`);
  const seed = Number(need(op, metadata, "seed", path));
  const model = mnistModel(kind, { hidden: Number(metadata.hidden ?? 256), seed }).eval();
  try {
    model.loadStateDict(upgradeStateDict(tensors, metadata, model));
  } catch (e) {
    throw new ValueError(`${op}: ${path} does not match a ${kind} model: ${(e as Error).message}`);
  }
  return { model, kind, seed, trainSize: Number(metadata.trainSize ?? 8000), testSize: Number(metadata.testSize ?? 2000) };
}

/**
 * `chainrule predict model.safetensors --index 17`: rebuilds the model recorded in the file's metadata,
 * loads its weights, and classifies held-out digit `index` of the same seeded split used in training.
 * @throws ValueError (exit status 2) for an unreadable or foreign model file or an index out of range;
 *   ParseError (exit status 2) for a corrupt file
 */
export function runPredict(path: string, opts: PredictCommandOptions, out: Output): Prediction {
  const { model, seed, trainSize, testSize } = loadMnistModelFile("predict", path);
  const index = Number(opts.index);
  if (!/^\d+$/.test(opts.index.trim()) || index >= testSize) {
    throw new ValueError(`predict: --index must be an integer in [0, ${testSize - 1}] (a held-out digit), got "${opts.index}"`);
  }
  const { test } = mnistSplit({ seed, train: trainSize, test: testSize });
  const one = subset(test, [index]);
  const probs = Array.from(softmax(model.apply(model.stateDict(), one.images)).data);
  const predicted = probs.indexOf(Math.max(...probs));
  const label = one.labels.data[0]!;
  const result: Prediction = { index, label, predicted, probabilities: probs };
  if (opts.json) {
    out.write(JSON.stringify(result) + "\n");
  } else {
    const verdict = predicted === label ? "correct" : "wrong";
    out.write(`held-out digit ${index}: predicted ${predicted} (p = ${probs[predicted]!.toFixed(3)}), true label ${label}: ${verdict}\n`);
    out.write(asciiDigit(one.images.data.subarray(0, MNIST_PIXELS)) + "\n");
  }
  return result;
}

/** Adds `predict` to the program. */
export function registerPredictCommand(program: Command): void {
  program
    .command("predict")
    .description("classify one held-out MNIST digit with a model saved by `train --out`, and draw it")
    .argument("<model>", "a .safetensors file written by chainrule train")
    .option("--index <n>", "which of the held-out digits (0-based)", "0")
    .option("--json", "print {\"index\",\"label\",\"predicted\",\"probabilities\"} only")
    .action((path: string, opts: PredictCommandOptions) => {
      runPredict(path, opts, { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true });
    });
}
