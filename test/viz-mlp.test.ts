// `chainrule viz --mlp`: the traced training step (in process: scopes, values and gradients checked by hand
// from the recorded activations), then the built CLI (json to stdout, html to a file, bad combinations).
import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mlpStepTrace } from "../src/cli/viz-mlp.js";
import type { GraphJSON } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "chainrule.js");

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("the traced MLP training step", () => {
  const step = mlpStepTrace();
  const g = step.graph;

  it("is one node per op, scoped by module: MLP/Linear0, MLP/ReLU1, MLP/Linear2, loss", () => {
    expect(g.nodes.length).toBeLessThan(40);
    expect(g.inputs.map((i) => g.nodes[i]!.name)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    expect(g.nodes.filter((n) => n.kind === "op").map((n) => `${n.op}@${n.scope}`)).toEqual([
      "matmul@MLP/Linear0", "add@MLP/Linear0", "relu@MLP/ReLU1", "matmul@MLP/Linear2", "add@MLP/Linear2",
      "softmaxCrossEntropy@loss", "sum@loss", "div@loss",
    ]);
    expect(g.nodes.filter((n) => n.kind === "const").map((n) => [n.name, n.value.shape])).toEqual([["x", [8, 784]], ["labels", [8, 10]], ["8", []]]);
    expect(step.labels).toHaveLength(8);
  });

  it("the loss is finite and near log 10 at initialisation; activations and logits are recorded in full", () => {
    expect(Number.isFinite(step.loss)).toBe(true);
    expect(Math.abs(step.loss - Math.log(10))).toBeLessThan(0.5);
    const ops = g.nodes.filter((n) => n.kind === "op");
    expect(ops.slice(0, 5).map((n) => n.value.data?.length)).toEqual([128, 128, 128, 80, 80]);
  });

  it("gradients agree with softmax − onehot worked out by hand from the recorded logits and activations", () => {
    const ops = g.nodes.filter((n) => n.kind === "op");
    const logits = ops[4]!.value.data!, hidden = ops[2]!.value.data!;
    const onehot = g.node("labels").value.data!;
    onehot.forEach((v, i) => expect(v).toBe(i % 10 === step.labels[Math.floor(i / 10)] ? 1 : 0)); // the one-hot of the digits' labels
    const delta = new Float64Array(80); // ∂L/∂logits = (softmax − onehot) / 8
    for (let r = 0; r < 8; r++) {
      const row = logits.slice(r * 10, r * 10 + 10);
      const m = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - m), 0);
      for (let c = 0; c < 10; c++) delta[r * 10 + c] = (Math.exp(row[c]! - m) / z - onehot[r * 10 + c]!) / 8;
    }
    const db = Array.from({ length: 10 }, (_, c) => delta.filter((_, i) => i % 10 === c).reduce((a, v) => a + v, 0));
    g.node("2.bias").grad!.data!.forEach((v, c) => expect(v).toBeCloseTo(db[c]!, 6));
    const dW = g.node("2.weight").grad!.data!; // [10,16] = deltaᵀ · hidden (the weight is [out, in], as PyTorch)
    for (const [i, c] of [[0, 0], [3, 7], [15, 9]] as const) {
      let s = 0;
      for (let r = 0; r < 8; r++) s += hidden[r * 16 + i]! * delta[r * 10 + c]!;
      expect(dW[c * 16 + i]).toBeCloseTo(s, 6);
    }
    const w0 = g.node("0.weight").grad!;
    expect(w0.data).toBeNull(); // 12,544 elements: summarised
    expect([w0.stats!.min, w0.stats!.max, w0.stats!.mean].every(Number.isFinite)).toBe(true);
  });
});

describe("chainrule viz --mlp (built CLI)", () => {
  beforeAll(() => {
    if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  });

  it("--format json prints the graph with scopes and a finite loss", async () => {
    const r = await run("viz", "--mlp", "--format", "json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as GraphJSON;
    expect(doc.schema).toBe("chainrule.graph/1");
    expect([...new Set(doc.nodes.map((n) => n.scope).filter((s) => s))]).toEqual(["MLP/Linear0", "MLP/ReLU1", "MLP/Linear2", "loss"]);
    const loss = doc.nodes[doc.output]!.value.data![0];
    expect(typeof loss === "number" && Number.isFinite(loss)).toBe(true);
    expect(doc.inputs.map((i) => doc.nodes[i]!.grad)).not.toContain(null);
  });

  it("-o file.html writes the page and prints one line; --format text goes to stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-mlp-"));
    const file = join(dir, "mlp.html");
    const [w, text] = await Promise.all([run("viz", "--mlp", "-o", file), run("viz", "--mlp", "--format", "text")]);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(html, 15 nodes\\): one training step of an MLP 784-16-10 on 8 MNIST digits \\([0-9 ]+\\), cross-entropy loss \\d\\.\\d+\\n$`));
    const html = readFileSync(file, "utf8");
    expect(html).toContain('id="chainrule-graph"');
    expect(html).toContain('"scope":"MLP/Linear0"');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("matmul[a=false b=true] x 0.weight"); // the weight is [out, in], read transposed
  });

  it("--mlp with an expression is a usage error", async () => {
    const r = await run("viz", "--mlp", "x+1");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("chainrule: viz: --mlp traces its own model; got an expression or --at as well, expected one or the other\n");
  });
});
