// `chainrule train mnist --device webgpu`, run as a user runs it (the built CLI in a child process), on a
// small part of the digits (--train-size/--test-size) so that it takes seconds on a software GPU: the MLP
// reaches a real accuracy bar, and the MLP and the CNN give the CPU's numbers; without an adapter the
// command fails with one line of its own on stderr and exit status 2.
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { webgpuForTests } from "./helpers/webgpu.js";

// These tests run the built CLI (`npm test` builds first; by hand: `npm run build`).
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "chainrule.js");
if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");

// Sets VK_ICD_FILENAMES to SwiftShader when no driver is named, so the children below find the same adapter.
const device = await webgpuForTests();
afterAll(() => device?.release());

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...env, NO_COLOR: "1" }, timeout: 600_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

interface Summary { testAccuracy: number; trainLoss: number; epochs: number; seconds: number }

/** Runs `train mnist … --json` and returns its summary, after checking that it exited 0. */
async function train(args: string[]): Promise<Summary> {
  const r = await run(["train", "mnist", ...args, "--json"]);
  if (r.code !== 0) expect.fail(`exit status ${r.code}; stderr: ${r.stderr.trim().split("\n").pop()}`);
  return JSON.parse(r.stdout) as Summary;
}

describe.skipIf(device === null)("chainrule train mnist --device webgpu", () => {
  it("trains the MLP on 512 digits to a real accuracy, with the CPU's numbers", async () => {
    const args = ["--train-size", "512", "--test-size", "256", "--epochs", "3", "--seed", "0"];
    const [gpu, cpu] = await Promise.all([train([...args, "--device", "webgpu"]), train(args)]);
    // 3 epochs of Adam on 512 digits: 81.25% on both devices (chance is 10%).
    expect(gpu.testAccuracy).toBeGreaterThanOrEqual(0.75);
    expect(gpu.epochs).toBe(3);
    // The same seeded run on the GPU: float32 sums in another order, so the loss agrees to float32 rounding and
    // the predictions to at most one of the 256 test digits.
    expect(Math.abs(gpu.trainLoss - cpu.trainLoss)).toBeLessThan(1e-4 * cpu.trainLoss);
    expect(Math.abs(gpu.testAccuracy - cpu.testAccuracy)).toBeLessThanOrEqual(1 / 256);
  }, 300_000);

  it("trains the CNN (conv, max-pool, dropout, linear) with the CPU's numbers", async () => {
    // Two steps of 32 digits: enough to run every kernel of the CNN's forward and backward pass and its Adam
    // update on the GPU through the CLI; SwiftShader takes seconds per step.
    const args = ["--model", "cnn", "--batch", "32", "--train-size", "64", "--test-size", "64", "--epochs", "1", "--seed", "0"];
    const [gpu, cpu] = await Promise.all([train([...args, "--device", "webgpu"]), train(args)]);
    expect(Number.isFinite(gpu.trainLoss)).toBe(true);
    expect(Math.abs(gpu.trainLoss - cpu.trainLoss)).toBeLessThan(1e-4 * cpu.trainLoss);
    expect(Math.abs(gpu.testAccuracy - cpu.testAccuracy)).toBeLessThanOrEqual(1 / 64);
  }, 300_000);
});

// Hiding the driver works through Vulkan, which Dawn uses on Linux (elsewhere it would find Metal or D3D12).
describe.skipIf(process.platform !== "linux")("chainrule train mnist --device webgpu without an adapter", () => {
  it("fails with one line of its own on stderr and exit status 2", async () => {
    // A Vulkan driver manifest that does not exist: Dawn finds no adapter, as on a machine without a GPU.
    const r = await run(["train", "mnist", "--device", "webgpu", "--epochs", "1", "--train-size", "64", "--test-size", "64"],
      { ...process.env, VK_ICD_FILENAMES: join(root, "no-such-driver.json") });
    expect(r.code).toBe(2);
    // Dawn and the Vulkan loader print warnings of their own from native code before it (which JavaScript cannot
    // silence); chainrule's own output is the one line that starts with "chainrule:".
    const ours = r.stderr.split("\n").filter((l) => l.startsWith("chainrule:"));
    // (Without the webgpu package installed, the one line says to install it instead.)
    expect(ours).toEqual([expect.stringMatching(/^chainrule: initWebGPU: (no GPU adapter was found; without a GPU, point Vulkan at a software one, e\.g\. VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json|the webgpu package could not be loaded)/)]);
    expect(r.stderr).not.toMatch(/^\s+at .*\.[jt]s:\d+/m); // no JavaScript stack trace
    expect(r.stdout).not.toMatch(/^epoch/m); // nothing trained
  }, 120_000);
});
