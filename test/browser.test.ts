// The step-through page: its model (timeline, states, explanations) in Node, then the real page in a real
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core): seed values and gradients, stepping
// back, keyboard, forward mode, the inspector's finite-difference check, re-tracing in the browser, a
// graph of a few hundred nodes, and no console errors or network requests.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { add, mul, square, sub, sum, tanh, tensor, trace } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { decodeGraph, stateAt, timeline } from "../src/viz/page/model.js";
import { explain } from "../src/viz/page/explain.js";
import { finiteDifference } from "../src/viz/page/replay.js";
import { retrace } from "../src/viz/page/retrace.js";
import { haveChromium, openWatchedPage, requireChromium, type WatchedPage } from "./helpers/chromium.js";

const root = fileURLToPath(new URL("..", import.meta.url));

const seedGraph = () =>
  trace((a: Tensor, b: Tensor, c: Tensor) => square(add(mul(a, b), c)), [tensor(3, { name: "a" }), tensor(2, { name: "b" }), tensor(1, { name: "c" })]).toJSON();

describe("page model: timeline, state and explanations of the seed", () => {
  const g = decodeGraph(seedGraph());
  const steps = timeline(g, "reverse");
  const at = (k: number) => stateAt(g, steps, k, null);
  const name = (id: number) => g.nodes[id]!.name;

  it("start, one step per operation, the seed, then one step per backward edge in the engine's order", () => {
    expect(steps.map((s) => (s.kind === "compute" ? `compute ${name(s.node)}` : s.kind === "edge" ? `${name(s.from)}→${name(s.edge.to)}` : s.kind))).toEqual([
      "start", "compute u", "compute v", "compute L", "seed", "L→v", "v→u", "v→c", "u→a", "u→b",
    ]);
    expect(timeline(g, "forward")).toHaveLength(4);
  });

  it("values appear as computed, gradients as they arrive", () => {
    expect([...at(2).computed].map(name).sort()).toEqual(["a", "b", "c", "u", "v"]);
    expect(at(3).computed.has(g.output)).toBe(true);
    const end = at(steps.length - 1);
    expect(Object.fromEntries([...end.grads].map(([id, s]) => [name(id), s.value.data![0]]))).toEqual({ L: 1, v: 14, u: 14, c: 14, a: 28, b: 42 });
    expect(at(5).grads.has(g.inputs[0]!)).toBe(false);
  });

  it("explains each step with the formula, the substituted numbers and the recorded result", () => {
    const ex = (k: number, mode: "reverse" | "forward" = "reverse", wrt: number | null = null) => {
      const st = mode === "reverse" ? at(k) : stateAt(g, timeline(g, mode), k, g.forward.find((s) => s.wrt === wrt)!);
      return explain(g, mode === "reverse" ? steps : timeline(g, mode), k, st, mode, wrt);
    };
    expect(ex(1).math).toEqual(["u = a·b = 3·2 = 6"]);
    expect(ex(3).math).toEqual(["L = v² = 7² = 49"]);
    expect(ex(4).math).toEqual(["∂L/∂L = 1"]);
    expect(ex(5).math).toEqual(["∂L/∂v = 2·v · 1 = 2·7 · 1 = 14"]);
    expect(ex(6).math).toEqual(["∂L/∂u = ∂v/∂u · ∂L/∂v", "∂L/∂u = 1 · 14 = 14"]);
    expect(ex(9).math).toEqual(["∂L/∂b = ∂u/∂b · ∂L/∂u", "∂L/∂b = a · 14 = 3 · 14 = 42", "Gradient: ∂L/∂a = 28,  ∂L/∂b = 42,  ∂L/∂c = 14"]);
    const a = g.inputs[0]!;
    expect(ex(1, "forward", a).math).toEqual(["u = a·b = 3·2 = 6", "du = b·da + a·db = 2·1 + 3·0 = 2"]);
    expect(ex(3, "forward", a).math).toEqual(["L = v² = 7² = 49", "dL = 2·v·dv = 2·7·2 = 28", "∂L/∂a = dL = 28   (reverse mode: 28)"]);
  });

  it("shows fan-out as a sum: b = a + a; c = b·b", () => {
    const fan = decodeGraph(trace((x: Tensor) => { const b = add(x, x); return mul(b, b); }, [tensor(3, { name: "a" })]).toJSON());
    const s = timeline(fan, "reverse");
    const last = explain(fan, s, s.length - 1, stateAt(fan, s, s.length - 1, null), "reverse", null);
    expect(last.math).toContain("∂L/∂a = 12 + 12 = 24   (sum of 2 contributions)");
  });

  it("the finite-difference check replays the graph in float64 and agrees with the engine", () => {
    for (const n of g.nodes.filter((x) => x.kind !== "const")) {
      const r = finiteDifference(g, n.id);
      if (!r.ok) throw new Error(r.reason);
      expect(r.rows[0]!.fd).toBeCloseTo(n.grad!.data![0]!, 5);
      expect(r.maxRelErr).toBeLessThan(1e-6);
    }
    const tg = decodeGraph(trace((w: Tensor) => sum(square(tanh(w))), [tensor([[0.5, -1], [2, 0.1]], { name: "W" })]).toJSON());
    const r = finiteDifference(tg, tg.inputs[0]!);
    expect(r.ok && r.rows.map((x) => x.label)).toEqual(["W[0]", "W[1]", "W[2]", "W[3]"]);
    expect(r.ok && r.maxRelErr).toBeLessThan(1e-3);
  });

  it("re-traces an expression with the CLI's parser, or reports where it fails", () => {
    const r = retrace("sin(x)*y", "x=0, y=2");
    expect(r.ok && decodeGraph(r.json).nodes.map((n) => [n.name, n.grad?.data?.[0]])).toEqual([["x", 2], ["y", 0], ["u", 2], ["L", 1]]);
    expect(retrace("sin(x", "x=1")).toMatchObject({ ok: false, position: 5 });
    // In the page's wording: there is no --at option on the page, only the 'at' box.
    expect(retrace("x*y", "x=1")).toMatchObject({ ok: false, message: "no value for variable y; add y=… to the 'at' box" });
    expect(retrace("x*y*z", "x=1")).toMatchObject({ ok: false, message: "no value for variables y, z; add y=…, z=… to the 'at' box" });
    expect(retrace("x", "x=1, z=2")).toMatchObject({ ok: false, message: "unknown variable z; the expression uses x" });
    expect(retrace("x", "x")).toMatchObject({ ok: false, message: 'cannot read "x"; expected name=number, e.g. a=3, b=2' });
    expect(retrace("x", "x=1e400")).toMatchObject({ ok: false, message: expect.stringMatching(/^the value of x must be a finite number, got 1e400/) });
  });
});

type Lib = typeof import("../src/index.js");

/** A micrograd-style MLP on scalars, 2 → 5 → 5 → 1 over three examples: a loss of a few hundred nodes. */
function mlpGraph({ add, mul, square, sub, tanh, tensor, trace }: Lib) {
  const sizes = [2, 5, 5, 1];
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);
  const params: Tensor[] = [];
  for (let l = 0; l < 3; l++) for (let j = 0; j < sizes[l + 1]!; j++) for (let i = 0; i <= sizes[l]!; i++) params.push(tensor(rnd(), { name: `p${params.length}` }));
  const data: [number[], number][] = [[[0.5, -1], 1], [[-0.3, 0.8], -1], [[0.9, 0.2], 1]];
  const f = (...p: Tensor[]): Tensor => {
    let loss: Tensor | null = null;
    for (const [x, y] of data) {
      let act: (Tensor | number)[] = x;
      let k = 0;
      for (let l = 0; l < 3; l++) {
        const next: Tensor[] = [];
        for (let j = 0; j < sizes[l + 1]!; j++) {
          let s = p[k + sizes[l]!]!;
          for (let i = 0; i < sizes[l]!; i++) s = add(s, mul(p[k + i]!, act[i]!));
          k += sizes[l]! + 1;
          next.push(l < 2 ? tanh(s) : s);
        }
        act = next;
      }
      const e = square(sub(act[0] as Tensor, y));
      loss = loss ? add(loss, e) : e;
    }
    return loss!;
  };
  return trace(f, params, { forward: ["p0"] });
}

requireChromium("Chromium");

describe.runIf(haveChromium)("the step-through page in Chromium", () => {
  let watched: WatchedPage | undefined;
  let page: Page;
  let dir: string;
  const results = join(root, "test-results");

  beforeAll(async () => {
    // Rebuild the bundle first so the page under test is the page in src/, then import what inlines it.
    const { buildPage } = (await import(pathToFileURL(join(root, "scripts/build-page.mjs")).href)) as { buildPage: (o: object) => Promise<unknown> };
    await buildPage({ quiet: true, library: false });
    vi.resetModules(); // this file's static imports loaded the bundle as it was before the build
    const lib = await import("../src/index.js");
    const { runViz } = await import("../src/cli/viz-command.js");
    dir = mkdtempSync(join(tmpdir(), "chainrule-page-"));
    await runViz(undefined, { format: "html", output: join(dir, "seed.html") }); // the seed, as `chainrule viz -o seed.html` writes it
    writeFileSync(join(dir, "mlp.html"), mlpGraph(lib).toHTML());
    mkdirSync(results, { recursive: true });
    watched = await openWatchedPage();
    page = watched.page;
  });

  afterAll(async () => {
    await watched?.close();
    expect(watched?.consoleErrors ?? []).toEqual([]);
    expect(watched?.foreignRequests ?? []).toEqual([]);
  });

  const node = (name: string) => page.locator(`[data-name="${name}"]`);
  const attr = async (name: string, a: "data-value" | "data-grad" | "data-tangent") => {
    const v = await node(name).getAttribute(a);
    return v === null ? null : Number(v);
  };
  const stepForward = () => page.getByRole("button", { name: "Next", exact: true }).click();
  const toEnd = async () => {
    const fwd = page.getByRole("button", { name: "Next", exact: true });
    for (let i = 0; i < 100 && (await fwd.isEnabled()); i++) await fwd.click();
    expect(await fwd.isEnabled()).toBe(false);
  };

  it("loads the seed page from file:// with a node per value", async () => {
    await page.goto(pathToFileURL(join(dir, "seed.html")).href);
    await expect.poll(() => page.locator("[data-node-id]").count()).toBe(6);
    expect(await page.locator("[data-node-id]").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-name")}:${e.getAttribute("data-op")}`))).toEqual(
      ["a:input", "b:input", "c:input", "u:mul", "v:add", "L:square"],
    );
    expect(await page.getByLabel("Expression").inputValue()).toBe("(a*b + c)^2");
    for (const name of ["Next", "Previous", "Play", "Reset"]) await expect.poll(() => page.getByRole("button", { name, exact: true }).count()).toBe(1);
  });

  it("forward phase: three steps compute u, v and L = 49", async () => {
    expect(await attr("a", "data-value")).toBe(3);
    expect(await attr("u", "data-value")).toBeNull();
    await stepForward();
    await stepForward();
    expect(await attr("v", "data-value")).toBe(7);
    expect(await attr("L", "data-value")).toBeNull();
    await stepForward();
    expect(await attr("L", "data-value")).toBe(49);
    await expect.poll(() => page.locator(".math-block").textContent()).toContain("L = v² = 7² = 49");
  });

  it("Previous undoes a step", async () => {
    await page.getByRole("button", { name: "Previous", exact: true }).click();
    expect(await attr("L", "data-value")).toBeNull();
    await stepForward();
    expect(await attr("L", "data-value")).toBe(49);
  });

  it("backward phase: gradients 14, 14, 14, 28, 42 arrive edge by edge", async () => {
    await stepForward(); // seed
    expect(await attr("L", "data-grad")).toBe(1);
    await stepForward(); // L → v
    expect(await page.locator(".math-block").textContent()).toContain("∂L/∂v = 2·v · 1 = 2·7 · 1 = 14");
    expect(await page.locator('[data-edge].backward').count()).toBe(1);
    await toEnd();
    expect({ v: await attr("v", "data-grad"), u: await attr("u", "data-grad"), c: await attr("c", "data-grad"), a: await attr("a", "data-grad"), b: await attr("b", "data-grad") })
      .toEqual({ v: 14, u: 14, c: 14, a: 28, b: 42 });
    await page.screenshot({ path: join(results, "browser-seed-backward.png") });
  });

  it("keyboard: Home, → and ←, space plays and pauses", async () => {
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("Home");
    expect(await attr("u", "data-value")).toBeNull();
    await page.keyboard.press("ArrowRight");
    expect(await attr("u", "data-value")).toBe(6);
    await page.keyboard.press("ArrowLeft");
    expect(await attr("u", "data-value")).toBeNull();
    await page.keyboard.press("Space");
    await expect.poll(() => page.getByRole("button", { name: "Pause" }).count()).toBe(1);
    await expect.poll(() => attr("u", "data-value"), { timeout: 5000 }).toBe(6);
    await page.keyboard.press("Space");
    await expect.poll(() => page.getByRole("button", { name: "Play", exact: true }).count()).toBe(1);
    await page.getByRole("button", { name: "Reset" }).click();
    expect(await page.locator("body").getAttribute("data-step")).toBe("0");
  });

  it("the inspector shows a gradient only once the backward pass has reached the node", async () => {
    await page.keyboard.press("Home");
    await node("a").click();
    const inspector = page.getByRole("region", { name: "Node inspector" });
    const grad = inspector.locator("[data-grad-state]");
    await expect.poll(() => grad.getAttribute("data-grad-state")).toBe("pending");
    expect(await grad.textContent()).toBe("not computed yet: the backward pass has not reached a");
    for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowRight"); // seed, L→v, v→u, v→c: u has its gradient, a not yet
    expect(await grad.getAttribute("data-grad-state")).toBe("pending");
    await node("u").click();
    await expect.poll(() => grad.textContent()).toContain("14");
    expect(await grad.getAttribute("data-grad-state")).toBe("known");
    await node("a").click();
    await page.keyboard.press("ArrowRight"); // u → a: 28 arrives
    await expect.poll(() => grad.getAttribute("data-grad-state")).toBe("known");
    expect(await grad.textContent()).toContain("28");
    await page.keyboard.press("Home");
    await expect.poll(() => grad.getAttribute("data-grad-state")).toBe("pending");
    await page.getByRole("button", { name: "Close inspector" }).click();
  });

  it("the inspector shows a node's op, value, gradient and a passing finite-difference check", async () => {
    await toEnd();
    await node("a").click();
    const inspector = page.getByRole("region", { name: "Node inspector" });
    await expect.poll(() => inspector.textContent()).toContain("gradient ∂L/∂a");
    expect(await inspector.textContent()).toContain("28");
    expect(await inspector.locator("[data-fd]").getAttribute("data-fd")).toBe("pass");
    await node("u").click();
    await expect.poll(() => inspector.textContent()).toContain("∂u/∂a = b = 2");
    expect(await inspector.locator("[data-fd]").getAttribute("data-fd")).toBe("pass");
    await page.screenshot({ path: join(results, "browser-seed-inspector.png") });
    await page.getByRole("button", { name: "Close inspector" }).click();
  });

  it("the README screenshot: a fan-in step of the backward pass, the inspector and the modes chart", async () => {
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("Home");
    for (let i = 0; i < 8; i++) await page.keyboard.press("ArrowRight"); // u sends b·14 = 28 to a
    await node("a").click();
    await expect.poll(() => page.locator("[data-fd]").count()).toBe(1);
    await page.getByRole("button", { name: "Fit graph" }).click();
    await expect.poll(() => page.getByRole("region", { name: "Reverse vs forward" }).textContent(), { timeout: 20_000 }).toContain("At n = 256");
    const path = process.env.UPDATE_SCREENSHOT ? join(root, "docs", "screenshot.png") : join(results, "screenshot.png");
    await page.screenshot({ path });
    await page.getByRole("button", { name: "Close inspector" }).click();
    await page.setViewportSize({ width: 1400, height: 800 });
  });

  it("forward mode pushes tangents for the chosen input: dL/da = 28, dL/db = 42", async () => {
    await page.getByRole("button", { name: "Forward mode" }).click();
    await toEnd();
    expect(await attr("L", "data-tangent")).toBe(28);
    expect(await attr("u", "data-tangent")).toBe(2);
    expect(await attr("L", "data-grad")).toBeNull();
    await page.getByLabel("Tangent with respect to").selectOption({ label: "b" });
    await toEnd();
    expect(await attr("L", "data-tangent")).toBe(42);
    await page.getByRole("button", { name: "Reverse mode" }).click();
  });

  it("re-traces sin(x)*y at x=0, y=2 in the browser: ∂/∂x = 2", async () => {
    await page.getByLabel("Expression").fill("sin(x)*y");
    await page.getByLabel("Values").fill("x=0, y=2");
    await page.getByRole("button", { name: "Trace" }).click();
    await expect.poll(() => page.locator("[data-node-id]").count()).toBe(4);
    await toEnd();
    expect(await attr("x", "data-grad")).toBe(2);
    expect(await attr("y", "data-grad")).toBe(0);
    await page.getByLabel("Expression").fill("sin(x");
    await page.getByRole("button", { name: "Trace" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/expression: .*\n\s*sin\(x\n {5}\^/);
    expect(await page.locator("[data-node-id]").count()).toBe(4); // the old graph stays
    await page.screenshot({ path: join(results, "browser-retrace.png") });
  });

  it("draws the reverse-vs-forward chart from a measurement in the browser", async () => {
    const chart = page.getByRole("img", { name: "time for a full gradient, forward vs reverse mode" });
    await expect.poll(() => chart.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByRole("region", { name: "Reverse vs forward" }).textContent(), { timeout: 20_000 }).toMatch(/At n = 256: forward 256 sweeps, .* ms; reverse 1 sweep, .* ms; gradients agree: yes/);
    // Every point is a real time: sweeps are repeated over ≥ 10 ms, so none reads 0 at the browser clock's 0.1 ms resolution.
    const ms = await chart.locator("circle.dot").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-ms"))));
    expect(ms).toHaveLength(10); // n = 1, 4, 16, 64, 256, forward and reverse
    for (const v of ms) expect(v).toBeGreaterThan(0);
  });

  it("a loss of a few hundred nodes (a small MLP on scalars) renders, steps, zooms and inspects", async () => {
    await page.goto(pathToFileURL(join(dir, "mlp.html")).href);
    await expect.poll(() => page.locator("[data-node-id]").count(), { timeout: 30_000 }).toBeGreaterThan(300);
    await page.keyboard.press("End");
    expect(await attr("p0", "data-grad")).not.toBeNull();
    const viewport = page.locator("svg.graph .viewport");
    const before = await viewport.getAttribute("transform");
    await page.getByRole("button", { name: "Zoom in" }).click();
    expect(await viewport.getAttribute("transform")).not.toBe(before);
    await node("p0").click();
    const inspector = page.getByRole("region", { name: "Node inspector" });
    await inspector.getByRole("button", { name: "Run check" }).click();
    expect(await inspector.locator("[data-fd]").getAttribute("data-fd")).toBe("pass");
    await page.screenshot({ path: join(results, "browser-mlp.png") });
  });
});
