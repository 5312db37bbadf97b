import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";
import { charExamples, charSequences, decodeName, encodeName, namesSplit, NAMES_END, NAMES_MAX_LENGTH, NAMES_VOCAB } from "../data/names.js";
import { Bigram, fitBigram } from "../nn/bigram.js";
import { CharMLP } from "../nn/char-mlp.js";
import { CharTransformer } from "../nn/char-transformer.js";
import { CharGRU } from "../nn/char-gru.js";
import { charNLL, sampleSequences, trainCharModel, type CharData, type CharEpochStats } from "../nn/char-lm.js";
import type { Module } from "../nn/module.js";
import { adam, adamw } from "../optim/rules.js";
import { cosineDecay } from "../optim/schedules.js";
import { loadModule, loadSafetensors, saveModule } from "../io/index.js";
import { checkSvgName, checkWritable, writeError } from "./output-file.js";
import { nllCurvesSvg } from "./train-plot.js";
import type { Output } from "./train-command.js";

// `chainrule train names` and `chainrule sample`: character-level language models of English first names.

/**
 * The options of `chainrule train names`, as commander hands them over (strings until checked). Sizes and
 * rates left out take the chosen model's defaults (`NAMES_DEFAULTS`).
 */
export interface TrainNamesOptions {
  model: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  context?: string;
  embedding?: string;
  hidden?: string;
  heads?: string;
  layers?: string;
  feedforward?: string;
  warmup?: string;
  clip?: string;
  weightDecay?: string;
  seed: string;
  out?: string;
  /** Write the train and test NLL per epoch as an SVG chart (learned models). */
  plot?: string;
  /** Write the split as JSON ({seed, train, test}) for tools/pytorch-names.py. */
  saveSplit?: string;
  json?: boolean;
}

/** The final numbers of a `train names` run. */
export interface TrainNamesSummary {
  model: NamesModel;
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

const MODELS = ["bigram", "mlp", "gru", "transformer"] as const;
/** The models `train names --model` accepts. */
export type NamesModel = (typeof MODELS)[number];

/** Training settings of one learned model; the CLI flags override them. */
export interface NamesHyperparameters {
  epochs: number;
  /** Windows (mlp) or names (gru, transformer) per batch. */
  batch: number;
  /** Peak learning rate; cosine-decayed to a tenth. */
  lr: number;
  context: number;
  embedding: number;
  hidden: number;
  heads: number;
  layers: number;
  feedforward: number;
  /** Updates of linear warm-up before the cosine decay (0: none). */
  warmup: number;
  /** Total gradient norm cap (0: no clipping). */
  clip: number;
  /** AdamW's decoupled weight decay (the mlp and gru use Adam without decay). */
  weightDecay: number;
}

/**
 * The defaults of `train names` for each learned model, sized for two cores: the mlp takes about 5 s of CPU,
 * the transformer (3 epochs) about 40 s and the gru about 32 s (measured under load; see the README).
 * mlp: Bengio et al. (2003) with 3 characters of context, embedding 16, hidden 128, Adam. transformer:
 * context 16 (the longest name and its end marker), width 64, 4 heads, 2 blocks, feed-forward 256, AdamW
 * with warm-up and cosine decay, gradient clipping at 1.0. gru (not specified by the issue): embedding 16, one
 * GRU layer of 128, Adam with cosine decay, clipping at 1.0. tools/pytorch-names.py trains PyTorch's twins
 * with these same numbers.
 */
export const NAMES_DEFAULTS: Record<Exclude<NamesModel, "bigram">, NamesHyperparameters> = {
  mlp: { epochs: 10, batch: 128, lr: 0.01, context: 3, embedding: 16, hidden: 128, heads: 0, layers: 0, feedforward: 0, warmup: 0, clip: 0, weightDecay: 0 },
  gru: { epochs: 4, batch: 32, lr: 0.01, context: 16, embedding: 16, hidden: 128, heads: 0, layers: 1, feedforward: 0, warmup: 0, clip: 1, weightDecay: 0 },
  transformer: { epochs: 3, batch: 32, lr: 0.003, context: 16, embedding: 64, hidden: 0, heads: 4, layers: 2, feedforward: 256, warmup: 100, clip: 1, weightDecay: 0.01 },
};

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

function nonNegative(op: string, flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) throw new ValueError(`${op}: ${flag} must be a number ≥ 0, got "${v}"`);
  return n;
}

/** The model's defaults with the flags given on the command line, each checked. */
function hyperparameters(op: string, kind: Exclude<NamesModel, "bigram">, o: TrainNamesOptions): NamesHyperparameters {
  const d = NAMES_DEFAULTS[kind];
  const i = (flag: string, v: string | undefined, fallback: number, min = 1): number => (v === undefined ? fallback : int(op, flag, v, min));
  const h: NamesHyperparameters = {
    epochs: i("--epochs", o.epochs, d.epochs),
    batch: i("--batch", o.batch, d.batch),
    lr: o.lr === undefined ? d.lr : positive(op, "--lr", o.lr),
    context: i("--context", o.context, d.context),
    embedding: i("--embedding", o.embedding, d.embedding),
    hidden: i("--hidden", o.hidden, d.hidden),
    heads: i("--heads", o.heads, d.heads),
    layers: i("--layers", o.layers, d.layers),
    feedforward: i("--feedforward", o.feedforward, d.feedforward),
    warmup: i("--warmup", o.warmup, d.warmup, 0),
    clip: o.clip === undefined ? d.clip : nonNegative(op, "--clip", o.clip),
    weightDecay: o.weightDecay === undefined ? d.weightDecay : nonNegative(op, "--weight-decay", o.weightDecay),
  };
  if (kind !== "mlp" && h.context < NAMES_MAX_LENGTH + 1) {
    throw new ValueError(`${op}: --context must be at least ${NAMES_MAX_LENGTH + 1} for the ${kind} (the longest name, ${NAMES_MAX_LENGTH} letters, and its end marker), got ${h.context}`);
  }
  if (kind === "transformer") {
    if (h.embedding % h.heads !== 0) throw new ValueError(`${op}: --embedding ${h.embedding} must be divisible by --heads ${h.heads}`);
  }
  return h;
}

/** A fresh model of the given kind and sizes. */
function buildModel(kind: Exclude<NamesModel, "bigram">, h: NamesHyperparameters, rng: Rng): Module {
  if (kind === "mlp") return new CharMLP({ vocab: NAMES_VOCAB, context: h.context, embedding: h.embedding, hidden: h.hidden, rng });
  if (kind === "gru") return new CharGRU({ vocab: NAMES_VOCAB, embedding: h.embedding, hidden: h.hidden, layers: h.layers, rng });
  return new CharTransformer({ vocab: NAMES_VOCAB, context: h.context, embedding: h.embedding, heads: h.heads, layers: h.layers, feedforward: h.feedforward, rng });
}

/** One line naming the model and its training settings. */
function describeRun(kind: Exclude<NamesModel, "bigram">, h: NamesHyperparameters, params: number): string {
  const size = `${params.toLocaleString("en-US")} parameters`;
  const decay = `cosine decay to ${Number((h.lr / 10).toPrecision(6))}${h.warmup > 0 ? ` after ${h.warmup} warm-up steps` : ""}`;
  const clip = h.clip > 0 ? `, gradients clipped at norm ${h.clip}` : "";
  if (kind === "mlp") {
    return `MLP (Bengio et al. 2003): context ${h.context}, embedding ${h.embedding}, hidden ${h.hidden} (tanh); ${size}; Adam lr ${h.lr} with ${decay}${clip}, batch ${h.batch}, ${h.epochs} epoch${h.epochs === 1 ? "" : "s"}`;
  }
  if (kind === "gru") {
    return `GRU: embedding ${h.embedding}, ${h.layers} layer${h.layers === 1 ? "" : "s"} of ${h.hidden}; ${size}; Adam lr ${h.lr} with ${decay}${clip}, batch ${h.batch} names, ${h.epochs} epoch${h.epochs === 1 ? "" : "s"}`;
  }
  return `transformer: context ${h.context}, embedding ${h.embedding}, ${h.heads} heads, ${h.layers} pre-norm blocks, feed-forward ${h.feedforward} (GELU); ${size}; `
    + `AdamW lr ${h.lr} (weight decay ${h.weightDecay}) with ${decay}${clip}, batch ${h.batch} names, ${h.epochs} epoch${h.epochs === 1 ? "" : "s"}`;
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
  if (!(MODELS as readonly string[]).includes(opts.model)) throw new ValueError(`${op}: unknown model "${opts.model}"; expected ${MODELS.slice(0, -1).join(", ")} or ${MODELS[MODELS.length - 1]}`);
  const kind = opts.model as NamesModel;
  const seed = int(op, "--seed", opts.seed, 0);
  const h = kind === "bigram" ? null : hyperparameters(op, kind, opts);
  if (opts.out !== undefined) checkWritable(`${op}: --out`, opts.out);
  if (opts.saveSplit !== undefined) checkWritable(`${op}: --save-split`, opts.saveSplit);
  if (opts.plot !== undefined) {
    if (kind === "bigram") throw new ValueError(`${op}: --plot draws the NLL per epoch of a trained model; the bigram is counted, not trained (use --model mlp, gru or transformer)`);
    checkSvgName(`${op}: --plot`, opts.plot);
    checkWritable(`${op}: --plot`, opts.plot);
  }

  const start = performance.now();
  const split = await namesSplit({ seed });
  if (opts.saveSplit !== undefined) {
    try {
      writeFileSync(opts.saveSplit, JSON.stringify({ seed, train: split.train, test: split.test }) + "\n");
    } catch (e) {
      throw writeError(`${op}: --save-split`, opts.saveSplit, e);
    }
  }
  // Checked before any output: a run that cannot start must not look started.
  const rows = kind === "mlp" ? split.train.reduce((n, name) => n + name.length + 1, 0) : split.train.length;
  const steps = h === null ? 0 : h.epochs * Math.ceil(rows / h.batch);
  if (h !== null && h.warmup >= steps) throw new ValueError(`${op}: --warmup ${h.warmup} must be less than the ${steps} updates of the run`);
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
  if (kind !== "bigram" && h !== null) {
    const { epochs, batch, lr } = h;
    const data: { train: CharData; test: CharData } = kind === "mlp"
      ? { train: charExamples(split.train, h.context), test: charExamples(split.test, h.context) }
      : { train: charSequences(split.train, h.context), test: charSequences(split.test, h.context) };
    model = buildModel(kind, h, new Rng(seed));
    say(describeRun(kind, h, model.numParameters()) + "\n");
    const schedule = cosineDecay(lr, steps, { minLr: lr / 10, warmupSteps: h.warmup });
    const bar = !quiet && out.isTTY
      ? new cliProgress.SingleBar({ format: "epoch {epoch} [{bar}] {value}/{total} batches, loss {loss}", clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    const width = String(epochs).length;
    try {
      history = trainCharModel(model, data, {
        epochs,
        batchSize: batch,
        optimizer: kind === "transformer" ? adamw({ lr: schedule, weightDecay: h.weightDecay }) : adam({ lr: schedule }),
        clipNorm: h.clip > 0 ? h.clip : undefined,
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
    if (kind === "mlp" && h !== null) Object.assign(meta, { context: String(h.context), embedding: String(h.embedding), hidden: String(h.hidden), epochs: String(h.epochs) });
    if (kind === "gru" && h !== null) Object.assign(meta, { context: String(h.context), embedding: String(h.embedding), hidden: String(h.hidden), layers: String(h.layers), epochs: String(h.epochs) });
    if (kind === "transformer" && h !== null) {
      Object.assign(meta, { context: String(h.context), embedding: String(h.embedding), heads: String(h.heads), layers: String(h.layers), feedforward: String(h.feedforward), epochs: String(h.epochs) });
    }
    try {
      saveModule(opts.out, model, meta);
    } catch (e) {
      throw writeError(`${op}: --out`, opts.out, e);
    }
    say(`saved ${opts.out}\n`);
  }
  if (opts.plot !== undefined) {
    const svg = await nllCurvesSvg(history, bigramTestNLL, `names ${kind}, seed ${seed}`);
    try {
      writeFileSync(opts.plot, svg);
    } catch (e) {
      throw writeError(`${op}: --plot`, opts.plot, e);
    }
    say(`wrote ${opts.plot}\n`);
  }
  if (quiet) {
    const { history: hist, ...rest } = summary;
    out.write(JSON.stringify({ ...rest, history: hist.map(({ epoch, trainNLL: a, testNLL: b }) => ({ epoch, trainNLL: a, testNLL: b })) }) + "\n");
  } else if (kind !== "bigram") {
    out.write(`test NLL ${nats(testNLL)} nats per character (bigram ${nats(bigramTestNLL)}, ${nats(bigramTestNLL - testNLL)} better) after ${usedEpochs} epoch${usedEpochs === 1 ? "" : "s"}, ${summary.seconds.toFixed(1)}s in total\n`);
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
function loadNamesModel(path: string): { model: Module; context: number; seed: number; sequence: boolean } {
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
  let model: Module, context: number, sequence = false;
  if (kind === "transformer") {
    context = metaInt(metadata, "context", path, 1024);
    const size = (k: string): number => metaInt(metadata, k, path, 65536);
    const embedding = size("embedding"), heads = size("heads");
    if (embedding % heads !== 0) throw new ValueError(`sample: ${path} has embedding ${embedding} and heads ${heads} in its metadata; the heads must divide the embedding`);
    model = new CharTransformer({ vocab, context, embedding, heads, layers: size("layers"), feedforward: size("feedforward") });
    sequence = true;
  } else if (kind === "gru") {
    context = metaInt(metadata, "context", path, 1024);
    const size = (k: string): number => metaInt(metadata, k, path, 65536);
    model = new CharGRU({ vocab, embedding: size("embedding"), hidden: size("hidden"), layers: size("layers") });
    sequence = true;
  } else if (kind === "bigram") {
    model = new Bigram(vocab);
    context = 1;
  } else if (kind === "mlp") {
    context = metaInt(metadata, "context", path, 1024);
    model = new CharMLP({ vocab, context, embedding: metaInt(metadata, "embedding", path, 65536), hidden: metaInt(metadata, "hidden", path, 65536) });
  } else {
    throw new ValueError(`sample: ${path} holds a names model of unknown kind ${JSON.stringify(kind)}; expected ${MODELS.join(", ")}`);
  }
  loadModule(path, model);
  return { model, context, seed: Number.isSafeInteger(seed) ? seed : 0, sequence };
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
  const { model, context, seed: splitSeed, sequence } = loadNamesModel(path);
  const seqs = sampleSequences(model, { count, blockSize: context, end: NAMES_END, maxLength: NAMES_MAX_LENGTH, temperature, rng: new Rng(seed), sequence });
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
    .addOption(new Option("--model <model>", "bigram (counts), mlp (Bengio et al. 2003), gru (recurrent) or transformer (decoder-only, pre-norm)").default("mlp"))
    .option("--epochs <n>", "passes over the training names (mlp 10, gru 4, transformer 3)")
    .option("--batch <n>", "mini-batch size: windows for mlp (128), names for gru and transformer (32)")
    .option("--lr <rate>", "peak learning rate, cosine-decayed to a tenth (mlp and gru 0.01 with Adam, transformer 0.003 with AdamW)")
    .option("--context <n>", "characters of context (mlp 3; gru and transformer 16, the longest sequence)")
    .option("--embedding <n>", "embedding size (mlp 16, gru 16, transformer 64)")
    .option("--hidden <n>", "hidden units (mlp 128, gru 128)")
    .option("--heads <n>", "attention heads per block (transformer 4)")
    .option("--layers <n>", "GRU layers (1) or transformer blocks (2)")
    .option("--feedforward <n>", "feed-forward width of each block (transformer 256)")
    .option("--warmup <n>", "updates of linear learning-rate warm-up (transformer 100, others 0)")
    .option("--clip <norm>", "clip the gradients' total norm, 0 for none (gru and transformer 1, mlp 0)")
    .option("--weight-decay <wd>", "AdamW's decoupled weight decay (transformer 0.01)")
    .option("--seed <n>", "seed of the split, the initial weights and the shuffles", "0")
    .option("--out <file>", "save the model (safetensors) for chainrule sample")
    .option("--plot <file>", "write the train and test NLL per epoch as an SVG chart, with the bigram's for comparison")
    .option("--save-split <file>", "also write the training and test names as JSON (read by tools/pytorch-names.py)")
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
