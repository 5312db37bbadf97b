// `chainrule viz --names`: the traced training step of the names MLP (in process: scopes, the windows of
// real names, loss and gradients against an independent computation), then the built CLI.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { namesStepTrace } from "../src/cli/viz-names.js";
import { grad, Tensor, data, nn } from "../src/index.js";
import { Rng } from "../src/core/random.js";

const root = fileURLToPath(new URL("..", import.meta.url));
function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, "bin", "chainrule.js"), ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("the traced names MLP training step", async () => {
  const step = await namesStepTrace();
  const g = step.graph;

  it("reads the windows of the first three training names, one node per op, scoped by module", async () => {
    const split = await data.namesSplit({ seed: 0 });
    expect(step.names).toEqual(split.train.slice(0, 3));
    const windows = data.charExamples(step.names, 3);
    expect(g.inputs.map((i) => g.nodes[i]!.name)).toEqual(["embedding.weight", "hidden.weight", "hidden.bias", "output.weight", "output.bias"]);
    expect(g.nodes.filter((n) => n.kind === "const").map((n) => [n.name, n.value.shape])).toEqual([["x", [windows.count, 3]], ["next", [windows.count, 27]], [String(windows.count), []]]);
    expect(Array.from(g.node("x").value.data!)).toEqual(Array.from(windows.contexts));
    const scopes = new Set(g.nodes.filter((n) => n.kind === "op").map((n) => n.scope));
    expect([...scopes]).toEqual(["CharMLP/embedding", "CharMLP", "CharMLP/hidden", "CharMLP/output", "loss"]);
    expect(g.nodes.length).toBeLessThan(30);
  });

  it("loss and gradients equal those of the same model computed without the tracer", () => {
    const model = new nn.CharMLP({ vocab: 27, context: 3, embedding: 4, hidden: 16, rng: new Rng(0) });
    const w = data.charExamples(step.names, 3);
    const x = Tensor._concrete(w.contexts, [w.count, 3], "int32"), y = Tensor._concrete(w.targets, [w.count], "int32");
    const params = model.stateDict();
    const loss = (p: Record<string, Tensor>): Tensor => nn.crossEntropy(model.apply(p, x), y);
    expect(step.loss).toBeCloseTo(loss(params).item(), 6);
    expect(Math.abs(step.loss - Math.log(27))).toBeLessThan(0.6); // near uniform at initialisation
    const gp = grad(loss)(params) as Record<string, Tensor>;
    for (const k of ["hidden.bias", "output.bias"]) {
      g.node(k).grad!.data!.forEach((v, i) => expect(v).toBeCloseTo(gp[k]!.data[i]!, 6));
    }
    const ge = g.node("embedding.weight").grad!.data!;
    ge.forEach((v, i) => expect(v).toBeCloseTo(gp["embedding.weight"]!.data[i]!, 6));
  });
});

describe("chainrule viz --names (built CLI)", () => {
  it("writes the page with the collapsible modules and prints one line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "chainrule-viz-names-")), "names.html");
    const r = await run("viz", "--names", "-o", file);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*names\.html \(html, \d+ nodes\): one training step of the names MLP \(context 3, embedding 4, hidden 16\) on the \d+ windows of \w+, \w+, \w+; cross-entropy \d\.\d+ nats\n$/);
    const html = readFileSync(file, "utf8");
    expect(html).toContain("CharMLP/hidden");
    expect(html).toContain("chainrule: names MLP training step");
  });

  it("--names with --mlp or an expression is a usage error", async () => {
    const both = await run("viz", "--names", "--mlp");
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("chainrule: viz: --mlp and --names each trace their own model; expected one of them\n");
    const expr = await run("viz", "--names", "x+1");
    expect(expr.code).toBe(2);
    expect(expr.stderr).toBe("chainrule: viz: --names traces its own model; got an expression or --at as well, expected one or the other\n");
  });
});
