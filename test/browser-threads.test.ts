// Helper threads for large matrix products in a browser: Web Workers running the wasm GEMM, which need
// SharedArrayBuffer and so a cross-origin-isolated page. The browser build (dist/browser/chainrule.js)
// is served from loopback twice: with COOP/COEP headers (isolated: two threads, on the page's main thread
// and inside a module worker) and without them (one thread). Split products must equal one thread's bit
// for bit, forward and in the transposed products of the matmul VJP, float32 and float64.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium, requireChromium } from "./helpers/chromium.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "dist", "browser", "chainrule.js");

requireChromium("Chromium (browser threads)");

// The same check runs on the page and in a worker: products of several shapes on one thread, then with
// setThreads(2) once the helpers are ready, compared element by element.
const ROUTINE = `
export async function check(cr) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  cr.matmul(cr.ones([2, 2]), cr.ones([2, 2])); // starts the wasm module (asynchronously on a page's main thread)
  for (let i = 0; i < 100 && cr.getBackend().name !== "wasm"; i++) await sleep(20);
  await sleep(100);
  const f = (x, y) => cr.sum(cr.square(cr.matmul(x, y)));
  const cases = [
    [cr.randn([300, 200], { seed: 1 }), cr.randn([200, 260], { seed: 2 })],
    [cr.randn([64, 700], { seed: 3 }), cr.randn([700, 90], { seed: 4 })],
    [cr.randn([150, 120], { seed: 5, dtype: "float64" }), cr.randn([120, 170], { seed: 6, dtype: "float64" })],
  ];
  const run = () => cases.flatMap(([x, y]) => {
    const [, [gx, gy]] = cr.valueAndGrad(f, { argnums: [0, 1] })(x, y);
    return [Array.from(cr.matmul(x, y).data), Array.from(gx.data), Array.from(gy.data)];
  });
  const threadsAtStart = cr.getThreads();
  cr.setThreads(1);
  const one = run();
  cr.setThreads(2);
  const threads = cr.getThreads();
  run(); // the first large product starts the helpers
  let ready = cr.getBackend().threadsReady;
  for (let i = 0; i < 200 && ready < threads; i++) { await sleep(25); run(); ready = cr.getBackend().threadsReady; }
  const two = run();
  let differ = 0, values = 0;
  for (let i = 0; i < one.length; i++) for (let j = 0; j < one[i].length; j++) { values++; if (!Object.is(one[i][j], two[i][j])) differ++; }
  return { isolated: globalThis.crossOriginIsolated === true, backend: cr.getBackend().name, threadsAtStart, threads, ready, values, differ };
}`;

const WORKER = `import * as cr from "./chainrule.js";
import { check } from "./routine.js";
onmessage = async () => { try { postMessage(await check(cr)); } catch (e) { postMessage({ error: String(e && e.stack || e) }); } };`;

describe.runIf(haveChromium)("helper threads in Chromium", () => {
  let browser: Browser;
  let server: Server;
  let base = "";
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error("dist/browser/chainrule.js is missing: run `npm run build` first");
    const files: Record<string, [string, string]> = {
      "/chainrule.js": ["text/javascript", readFileSync(bundle, "utf8")],
      "/routine.js": ["text/javascript", ROUTINE],
      "/worker.js": ["text/javascript", WORKER],
      "/index.html": ["text/html", "<!doctype html><meta charset=utf-8><title>threads</title>"],
    };
    // /iso/… is served cross-origin isolated, /plain/… without the headers.
    server = createServer((req, res) => {
      const url = req.url ?? "/";
      if (url === "/favicon.ico") { res.writeHead(204).end(); return; }
      const isolated = url.startsWith("/iso/");
      const name = url.replace(/^\/(iso|plain)/, "").replace(/^\/?$/, "/index.html");
      const file = files[name];
      if (file === undefined) { res.writeHead(404).end(); return; }
      const headers: Record<string, string> = { "content-type": file[0] };
      if (isolated) Object.assign(headers, { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
      res.writeHead(200, headers).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function onPage(path: string, inWorker: boolean): Promise<Record<string, unknown>> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${base}${path}`);
    // A string, not a function: vitest rewrites import() inside functions it compiles.
    const result = (await page.evaluate(inWorker
      ? `new Promise((resolve) => { const w = new Worker("./worker.js", { type: "module" }); w.onmessage = (e) => resolve(e.data); w.onerror = (e) => resolve({ error: e.message }); w.postMessage("go"); })`
      : `Promise.all([import("./chainrule.js"), import("./routine.js")]).then(([cr, r]) => r.check(cr))`)) as Record<string, unknown>;
    await page.close();
    expect(errors).toEqual([]);
    return result;
  }

  it("a cross-origin-isolated page: two threads on the main thread, the same bits as one", async () => {
    const r = await onPage("/iso/", false);
    expect(r).toEqual({ isolated: true, backend: "wasm", threadsAtStart: expect.any(Number), threads: 2, ready: 2, values: expect.any(Number), differ: 0 });
    expect(r["values"]).toBe(367_460); // three products and their two cotangent products each
  }, 120_000);

  it("inside a module worker of an isolated page (where Atomics.wait may block): two threads, the same bits", async () => {
    const r = await onPage("/iso/", true);
    expect(r).toEqual({ isolated: true, backend: "wasm", threadsAtStart: expect.any(Number), threads: 2, ready: 2, values: expect.any(Number), differ: 0 });
  }, 120_000);

  it("a page that is not cross-origin isolated stays on one thread, and setThreads(2) is accepted as 1", async () => {
    const r = await onPage("/plain/", false);
    expect(r).toEqual({ isolated: false, backend: "wasm", threadsAtStart: 1, threads: 1, ready: 1, values: expect.any(Number), differ: 0 });
  }, 120_000);
});
