import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { charExamples, decodeName, encodeName, namesSplit, NAMES_END, NAMES_MAX_LENGTH, NAMES_VOCAB, type CharExamples } from "../data/names.js";
import { Bigram, fitBigram } from "../nn/bigram.js";
import { CharMLP } from "../nn/char-mlp.js";
import { charNLL, sampleSequences, trainCharModel, type CharEpochStats } from "../nn/char-lm.js";
import type { Module } from "../nn/module.js";
import { adam } from "../optim/rules.js";
import { cosineDecay } from "../optim/schedules.js";
import { loadModule, loadSafetensors, saveModule } from "../io/index.js";
import { checkWritable, writeError } from "./output-file.js";
import type { Output } from "./train-command.js";

// `chainrule train names` and `chainrule sample`: character-level language models of English first names.

/** The options of `chainrule train names`, as commander hands them over (strings until checked). */
export interface TrainNamesOptions {
  model: string;
  epochs: string;
  batch: string;
  lr: string;
  context: string;
  embedding: string;
  hidden: string;
  seed: string;
  out?: string;
  json?: boolean;
}

/** The final numbers of a `train names` run. */
export interface TrainNamesSummary {
  model: "bigram" | "mlp";
  /** NLL per character (nats) of the trained model on the training and test names. */
  trainNLL: number;
  testNLL: number;
  /** The count-based bigram's NLL per character on the same sets, for comparison. */
  bigramTrainNLL: number;
  bigramTestNLL: number;
  epochs: number;
  seconds: number;
  history: CharEpochStats[];
}

const MODELS = ["bigram", "mlp"] as const;
type NamesModel = (typeof MODELS)[number];

function int(op: string, flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new ValueError(`${op}: ${flag} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}

function positive(op: string, flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new ValueError(`${op}: ${flag} must be a positive number, got "${v}"`);
  return n;
}

const nats = (v: number): string => v.toFixed(4);

/**
 * `chainrule train names`: fits the count-based bigram (always, as the baseline) and, for `--model mlp`,
 * trains Bengio et al.'s MLP on the seeded 90/10 split of the names, reporting the NLL per character in
 * nats on the training and test names after every epoch.
 * @throws ValueError (exit status 2) for an unknown model, non-positive sizes or rates, an --out path that
 *   cannot be written (checked before training), or a missing names package
 */
export async function runTrainNames(opts: TrainNamesOptions, out: Output): Promise<TrainNamesSummary> {
  const op = "train names";
  if (!(MODELS as readonly string[]).includes(opts.model)) throw new ValueError(`${op}: unknown model "${opts.model}"; expected ${MODELS.join(" or ")}`);
  const kind = opts.model as NamesModel;
  const epochs = int(op, "--epochs", opts.epochs, 1);
  const batch = int(op, "--batch", opts.batch, 1);
  const context = int(op, "--context", opts.context, 1);
  const embedding = int(op, "--embedding", opts.embedding, 1);
  const hidden = int(op, "--hidden", opts.hidden, 1);
  const seed = int(op, "--seed", opts.seed, 0);
  const lr = positive(op, "--lr", opts.lr);
  if (opts.out !== undefined) checkWritable(`${op}: --out`, opts.out);

  const start = performance.now();
  const split = await namesSplit({ seed });
  const bigram = fitBigram(split.train.map(encodeName), NAMES_VOCAB, NAMES_END);
  const pairs = { train: charExamples(split.train, 1), test: charExamples(split.test, 1) };
  const bigramTrainNLL = charNLL(bigram, pairs.train), bigramTestNLL = charNLL(bigram, pairs.test);
  const quiet = opts.json === true;
  const say = (s: string): void => { if (!quiet) out.write(s); };
  say(`${split.train.length} training / ${split.test.length} test names (seed ${seed}); ${pairs.train.count} / ${pairs.test.count} characters to predict, end marker included\n`);
  say(`bigram (counts, add-one smoothing): train NLL ${nats(bigramTrainNLL)}, test NLL ${nats(bigramTestNLL)} nats per character\n`);

  let model: Module = bigram;
  let history: CharEpochStats[] = [];
  let trainNLL = bigramTrainNLL, testNLL = bigramTestNLL, usedEpochs = 0;
  if (kind === "mlp") {
    const data: { train: CharExamples; test: CharExamples } = { train: charExamples(split.train, context), test: charExamples(split.test, context) };
    const mlp = new CharMLP({ vocab: NAMES_VOCAB, context, embedding, hidden, rng: new Rng(seed) });
    model = mlp;
    const steps = epochs * Math.ceil(data.train.count / batch);
    say(`MLP (Bengio et al. 2003): context ${context}, embedding ${embedding}, hidden ${hidden} (tanh); ${mlp.numParameters().toLocaleString("en-US")} parameters; `
      + `Adam lr ${lr} with cosine decay to ${lr / 10}, batch ${batch}, ${epochs} epochs\n`);
    const bar = !quiet && out.isTTY
      ? new cliProgress.SingleBar({ format: "epoch {epoch} [{bar}] {value}/{total} batches, loss {loss}", clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    const width = String(epochs).length;
    try {
      history = trainCharModel(mlp, data, {
        epochs,
        batchSize: batch,
        optimizer: adam({ lr: cosineDecay(lr, steps, { minLr: lr / 10 }) }),
        seed,
        onBatch: ({ epoch, batch: b, batches, loss }) => {
          if (!bar) return;
          if (b === 1) bar.start(batches, 0, { epoch: `${epoch}/${epochs}`, loss: "…" });
          if (b % 10 === 0 || b === batches) bar.update(b, { loss: loss.toFixed(4) });
        },
        onEpoch: (s) => {
          bar?.stop();
          say(`epoch ${String(s.epoch).padStart(width)}/${epochs}  train NLL ${nats(s.trainNLL)}  test NLL ${nats(s.testNLL)}  ${s.seconds.toFixed(1)}s\n`);
        },
      });
    } finally {
      bar?.stop();
    }
    const last = history[history.length - 1]!;
    trainNLL = last.trainNLL;
    testNLL = last.testNLL;
    usedEpochs = epochs;
  }
  const summary: TrainNamesSummary = {
    model: kind, trainNLL, testNLL, bigramTrainNLL, bigramTestNLL, epochs: usedEpochs,
    seconds: Number(((performance.now() - start) / 1000).toFixed(2)), history,
  };
  if (opts.out !== undefined) {
    const meta: Record<string, string> = {
      task: "names", model: kind, vocab: String(NAMES_VOCAB), seed: String(seed),
      trainNames: String(split.train.length), testNames: String(split.test.length),
      trainNLL: String(trainNLL), testNLL: String(testNLL),
    };
    if (kind === "mlp") Object.assign(meta, { context: String(context), embedding: String(embedding), hidden: String(hidden), epochs: String(epochs) });
    try {
      saveModule(opts.out, model, meta);
    } catch (e) {
      throw writeError(`${op}: --out`, opts.out, e);
    }
    say(`saved ${opts.out}\n`);
  }
  if (quiet) {
    const { history: h, ...rest } = summary;
    out.write(JSON.stringify({ ...rest, history: h.map(({ epoch, trainNLL: a, testNLL: b }) => ({ epoch, trainNLL: a, testNLL: b })) }) + "\n");
  } else if (kind === "mlp") {
    out.write(`test NLL ${nats(testNLL)} nats per character (bigram ${nats(bigramTestNLL)}, ${nats(bigramTestNLL - testNLL)} better) after ${epochs} epoch${epochs === 1 ? "" : "s"}, ${summary.seconds.toFixed(1)}s in total\n`);
  }
  return summary;
}

/** The options of `chainrule sample`. */
export interface SampleCommandOptions {
  n: string;
  temperature: string;
  seed: string;
}

/** One generated name and whether it is one of the training names. */
export interface SampledName {
  name: string;
  inTraining: boolean;
}

/** A metadata field that must be a positive integer no larger than `max` (files may be foreign or edited). */
function metaInt(meta: Record<string, string>, key: string, path: string, max: number): number {
  const v = meta[key];
  const n = Number(v);
  if (v === undefined || !/^\d+$/.test(v) || n < 1 || n > max) {
    throw new ValueError(`sample: ${path} has ${v === undefined ? `no "${key}"` : `"${key}" = ${JSON.stringify(v)}`} in its metadata; expected an integer in 1..${max} as chainrule train names writes`);
  }
  return n;
}

/** The model a `train names` file holds, rebuilt from its metadata and loaded. */
function loadNamesModel(path: string): { model: Module; context: number; seed: number } {
  const { metadata } = loadSafetensors(path);
  if (metadata.task !== "names") {
    const what = metadata.dataset !== undefined
      ? `a ${metadata.model ?? "model"} for the ${metadata.dataset} dataset`
      : metadata.task !== undefined ? `a model for the task "${metadata.task}"` : "no chainrule names model (its metadata has no task)";
    throw new ValueError(`sample: ${path} holds ${what}, not a names model; make one with chainrule train names --out FILE`);
  }
  const kind = metadata.model;
  const vocab = metaInt(metadata, "vocab", path, 1000);
  if (vocab !== NAMES_VOCAB) throw new ValueError(`sample: ${path} has a vocabulary of ${vocab} tokens; expected ${NAMES_VOCAB} (end marker and a–z)`);
  const seed = Number(metadata.seed ?? "0");
  let model: Module, context: number;
  if (kind === "bigram") {
    model = new Bigram(vocab);
    context = 1;
  } else if (kind === "mlp") {
    context = metaInt(metadata, "context", path, 1024);
    model = new CharMLP({ vocab, context, embedding: metaInt(metadata, "embedding", path, 65536), hidden: metaInt(metadata, "hidden", path, 65536) });
  } else {
    throw new ValueError(`sample: ${path} holds a names model of unknown kind ${JSON.stringify(kind)}; expected bigram or mlp`);
  }
  loadModule(path, model);
  return { model, context, seed: Number.isSafeInteger(seed) ? seed : 0 };
}

/**
 * `chainrule sample model.safetensors -n 20`: draws new names from a model saved by `train names --out`,
 * marking those that are training names (the split is recomputed from the seed in the file).
 * @throws ValueError (exit status 2) for a file that is not a names model (naming the file and what it
 *   holds), a non-positive count, a temperature ≤ 0 or a bad seed; ParseError for a corrupt file
 */
export async function runSample(path: string, opts: SampleCommandOptions, out: Output): Promise<SampledName[]> {
  const count = int("sample", "-n", opts.n, 1);
  const temperature = positive("sample", "--temperature", opts.temperature);
  const seed = int("sample", "--seed", opts.seed, 0);
  const { model, context, seed: splitSeed } = loadNamesModel(path);
  const seqs = sampleSequences(model, { count, blockSize: context, end: NAMES_END, maxLength: NAMES_MAX_LENGTH, temperature, rng: new Rng(seed) });
  const training = new Set((await namesSplit({ seed: splitSeed })).train);
  const names = seqs.map((s) => {
    const name = decodeName(s);
    return { name, inTraining: training.has(name) };
  });
  const width = Math.max(...names.map((n) => n.name.length), 1);
  for (const n of names) out.write(n.inTraining ? `${n.name.padEnd(width)}  (a training name)\n` : `${n.name}\n`);
  const known = names.filter((n) => n.inTraining).length;
  out.write(`${count - known} of ${count} are not among the ${training.size} training names\n`);
  return names;
}

/**
 * Adds `train names` (as a subcommand of the existing `train`) and `sample` to the program; call after
 * `registerTrainCommands`.
 */
export function registerNamesCommands(program: Command): void {
  const train = program.commands.find((c) => c.name() === "train");
  if (train === undefined) throw new Error("registerNamesCommands: register the train command first");
  // `train names --model bigram`: train's own options (it has --model, --out, … too) must not swallow those
  // after the subcommand's name. Commander hands a command the arguments its parent did not parse as one
  // list, options first, so both the program and train must stop parsing at their subcommand.
  program.enablePositionalOptions();
  train.enablePositionalOptions();
  const stdout: Output = { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true };
  train
    .command("names")
    .description("character-level language model of 8,403 English first names (seeded 90/10 split); reports NLL per character in nats")
    .addOption(new Option("--model <model>", "bigram (counts) or mlp (Bengio et al. 2003)").default("mlp"))
    .option("--epochs <n>", "passes over the training names (mlp)", "10")
    .option("--batch <n>", "mini-batch size (mlp)", "128")
    .option("--lr <rate>", "Adam's initial learning rate, cosine-decayed to a tenth (mlp)", "0.01")
    .option("--context <n>", "characters of context (mlp)", "3")
    .option("--embedding <n>", "embedding size (mlp)", "16")
    .option("--hidden <n>", "hidden units (mlp)", "128")
    .option("--seed <n>", "seed of the split, the initial weights and the shuffles", "0")
    .option("--out <file>", "save the model (safetensors) for chainrule sample")
    .option("--json", "print only the final numbers as JSON")
    .action(async (opts: TrainNamesOptions) => {
      await runTrainNames(opts, stdout);
    });
  program
    .command("sample")
    .description("generate new names with a model saved by train names --out, marking training names")
    .argument("<model>", "a .safetensors file written by chainrule train names")
    .option("-n <count>", "how many names", "20")
    .option("--temperature <t>", "softmax temperature > 0 (lower: likelier names)", "1")
    .option("--seed <n>", "seed of the draws", "0")
    .action(async (path: string, opts: SampleCommandOptions) => {
      await runSample(path, opts, stdout);
    });
}
