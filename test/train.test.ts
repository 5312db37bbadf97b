import { afterAll, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValueError, data, io, nn, optim, transpose } from "../src/index.js";
import { runTrain, type TrainCommandOptions } from "../src/cli/train-command.js";
import { runPredict } from "../src/cli/predict-command.js";
import { main } from "../src/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { write: (s: string) => void; isTTY: boolean; text: () => string } {
  let buf = "";
  return { write: (s) => void (buf += s), isTTY: false, text: () => buf };
}

describe("training", () => {
  it("a short seeded run reduces the loss and learns the digits", () => {
    const split = data.mnistSplit({ seed: 0, train: 600, test: 300 });
    const m = nn.mnistModel("mlp", { hidden: 32, seed: 0 });
    const before = nn.evaluate(m, m.stateDict(), split.test);
    const history = nn.trainClassifier(m, split, { epochs: 3, batchSize: 50, optimizer: optim.adam({ lr: 3e-3 }), seed: 0 });
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(history[1]!.trainLoss).toBeLessThan(history[0]!.trainLoss);
    expect(history[2]!.trainLoss).toBeLessThan(history[1]!.trainLoss);
    expect(history[2]!.testLoss).toBeLessThan(before.loss / 2);
    expect(history[2]!.testAccuracy).toBeGreaterThan(0.75);
    // The model holds the trained parameters afterwards.
    expect(nn.evaluate(m, m.stateDict(), split.test).accuracy).toBe(history[2]!.testAccuracy);
  });

  it("the same seed gives the same run", () => {
    const split = data.mnistSplit({ seed: 3, train: 200, test: 100 });
    const run = () => nn.trainClassifier(nn.mnistModel("mlp", { hidden: 16, seed: 3 }), split, { epochs: 1, batchSize: 32, optimizer: optim.sgd({ lr: 0.1, momentum: 0.9 }), seed: 3 })[0]!.trainLoss;
    expect(run()).toBe(run());
  });
});

describe("train and predict commands", () => {
  const base: TrainCommandOptions = { model: "mlp", epochs: "2", batch: "32", optimizer: "adam", hidden: "16", seed: "0" };

  it("--json prints one JSON object; --out and --plot write a model and an SVG; predict reads the model back", async () => {
    const out = capture();
    const modelPath = join(dir, "m.safetensors"), plotPath = join(dir, "curves.svg");
    await runTrain("mnist", { ...base, json: true, out: modelPath, plot: plotPath }, out, { train: 300, test: 100 });
    const result = JSON.parse(out.text()) as Record<string, number>;
    expect(Object.keys(result)).toEqual(["testAccuracy", "trainLoss", "epochs", "seconds"]);
    expect(result.epochs).toBe(2);
    expect(result.testAccuracy).toBeGreaterThan(0.2); // chance is 0.1; 300 digits and 2 epochs are few
    const svg = readFileSync(plotPath, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("test accuracy");

    const p = capture();
    const pred = runPredict(modelPath, { index: "5" }, p);
    expect(p.text()).toMatch(new RegExp(`held-out digit 5: predicted ${pred.predicted} \\(p = [0-9.]+\\), true label ${pred.label}`));
    expect(p.text().split("\n").length).toBeGreaterThanOrEqual(29);
    expect(pred.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(() => runPredict(modelPath, { index: "100" }, capture())).toThrow(/--index must be an integer in \[0, 99\]/);

    // The same model in the layout chainrule wrote before Linear weights became [out, in] (no "layout" key in
    // the metadata): predict reads it, transposing the Linear weights, and gives the same probabilities.
    const { tensors, metadata } = io.loadSafetensors(modelPath);
    expect(metadata["layout"]).toBe("pytorch");
    expect(tensors["1.weight"]!.shape).toEqual([16, 784]); // Normalize is layer 0
    const legacy = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.rank === 2 ? transpose(v) : v]));
    const oldMeta = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== "layout"));
    const legacyPath = join(dir, "legacy-mlp.safetensors");
    io.saveSafetensors(legacyPath, legacy, oldMeta);
    expect(runPredict(legacyPath, { index: "5", json: true }, capture()).probabilities).toEqual(pred.probabilities);
  });

  it("the CNN trains, saves, and predicts in eval mode (no dropout)", async () => {
    const modelPath = join(dir, "cnn.safetensors");
    await runTrain("mnist", { ...base, model: "cnn", epochs: "1", json: true, out: modelPath }, capture(), { train: 64, test: 20 });
    const a = runPredict(modelPath, { index: "3", json: true }, capture());
    const m = nn.mnistModel("cnn", { seed: 0 }).eval();
    io.loadModule(modelPath, m);
    const x = data.subset(data.mnistSplit({ seed: 0, train: 64, test: 20 }).test, [3]).images;
    expect(a.probabilities).toEqual(Array.from(nn.softmax(m.apply(m.stateDict(), x)).data));
    expect(() => runPredict(modelPath, { index: "x" }, capture())).toThrow(/--index must be an integer/);
  });

  it("prints one line per epoch without --json", async () => {
    const out = capture();
    await runTrain("mnist", { ...base, epochs: "1" }, out, { train: 100, test: 50 });
    expect(out.text()).toMatch(/epoch 1\/1 {2}train loss \d\.\d{4} {2}train acc [\d.]+% {2}test acc [\d.]+% {2}[\d.]+s/);
  });

  it("a write that fails after training: one ValueError about the user's path, no temporary file name", async () => {
    const gone = mkdtempSync(join(tmpdir(), "chainrule-train-gone-"));
    const out = capture();
    // The directory exists when the options are checked and vanishes during the run.
    const write = (s: string): void => { if (s.startsWith("epoch")) rmSync(gone, { recursive: true, force: true }); out.write(s); };
    const run = runTrain("mnist", { ...base, epochs: "1", out: join(gone, "m.safetensors") }, { write, isTTY: false }, { train: 64, test: 32 });
    await expect(run).rejects.toThrow(ValueError);
    await expect(run).rejects.toThrow(new RegExp(`^train: --out: cannot write ${join(gone, "m.safetensors").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: its directory does not exist$`));
  });

  it("bad input gives one clear line on stderr and exit status 2", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, new Uint8Array([1, 2, 3]));
    try {
      const cases: [string[], RegExp][] = [
        [["train", "cifar"], /unknown dataset "cifar"; expected mnist/],
        [["train", "mnist", "--epochs", "0"], /--epochs must be an integer ≥ 1, got "0"/],
        [["train", "mnist", "--batch", "-5"], /--batch must be an integer ≥ 1/],
        [["train", "mnist", "--model", "rnn"], /unknown model "rnn"/],
        [["predict", join(dir, "missing.safetensors")], /missing\.safetensors does not exist; train and save a model first/],
        [["predict", bad], /too short/],
        // Output paths are checked before training (these would otherwise train a whole run first).
        [["train", "mnist", "--epochs", "1", "--hidden", "8", "--out", "/nonexist/a.safetensors"], /^chainrule: train: --out: cannot write \/nonexist\/a\.safetensors: its directory does not exist$/m],
        [["train", "mnist", "--epochs", "1", "--hidden", "8", "--plot", "/nonexist/a.svg"], /^chainrule: train: --plot: cannot write \/nonexist\/a\.svg: its directory does not exist$/m],
        [["train", "mnist", "--epochs", "1", "--hidden", "8", "--out", dir], /^chainrule: train: --out: cannot write .*: it is a directory; give a file name$/m],
        [["train", "mnist", "--epochs", "1", "--hidden", "8", "--plot", join(bad, "a.svg")], /train: --plot: cannot write .*bad\.safetensors\/a\.svg: .* is not a directory|a part of the path is not a directory/],
      ];
      for (const [argv, re] of cases) {
        err.mockClear();
        stdout.mockClear();
        expect(await main(argv), argv.join(" ")).toBe(2);
        const text = err.mock.calls.map((c) => String(c[0])).join("");
        expect(text, argv.join(" ")).toMatch(re);
        expect(text, argv.join(" ")).not.toMatch(/\.tmp/);
        expect(text.trim().split("\n").length).toBe(1);
        expect(stdout.mock.calls.map((c) => String(c[0])).join(""), argv.join(" ")).not.toMatch(/epoch/); // failed before training
      }
    } finally {
      err.mockRestore();
      stdout.mockRestore();
    }
  });
});
