// Modules on the step-through page, for `chainrule viz --mlp`: which boxes and frames a set of collapsed
// scopes gives (in Node), then the real page in Chromium (Debian's /usr/bin/chromium via playwright-core,
// launched as in browser.test.ts): collapse all modules, step to the end of the backward pass, open one
// module level by level, collapse it again from its frame, expand everything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { decodeGraph, stateAt, timeline } from "../src/viz/page/model.js";
import { explain, scalarInputs } from "../src/viz/page/explain.js";
import { childScopes, collapseAll, collapseScope, expandScope, groupGraph, scopePaths } from "../src/viz/page/groups.js";
import { haveChromium, openWatchedPage, requireChromium, type WatchedPage } from "./helpers/chromium.js";

const root = fileURLToPath(new URL("..", import.meta.url));

// Rebuild the page bundle before anything imports the module that inlines it: once loaded, vitest keeps
// serving that module as it was, even after vi.resetModules(), so the page under test would be the
// previous build. (The static imports above reach no part of the bundle.)
const { buildPage } = (await import(pathToFileURL(join(root, "scripts/build-page.mjs")).href)) as { buildPage: (o: object) => Promise<unknown> };
await buildPage({ quiet: true, library: false });
const { mlpStepTrace } = await import("../src/cli/viz-mlp.js");
const { runViz } = await import("../src/cli/viz-command.js");
const lib = await import("../src/index.js");

const step = mlpStepTrace();
const g = decodeGraph(step.graph.toJSON());
const byName = (name: string): number => g.nodes.find((n) => n.name === name)!.id;

describe("module grouping of the MLP step", () => {
  it("lists the scopes outer before inner, and the children of each", () => {
    expect(scopePaths(g)).toEqual(["MLP", "MLP/Linear0", "MLP/ReLU1", "MLP/Linear2", "loss"]);
    expect(childScopes(g, null)).toEqual(["MLP", "loss"]);
    expect(childScopes(g, "MLP")).toEqual(["MLP/Linear0", "MLP/ReLU1", "MLP/Linear2"]);
  });

  it("nothing collapsed: every node its own box, every scope a frame", () => {
    const gr = groupGraph(g, new Set());
    expect(gr.groups).toEqual([]);
    expect(gr.unit.every((u, i) => u === `n${i}`)).toBe(true);
    expect(gr.frames).toEqual(["MLP", "MLP/Linear0", "MLP/ReLU1", "MLP/Linear2", "loss"]);
    expect(gr.parent.get(`n${byName("u")}`)).toBe("MLP/Linear0");
    expect(gr.parent.get(`n${byName("8")}`)).toBe("loss"); // a literal sits with the op that uses it
    expect(gr.parent.has(`n${byName("x")}`)).toBe(false); // the data batch stays outside
  });

  it("collapsing the top level gives two boxes; parameters and data stay outside, the literal 8 goes in", () => {
    const gr = groupGraph(g, collapseAll(g));
    expect(gr.groups.map((x) => [x.scope, x.ops, x.members.map((m) => g.nodes[m]!.name), x.outputs.map((m) => g.nodes[m]!.name)])).toEqual([
      ["MLP", 5, ["u", "v", "w", "u1", "v1"], ["v1"]],
      ["loss", 3, ["w1", "u2", "8", "L"], ["L"]],
    ]);
    expect(gr.frames).toEqual([]);
    const own = gr.unit.filter((u, i) => u === `n${i}`).map((u) => g.nodes[Number(u.slice(1))]!.name);
    expect(own).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "x", "labels"]);
  });

  it("expanding opens one level; collapsing from a frame forgets what was open inside", () => {
    const open = expandScope(g, collapseAll(g), "MLP");
    expect([...open].sort()).toEqual(["MLP/Linear0", "MLP/Linear2", "MLP/ReLU1", "loss"]);
    const gr = groupGraph(g, open);
    expect(gr.frames).toEqual(["MLP"]);
    expect(gr.parent.get("g:MLP/Linear0")).toBe("MLP");
    const deeper = expandScope(g, open, "MLP/Linear0");
    expect(groupGraph(g, deeper).unit[byName("u")]).toBe(`n${byName("u")}`);
    expect([...collapseScope(deeper, "MLP")].sort()).toEqual(["MLP", "loss"]);
  });
});

describe("forward mode on tensor inputs: one sweep is one directional derivative, not the gradient", () => {
  const w0 = byName("0.weight");
  const fsteps = timeline(g, "forward");
  const sweep = g.forward.find((s) => s.wrt === w0)!;
  const at = (k: number) => explain(g, fsteps, k, stateAt(g, fsteps, k, sweep), "forward", w0);

  it("the start says the tangent is all ones and counts sweeps per element", () => {
    const e = at(0);
    expect(e.title).toBe("Start: forward mode along d0.weight = 1 (all ones)");
    expect(e.prose).toContain("⟨∂L/∂0.weight, 1⟩ = Σ ∂L/∂0.weight: one number, not the [16,784] gradient");
    expect(e.prose).toContain("needs 12,544 sweeps, one per element (12,730 for all inputs)");
    expect(e.math).toEqual(["d0.weight = 1 (ones f32[16,784])", "d0.bias = 0", "d2.weight = 0", "d2.bias = 0"]);
    expect(scalarInputs(g)).toBe(784 * 16 + 16 + 16 * 10 + 10);
  });

  it("the end gives the JVP ⟨∇L, 1⟩ and compares it with the sum of the reverse-mode gradient", () => {
    const e = at(fsteps.length - 1);
    const last = e.math[e.math.length - 1]!;
    const m = /^JVP along d0\.weight = 1: {2}dL = ⟨∂L\/∂0\.weight, 1⟩ = Σ ∂L\/∂0\.weight = (\S+) {3}\(reverse mode: Σ of the f32\[16,784\] gradient = (\S+)\)$/.exec(last);
    expect(m, last).not.toBeNull();
    const grad = step.graph.node("0.weight").grad!;
    const reverseSum = grad.stats!.mean * 784 * 16;
    expect(Number(m![1])).toBeCloseTo(reverseSum, 4);
    expect(Number(m![2])).toBeCloseTo(reverseSum, 4);
    expect(e.math.join("\n")).not.toMatch(/∂L\/∂0\.weight = dL/); // the old claim that the sweep gave the gradient
    expect(e.prose).toContain("not the gradient itself: that would take 12,544 sweeps");
  });

  it("a scalar input keeps the plain wording", () => {
    const seed = decodeGraph(lib.trace((a: import("../src/index.js").Tensor, b: import("../src/index.js").Tensor) => lib.mul(a, b), [lib.tensor(3, { name: "a" }), lib.tensor(2, { name: "b" })]).toJSON());
    const s = timeline(seed, "forward");
    const a = seed.inputs[0]!;
    const e = explain(seed, s, s.length - 1, stateAt(seed, s, s.length - 1, seed.forward.find((x) => x.wrt === a)!), "forward", a);
    expect(e.math[e.math.length - 1]).toBe("∂L/∂a = dL = 2   (reverse mode: 2)");
    expect(explain(seed, s, 0, stateAt(seed, s, 0, seed.forward[0]!), "forward", a).prose).toContain("2 inputs need 2 sweeps");
  });
});

requireChromium("Chromium");

describe.runIf(haveChromium)("the --mlp page in Chromium: collapsing modules", () => {
  let watched: WatchedPage | undefined;
  let page: Page;
  let dir: string;
  let written = "";
  const results = join(root, "test-results");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chainrule-mlp-page-"));
    written = await runViz(undefined, { mlp: true, output: join(dir, "mlp.html") }); // as `chainrule viz --mlp -o mlp.html`
    mkdirSync(results, { recursive: true });
    watched = await openWatchedPage();
    page = watched.page;
  });

  afterAll(async () => {
    await watched?.close();
    expect(watched?.consoleErrors ?? []).toEqual([]);
    expect(watched?.foreignRequests ?? []).toEqual([]);
  });

  const nodes = () => page.locator("[data-node-id]");
  const scopes = () => page.locator("[data-scope]").evaluateAll((els) => els.map((e) => e.getAttribute("data-scope")));
  const frames = () => page.locator("[data-frame]").evaluateAll((els) => els.map((e) => e.getAttribute("data-frame")));
  const json = async (sel: string, attr: string): Promise<{ shape: number[]; data: number[] | null; stats: { min: number; max: number; mean: number } | null }> =>
    JSON.parse((await page.locator(sel).getAttribute(attr))!) as never;

  it("opens collapsed at a readable zoom (at 1400×900 the expanded graph fits only at ~0.4×)", async () => {
    expect(written).toMatch(/^wrote .*mlp\.html \(html, 15 nodes\): one training step of an MLP 784-16-10/);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(pathToFileURL(join(dir, "mlp.html")).href);
    await expect.poll(scopes).toEqual(["MLP", "loss"]);
    expect(await nodes().count()).toBe(6); // the four parameters, the image batch x and the one-hot labels
    expect(await nodes().evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "x", "labels"]);
    expect(await frames()).toEqual([]);
    expect(await page.locator('[data-scope="MLP"]').getAttribute("data-ops")).toBe("5");
    expect(await page.getByRole("button", { name: "Expand modules" }).getAttribute("aria-pressed")).toBe("true");
    const scale = Number(/scale\(([\d.]+)\)/.exec((await page.locator("svg.graph .viewport").getAttribute("transform"))!)![1]);
    expect(scale).toBeGreaterThanOrEqual(0.7);
    await page.screenshot({ path: join(results, "browser-mlp-open-collapsed.png") });
  });

  it("the re-trace box does not show the seed's expression: empty, an example placeholder, a note naming the graph", async () => {
    const expr = page.getByLabel("Expression");
    expect(await expr.inputValue()).toBe("");
    expect(await expr.getAttribute("placeholder")).not.toContain("a*b");
    expect(await page.getByLabel("Values").inputValue()).toBe("");
    expect(await page.locator("[data-origin]").textContent()).toBe("Showing “MLP training step”, not traced from an expression.");
    expect(await page.locator("[data-origin]").isVisible()).toBe(true);
  });

  it("the chart counts forward sweeps per input number: 12,730", async () => {
    expect(await page.getByRole("region", { name: "Reverse vs forward" }).textContent()).toContain("This graph has 4 inputs holding 12,730 numbers: reverse mode gets every ∂L/∂input in 1 backward sweep; forward mode needs 12,730 sweeps, one per input number.");
  });

  it("Expand modules draws every node and frames each module; Collapse modules brings the boxes back", async () => {
    await page.getByRole("button", { name: "Expand modules" }).click();
    await expect.poll(() => nodes().count()).toBe(15);
    expect(await frames()).toEqual(["MLP", "MLP/Linear0", "MLP/ReLU1", "MLP/Linear2", "loss"]);
    expect(await scopes()).toEqual([]);
    await page.getByRole("button", { name: "Collapse modules" }).click();
    await expect.poll(scopes).toEqual(["MLP", "loss"]);
    expect(await nodes().count()).toBe(6);
    await page.setViewportSize({ width: 1400, height: 800 });
  });

  it("at the end of the backward pass: finite parameter gradients, the modules' summaries", async () => {
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("End");
    const b2 = await json('[data-name="2.bias"]', "data-grad");
    expect(b2.shape).toEqual([10]);
    expect(b2.data!.every(Number.isFinite)).toBe(true);
    b2.data!.forEach((v, i) => expect(v).toBeCloseTo(step.graph.node("2.bias").grad!.data![i]!, 6));
    const w0 = await json('[data-name="0.weight"]', "data-grad");
    expect(w0.shape).toEqual([16, 784]); // [out, in], as PyTorch
    expect([w0.stats!.min, w0.stats!.max, w0.stats!.mean].every(Number.isFinite)).toBe(true);
    const mlp = page.locator('[data-scope="MLP"]');
    expect((await json('[data-scope="MLP"]', "data-grad")).shape).toEqual([8, 10]); // ∂L/∂logits reached its output
    expect(await mlp.getAttribute("data-sent")).toBe("4"); // and it sent gradients to all four parameters
    expect(await mlp.textContent()).toContain("5 ops = f32[8,10]");
    expect(Number(await page.locator('[data-scope="loss"]').getAttribute("data-value"))).toBeCloseTo(step.loss, 5);
    expect(await page.locator(".edge.backward").count()).toBe(1); // the last step, into 0.weight
    await page.screenshot({ path: join(results, "browser-mlp-collapsed.png") });
  });

  it("clicking a module box opens it one level; clicking its frame title closes it again", async () => {
    await page.locator('[data-scope="MLP"]').click();
    await expect.poll(scopes).toEqual(["MLP/Linear0", "MLP/ReLU1", "MLP/Linear2", "loss"]);
    expect(await frames()).toEqual(["MLP"]);
    await page.locator('[data-scope="MLP/Linear0"]').click();
    await expect.poll(() => nodes().count()).toBe(8); // its matmul and add appear
    expect(await page.locator('[data-name="u"]').getAttribute("data-op")).toBe("matmul");
    expect(await page.locator('[data-name="u"]').getAttribute("data-grad")).not.toBeNull();
    await page.screenshot({ path: join(results, "browser-mlp-open.png") });
    await page.getByRole("button", { name: "Collapse module MLP", exact: true }).click();
    await expect.poll(scopes).toEqual(["MLP", "loss"]);
    expect(await nodes().count()).toBe(6);
  });

  it("Expand modules brings back every node; forward mode steps through too", async () => {
    await page.getByRole("button", { name: "Expand modules" }).click();
    await expect.poll(() => nodes().count()).toBe(15);
    expect(await scopes()).toEqual([]);
    await page.getByRole("button", { name: "Forward mode" }).click();
    await page.getByRole("button", { name: "Collapse modules" }).click();
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("End");
    expect(await page.locator('[data-scope="loss"]').getAttribute("data-tangent")).not.toBeNull();
    const math = (await page.locator(".math-block").textContent())!;
    expect(math).toContain("JVP along d0.weight = 1:  dL = ⟨∂L/∂0.weight, 1⟩ = Σ ∂L/∂0.weight = ");
    expect(math).toContain("(reverse mode: Σ of the f32[16,784] gradient = ");
    expect(math).not.toContain("∂L/∂0.weight = dL");
  });

  it("re-tracing from the MLP page: errors in the page's wording, then the expression's graph with its source", async () => {
    await page.goto(pathToFileURL(join(dir, "mlp.html")).href);
    await page.getByLabel("Expression").fill("x*y");
    await page.getByLabel("Values").fill("x=1");
    await page.getByRole("button", { name: "Trace" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("no value for variable y; add y=… to the 'at' box\nThe graph below still shows “MLP training step”.");
    await page.getByLabel("Values").fill("x=1, y=2");
    await page.getByRole("button", { name: "Trace" }).click();
    await expect.poll(() => nodes().count()).toBe(3);
    expect(await page.getByLabel("Expression").inputValue()).toBe("x*y");
    expect(await page.locator("[data-origin]").isVisible()).toBe(false);
  });

  it("a graph of more than 80 nodes with modules opens collapsed", async () => {
    const f = (x: import("../src/index.js").Tensor) => {
      let y = x;
      for (let b = 0; b < 4; b++) y = lib.nameScope(`block${b}`, () => lib.tanh(lib.add(lib.mul(y, 1.01), lib.mul(lib.square(y), 0.1))));
      for (let b = 0; b < 4; b++) y = lib.nameScope(`head${b}`, () => { for (let l = 0; l < 5; l++) y = lib.sub(lib.tanh(lib.mul(y, 0.9)), 0.1); return y; });
      return lib.sum(y);
    };
    const g = lib.trace(f, [lib.tensor([0.1, 0.2], { name: "x" })]);
    expect(g.nodes.length).toBeGreaterThan(80);
    writeFileSync(join(dir, "big.html"), g.toHTML());
    await page.goto(pathToFileURL(join(dir, "big.html")).href);
    await expect.poll(scopes).toEqual(["block0", "block1", "block2", "block3", "head0", "head1", "head2", "head3"]);
    expect(await page.locator("[data-node-id]").evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual(["x", "L"]); // L = sum, at top level
    expect(await page.getByRole("button", { name: "Expand modules" }).getAttribute("aria-pressed")).toBe("true");
  });
});
