// The examples run as written. examples/train-mnist.ts imports "chainrule" by name (resolved through the
// package's own exports, as in a user's project, so dist/ must be built), reproduces `chainrule train
// mnist` (same train loss and test accuracy after an epoch), and saves a model that `chainrule predict`
// accepts. The README's training code is an excerpt of that file, line for line.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runTrain } from "../src/cli/train-command.js";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "chainrule-examples-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("examples/train-mnist.ts", () => {
  it("imports only the package by name (copyable into a project)", () => {
    const source = readFileSync(join(root, "examples", "train-mnist.ts"), "utf8");
    const imports = [...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    expect(imports).toEqual(["chainrule"]);
  });

  it("the README's training code is an excerpt of it, line for line", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const source = readFileSync(join(root, "examples", "train-mnist.ts"), "utf8");
    const at = readme.indexOf("[`examples/train-mnist.ts`]");
    expect(at).toBeGreaterThan(0);
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
    const lines = block.split("\n").map((l) => l.trim()).filter((l) => l !== "" && l !== "// …");
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.filter((l) => !source.includes(l))).toEqual([]);
  });

  it("one epoch gives the CLI's train loss and test accuracy, and `chainrule predict` accepts the saved model", async () => {
    const out = join(dir, "example.safetensors");
    const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/train-mnist.ts", "1", out], { cwd: root, timeout: 300_000 });
    const m = /epoch 1\/1 {2}train loss (\d+\.\d{4}) {2}test acc (\d+\.\d{2})%/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    const cli = await runTrain("mnist", { model: "mlp", epochs: "1", batch: "128", optimizer: "adam", hidden: "256", seed: "0", json: true }, { write: () => undefined, isTTY: false });
    expect(m![1]).toBe(cli.trainLoss.toFixed(4));
    expect(m![2]).toBe((100 * cli.testAccuracy).toFixed(2));
    expect(cli.testAccuracy).toBeGreaterThan(0.85);
    const predict = await exec(process.execPath, ["bin/chainrule.js", "predict", out, "--index", "17", "--json"], { cwd: root, timeout: 60_000 });
    const p = JSON.parse(predict.stdout) as { index: number; label: number; predicted: number; probabilities: number[] };
    expect(p.index).toBe(17);
    expect(p.probabilities).toHaveLength(10);
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 600_000);
});

describe("examples/dp-sgd.ts", () => {
  it("imports only the package by name", () => {
    const source = readFileSync(join(root, "examples", "dp-sgd.ts"), "utf8");
    expect([...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1])).toEqual(["chainrule"]);
  });

  it("runs DP-SGD steps: every clipped per-example gradient has norm ≤ C, and the batch loss falls", async () => {
    const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/dp-sgd.ts", "10"], { cwd: root, timeout: 600_000 });
    const steps = [...stdout.matchAll(/step (\d+)\/10 {2}batch loss (\d+\.\d{4}) {2}largest clipped gradient norm (\d+\.\d{4})/g)];
    expect(steps.map((m) => Number(m[1])), stdout).toEqual([1, 10]);
    for (const m of steps) expect(Number(m[3])).toBeLessThanOrEqual(1.0001);
    expect(Number(steps[1]![2])).toBeLessThan(Number(steps[0]![2]));
    expect(stdout).toMatch(/test accuracy \d+\.\d{2}%/);
  }, 900_000);
});
