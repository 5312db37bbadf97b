// The recorded graph is released after a backward pass: a 10-epoch training loop holds flat memory.
// Each style runs in its own process (node --expose-gc) so that gc() can be called before measuring
// and nothing else in the test run shares the heap.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { availableBackends, type BackendName } from "../src/index.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

interface Report { mode: string; bytes: number[]; losses: number[]; backend?: string }

async function train(mode: string, backend?: string): Promise<Report> {
  const env = backend ? { ...process.env, CHAINRULE_BACKEND: backend } : process.env;
  const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", "test/scripts/train-memory.ts", mode], { cwd: root, timeout: 120_000, env });
  return { ...(JSON.parse(stdout.trim().split("\n").pop()!) as Report), ...(backend ? { backend } : {}) };
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

describe("memory stays flat over 10 epochs of training", () => {
  // Started together: the processes are independent and mostly wait on start-up.
  const reports = Promise.all(["functional", "imperative", "modules", "leaky"].map((mode) => train(mode)));
  reports.catch(() => {}); // reported by the tests that await it, not as an unhandled rejection

  it.each(["functional", "imperative", "modules"])("%s style: memory after epoch 10 is within a tenth of epoch 1's", async (mode) => {
    const r = (await reports).find((x) => x.mode === mode)!;
    const [first, last] = [r.bytes[0]!, r.bytes[9]!];
    console.log(`${mode}: epoch 1 ${mb(first)}, epoch 10 ${mb(last)} (${(((last - first) / first) * 100).toFixed(1)}%), loss ${r.losses[0]!.toFixed(3)} → ${r.losses[9]!.toFixed(3)}`);
    expect(r.bytes).toHaveLength(10);
    expect(Math.abs(last - first) / first).toBeLessThan(0.1);
    expect(r.losses[9]!).toBeLessThan(r.losses[0]!); // it really trained
  }, 180_000);

  // The same loop on every backend, forced: no backend keeps memory a user would have to free (no dispose,
  // no tidy); blas and wasm reuse their scratch areas instead of growing them.
  const backends = ["blas", "wasm", "js"].filter((b) => availableBackends().includes(b as BackendName));
  const perBackend = Promise.all(backends.map((b) => train("modules", b)));
  perBackend.catch(() => {});
  it.each(backends)("modules style on the %s backend: memory after epoch 10 is within a tenth of epoch 1's", async (backend) => {
    const r = (await perBackend).find((x) => x.backend === backend)!;
    const [first, last] = [r.bytes[0]!, r.bytes[9]!];
    console.log(`${backend}: epoch 1 ${mb(first)}, epoch 10 ${mb(last)}, loss ${r.losses[0]!.toFixed(3)} → ${r.losses[9]!.toFixed(3)}`);
    expect(Math.abs(last - first) / first).toBeLessThan(0.1);
    expect(r.losses[9]!).toBeLessThan(r.losses[0]!);
  }, 180_000);

  it("the measurement catches a leak: keeping each step's graph (retainGraph) grows memory", async () => {
    const r = (await reports).find((x) => x.mode === "leaky")!;
    const [first, last] = [r.bytes[0]!, r.bytes[9]!];
    console.log(`leaky control: epoch 1 ${mb(first)}, epoch 10 ${mb(last)}`);
    expect((last - first) / first).toBeGreaterThan(0.2);
  }, 180_000);
});
