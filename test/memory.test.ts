// The recorded graph is released after a backward pass: a 10-epoch training loop holds flat memory.
// Each style runs in its own process (node --expose-gc) so that gc() can be called before measuring
// and nothing else in the test run shares the heap.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

interface Report { mode: string; bytes: number[]; losses: number[] }

async function train(mode: string): Promise<Report> {
  const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", "test/scripts/train-memory.ts", mode], { cwd: root, timeout: 120_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Report;
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

describe("memory stays flat over 10 epochs of training", () => {
  // Started together: the processes are independent and mostly wait on start-up.
  const reports = Promise.all(["functional", "imperative", "modules", "leaky"].map(train));
  reports.catch(() => {}); // reported by the tests that await it, not as an unhandled rejection

  it.each(["functional", "imperative", "modules"])("%s style: memory after epoch 10 is within a tenth of epoch 1's", async (mode) => {
    const r = (await reports).find((x) => x.mode === mode)!;
    const [first, last] = [r.bytes[0]!, r.bytes[9]!];
    console.log(`${mode}: epoch 1 ${mb(first)}, epoch 10 ${mb(last)} (${(((last - first) / first) * 100).toFixed(1)}%), loss ${r.losses[0]!.toFixed(3)} → ${r.losses[9]!.toFixed(3)}`);
    expect(r.bytes).toHaveLength(10);
    expect(Math.abs(last - first) / first).toBeLessThan(0.1);
    expect(r.losses[9]!).toBeLessThan(r.losses[0]!); // it really trained
  }, 180_000);

  it("the measurement catches a leak: keeping each step's graph (retainGraph) grows memory", async () => {
    const r = (await reports).find((x) => x.mode === "leaky")!;
    const [first, last] = [r.bytes[0]!, r.bytes[9]!];
    console.log(`leaky control: epoch 1 ${mb(first)}, epoch 10 ${mb(last)}`);
    expect((last - first) / first).toBeGreaterThan(0.2);
  }, 180_000);
});
