// The browser build of the library (dist/browser/chainrule.js, made by `npm run build`) loads as an ES
// module in real Chromium with no Node built-ins and computes the seed's gradients there, in both modes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, copyFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium, requireChromium } from "./helpers/chromium.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "dist", "browser", "chainrule.js");

requireChromium("Chromium (browser bundle)");

describe.runIf(haveChromium)("the browser build of the library in Chromium", () => {
  let browser: Browser;
  let server: Server;
  let base = "";
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error("dist/browser/chainrule.js is missing: run `npm run build` first");
    const dir = mkdtempSync(join(tmpdir(), "chainrule-bundle-"));
    copyFileSync(bundle, join(dir, "chainrule.js"));
    if (existsSync(`${bundle}.map`)) copyFileSync(`${bundle}.map`, join(dir, "chainrule.js.map"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><meta charset=utf-8><title>bundle</title>");
    // Module scripts need http(s): serve the folder on loopback only.
    server = createServer((req, res) => {
      if (req.url === "/favicon.ico") { res.writeHead(204).end(); return; }
      const file = join(dir, (req.url ?? "/") === "/" ? "index.html" : (req.url ?? "").replace(/^\/+/, ""));
      if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end(); return; }
      res.writeHead(200, { "content-type": file.endsWith(".js") ? "text/javascript" : "text/html" }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("imports as an ES module and computes 49, 28, 42, 14 in reverse and forward mode", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${base}/`);
    // A string, not a function: vitest rewrites dynamic import() inside functions it compiles.
    const result = await page.evaluate(`(async () => {
      const lib = await import(${JSON.stringify(`${base}/chainrule.js`)});
      const L = (a, b, c) => lib.square(lib.add(lib.mul(a, b), c));
      const [v, gs] = lib.valueAndGrad(L, { argnums: [0, 1, 2] })(lib.scalar(3), lib.scalar(2), lib.scalar(1));
      const [, t] = lib.jvp(L, [lib.scalar(3), lib.scalar(2), lib.scalar(1)], [lib.scalar(0), lib.scalar(1), lib.scalar(0)]);
      return { value: v.item(), grads: gs.map((g) => g.item()), tangent: t.item(), hasProcess: typeof globalThis.process };
    })()`);
    expect(result).toEqual({ value: 49, grads: [28, 42, 14], tangent: 42, hasProcess: "undefined" });
    expect(errors).toEqual([]);
    await page.close();
  });
});
