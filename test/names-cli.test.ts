import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { data, io, nn } from "../src/index.js";
import { runSample, runTrainNames, type TrainNamesOptions } from "../src/cli/names-command.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-names-"));
const defaults: TrainNamesOptions = { model: "mlp", seed: "0" };
const capture = () => {
  let text = "";
  return { out: { write: (s: string) => void (text += s), isTTY: false }, text: () => text };
};

/** NLL per character of add-one bigram counts, computed here independently of nn.fitBigram. */
function bigramNLL(train: readonly string[], test: readonly string[]): number {
  const counts = Array.from({ length: 27 }, () => new Array<number>(27).fill(1));
  const pairs = (n: string): [number, number][] => {
    const t = [0, ...Array.from(n, (ch) => ch.charCodeAt(0) - 96), 0];
    return t.slice(1).map((c, i) => [t[i]!, c]);
  };
  for (const n of train) for (const [a, b] of pairs(n)) counts[a]![b]!++;
  let nll = 0, chars = 0;
  for (const n of test) {
    for (const [a, b] of pairs(n)) {
      const row = counts[a]!;
      nll -= Math.log(row[b]! / row.reduce((x, y) => x + y, 0));
      chars++;
    }
  }
  return nll / chars;
}

describe("train names", () => {
  it("bigram: reports the count-based NLL per character, saves a model that samples", async () => {
    const file = join(dir, "bigram.safetensors");
    const c = capture();
    const s = await runTrainNames({ ...defaults, model: "bigram", out: file }, c.out);
    const split = await data.namesSplit({ seed: 0 });
    expect(s.bigramTestNLL).toBeCloseTo(bigramNLL(split.train, split.test), 10);
    expect(s.bigramTrainNLL).toBeCloseTo(bigramNLL(split.train, split.train), 10);
    expect(s.testNLL).toBe(s.bigramTestNLL);
    expect(c.text()).toContain("7563 training / 840 test names (seed 0); 53145 / 5810 characters to predict");
    expect(c.text()).toMatch(/bigram \(counts, add-one smoothing\): train NLL 2\.42\d\d, test NLL 2\.42\d\d nats per character/);

    const a = capture(), b = capture();
    const names = await runSample(file, { n: "30", temperature: "1", seed: "4" }, a.out);
    await runSample(file, { n: "30", temperature: "1", seed: "4" }, b.out);
    expect(a.text()).toBe(b.text()); // seeded
    expect(names).toHaveLength(30);
    const training = new Set(split.train);
    for (const n of names) {
      expect(n.name).toMatch(/^[a-z]{0,15}$/);
      expect(n.inTraining).toBe(training.has(n.name));
    }
    expect(a.text()).toContain(`${names.filter((n) => !n.inTraining).length} of 30 are not among the 7563 training names`);
    // A low temperature concentrates the draws: the likeliest first letters and short names dominate.
    const cold = await runSample(file, { n: "30", temperature: "0.05", seed: "4" }, capture().out);
    expect(new Set(cold.map((n) => n.name)).size).toBeLessThan(new Set(names.map((n) => n.name)).size);
  });

  it("mlp: trains, reports every epoch, --json, and the saved model samples", async () => {
    const file = join(dir, "mlp.safetensors");
    const c = capture();
    const s = await runTrainNames({ ...defaults, epochs: "2", hidden: "32", embedding: "4", batch: "256", out: file, json: true }, c.out);
    const printed = JSON.parse(c.text()) as { model: string; testNLL: number; history: { epoch: number; trainNLL: number; testNLL: number }[] };
    expect(printed.model).toBe("mlp");
    expect(printed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(printed.testNLL).toBe(s.testNLL);
    // Even a small MLP after two epochs beats the uniform guess (log 27 ≈ 3.30) by far.
    expect(s.testNLL).toBeLessThan(2.6);
    const model = new nn.CharMLP({ vocab: 27, context: 3, embedding: 4, hidden: 32 });
    const meta = io.loadModule(file, model);
    expect(meta).toMatchObject({ task: "names", model: "mlp", context: "3", embedding: "4", hidden: "32", seed: "0" });
    const split = await data.namesSplit({ seed: 0 });
    expect(nn.charNLL(model, data.charExamples(split.test, 3))).toBeCloseTo(s.testNLL, 5);
    const names = await runSample(file, { n: "5", temperature: "0.8", seed: "1" }, capture().out);
    expect(names).toHaveLength(5);
  });

  it("gru: trains on whole names; the saved model samples", async () => {
    const file = join(dir, "gru.safetensors");
    const c = capture();
    const plot = join(dir, "gru.svg");
    const s = await runTrainNames({ ...defaults, model: "gru", epochs: "1", batch: "256", embedding: "4", hidden: "16", out: file, plot }, c.out);
    const svg = readFileSync(plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["names gru, seed 0", "NLL per character (nats)", "train NLL", "test NLL", `bigram test NLL ${s.bigramTestNLL.toFixed(3)}`]) expect(svg).toContain(text);
    expect(c.text()).toContain(`wrote ${plot}`);
    expect(c.text()).toContain("GRU: embedding 4, 1 layer of 16; 1,623 parameters; Adam lr 0.01 with cosine decay to 0.001, gradients clipped at norm 1, batch 256 names, 1 epoch");
    expect(s.testNLL).toBeLessThan(3.0);
    const model = new nn.CharGRU({ vocab: 27, embedding: 4, hidden: 16 });
    expect(io.loadModule(file, model)).toMatchObject({ task: "names", model: "gru", embedding: "4", hidden: "16", layers: "1" });
    const split = await data.namesSplit({ seed: 0 });
    expect(nn.charNLL(model, data.charSequences(split.test, 16))).toBeCloseTo(s.testNLL, 5);
    const names = await runSample(file, { n: "4", temperature: "1", seed: "2" }, capture().out);
    expect(names).toHaveLength(4);
  }, 240_000);

  it("transformer: trains on whole names with AdamW, warm-up and clipping; the saved model samples", async () => {
    const file = join(dir, "transformer.safetensors");
    const c = capture();
    const s = await runTrainNames({ ...defaults, model: "transformer", epochs: "1", batch: "128", embedding: "8", heads: "2", layers: "1", feedforward: "16", warmup: "10", out: file }, c.out);
    expect(c.text()).toContain("transformer: context 16, embedding 8, 2 heads, 1 pre-norm blocks, feed-forward 16 (GELU)");
    expect(c.text()).toContain("AdamW lr 0.003 (weight decay 0.01) with cosine decay to 0.0003 after 10 warm-up steps, gradients clipped at norm 1, batch 128 names, 1 epoch");
    expect(s.history).toHaveLength(1);
    // One pass with a tiny model already beats uniform guessing (ln 27 ≈ 3.30) clearly.
    expect(s.testNLL).toBeLessThan(3.0);
    const model = new nn.CharTransformer({ vocab: 27, context: 16, embedding: 8, heads: 2, layers: 1, feedforward: 16 });
    expect(io.loadModule(file, model)).toMatchObject({ task: "names", model: "transformer", context: "16", embedding: "8", heads: "2", layers: "1", feedforward: "16" });
    const split = await data.namesSplit({ seed: 0 });
    // The NLL the command reports is the model's NLL on the test names, whole names or windows alike.
    expect(nn.charNLL(model, data.charSequences(split.test, 16))).toBeCloseTo(s.testNLL, 5);
    const a = capture();
    const names = await runSample(file, { n: "6", temperature: "1", seed: "2" }, a.out);
    expect(names).toHaveLength(6);
    for (const n of names) expect(n.name).toMatch(/^[a-z]{0,15}$/);
    const again = capture();
    await runSample(file, { n: "6", temperature: "1", seed: "2" }, again.out);
    expect(again.text()).toBe(a.text());
  }, 240_000); // a minute on the js backend when the machine is shared; not a speed test
});

// Bad input through the built CLI (npm test builds first): one line on stderr, exit status 2.
const root = fileURLToPath(new URL("..", import.meta.url));
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, "bin", "chainrule.js"), ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("train names and sample: bad input", () => {
  it("one line on stderr, exit status 2", async () => {
    const mnistFile = join(dir, "digits.safetensors");
    io.saveModule(mnistFile, new nn.MLP([4, 2]), { dataset: "mnist", model: "mlp" });
    const bare = join(dir, "bare.safetensors");
    io.saveSafetensors(bare, { w: nn.fitBigram([], 2, 0).stateDict().weight! });
    const cases: [string[], RegExp][] = [
      [["train", "names", "--model", "lstm"], /^chainrule: train names: unknown model "lstm"; expected bigram, mlp, gru or transformer$/],
      [["train", "names", "--model", "bigram", "--plot", join(dir, "b.svg")], /^chainrule: train names: --plot draws the NLL per epoch of a trained model; the bigram is counted, not trained/],
      [["train", "names", "--plot", join(dir, "curves.png")], /--plot: the plot is SVG, so the file name must end in \.svg/],
      [["train", "names", "--model", "gru", "--hidden", "0"], /--hidden must be an integer ≥ 1, got "0"$/],
      [["train", "names", "--model", "transformer", "--context", "8"], /^chainrule: train names: --context must be at least 16 for the transformer \(the longest name, 15 letters, and its end marker\), got 8$/],
      [["train", "names", "--model", "transformer", "--heads", "5"], /--embedding 64 must be divisible by --heads 5$/],
      [["train", "names", "--model", "transformer", "--layers", "0"], /--layers must be an integer ≥ 1, got "0"$/],
      [["train", "names", "--model", "transformer", "--clip", "-1"], /--clip must be a number ≥ 0, got "-1"$/],
      [["train", "names", "--model", "transformer", "--epochs", "1", "--batch", "7563", "--warmup", "1"], /--warmup 1 must be less than the 1 updates of the run$/],
      [["train", "names", "--hidden", "0"], /^chainrule: train names: --hidden must be an integer ≥ 1, got "0"$/],
      [["train", "names", "--context", "-3"], /--context must be an integer ≥ 1, got "-3"/],
      [["train", "names", "--lr", "0"], /--lr must be a positive number, got "0"/],
      [["sample", mnistFile], /^chainrule: sample: .*digits\.safetensors holds a mlp for the mnist dataset, not a names model; make one with chainrule train names --out FILE$/],
      [["sample", bare], /bare\.safetensors holds no chainrule names model \(its metadata has no task\)/],
      [["sample", join(dir, "missing.safetensors")], /missing\.safetensors/],
      [["sample", mnistFile, "--temperature", "0"], /^chainrule: sample: --temperature must be a positive number, got "0"$/],
      [["sample", mnistFile, "--temperature", "-1"], /--temperature must be a positive number, got "-1"/],
      [["sample", mnistFile, "-n", "0"], /^chainrule: sample: -n must be an integer ≥ 1, got "0"$/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      const what = args.join(" ");
      expect(r.code, what).toBe(2);
      expect(r.stdout, what).toBe("");
      expect(r.stderr.trimEnd().split("\n"), what).toHaveLength(1);
      expect(r.stderr.trimEnd(), what).toMatch(message);
    });
  });
});
