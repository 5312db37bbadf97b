// The webgpu device in a real page: Debian's Chromium, headless, with WebGPU enabled on SwiftShader
// (--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader; WebGPU needs a secure context, so the page is
// served on loopback). The browser bundle computes the seed's gradients and one SGD training step on the GPU.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, copyFileSync, writeFileSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, requireChromium } from "./helpers/chromium.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "dist", "browser", "chainrule.js");
/** The flags that give Debian's Chromium WebGPU without a GPU (--disable-gpu would remove it). */
const WEBGPU_ARGS = [...CHROMIUM_ARGS.filter((a) => a !== "--disable-gpu"), "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"];

requireChromium("Chromium (webgpu page)");

describe.runIf(haveChromium)("the webgpu device in a Chromium page", () => {
  let browser: Browser;
  let server: Server;
  let base = "";
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error("dist/browser/chainrule.js is missing: run `npm run build` first");
    const dir = mkdtempSync(join(tmpdir(), "chainrule-webgpu-"));
    copyFileSync(bundle, join(dir, "chainrule.js"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><meta charset=utf-8><title>webgpu</title>");
    server = createServer((req, res) => {
      if (req.url === "/favicon.ico") { res.writeHead(204).end(); return; }
      const file = join(dir, (req.url ?? "/") === "/" ? "index.html" : (req.url ?? "").replace(/^\/+/, ""));
      if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end(); return; }
      res.writeHead(200, { "content-type": file.endsWith(".js") ? "text/javascript" : "text/html" }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("computes the seed's gradients 28, 42, 14 and an SGD step on the GPU", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${base}/`);
    // A string, not a function: vitest rewrites dynamic import() inside functions it compiles.
    const result = await page.evaluate(`(async () => {
      if (!navigator.gpu) return { error: "no navigator.gpu" };
      const lib = await import(${JSON.stringify(`${base}/chainrule.js`)});
      const device = await lib.initWebGPU();
      const on = (v) => lib.scalar(v).to("webgpu");
      const L = (a, b, c) => lib.square(lib.add(lib.mul(a, b), c));
      const [v, gs] = lib.valueAndGrad(L, { argnums: [0, 1, 2] })(on(3), on(2), on(1));
      const seed = { value: await v.itemAsync(), grads: await Promise.all(gs.map((g) => g.itemAsync())), device: v.device };
      // One SGD step on a linear model: w ← w − lr·∂L/∂w with L = mean((x·w − y)²).
      const x = lib.tensor([[1, 2], [3, 4], [5, 6]]).to("webgpu");
      const y = lib.tensor([[1], [2], [3]]).to("webgpu");
      const w = lib.tensor([[0.1], [-0.2]]).to("webgpu");
      w.requiresGrad = true;
      const opt = new lib.optim.SGD([w], { lr: 0.01 });
      const loss = lib.mean(lib.square(lib.sub(lib.matmul(x, w), y)));
      loss.backward();
      opt.step();
      const step = { loss: await loss.itemAsync(), w: await w.array(), onGpu: w.device };
      device.release();
      return { adapter: device.adapter, seed, step };
    })()`);
    expect(errors).toEqual([]);
    const r = result as { error?: string; adapter: string; seed: { value: number; grads: number[]; device: string }; step: { loss: number; w: number[][]; onGpu: string } };
    expect(r.error).toBeUndefined();
    expect(r.seed).toEqual({ value: 49, grads: [28, 42, 14], device: "webgpu" });
    // By hand: x·w = [−0.3, −0.5, −0.7]; residuals r = [−1.3, −2.5, −3.7]; L = Σr²/3 = 21.63/3 = 7.21;
    // ∂L/∂w = (2/3)·xᵀr = (2/3)·[−27.3, −34.8] = [−18.2, −23.2]; w − 0.01·grad = [0.282, 0.032].
    expect(r.step.loss).toBeCloseTo(7.21, 5);
    expect(r.step.w[0]![0]).toBeCloseTo(0.282, 5);
    expect(r.step.w[1]![0]).toBeCloseTo(0.032, 5);
    expect(r.step.onGpu).toBe("webgpu");
  }, 120_000);
});
