// One place for how the browser tests find and launch Chromium: Debian's /usr/bin/chromium driven by
// playwright-core (no browser download). Missing Chromium is a loud skip locally and a failure under CI=true.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
/** Headless flags; background networking off because this machine's network is closed. */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
export const inCI = process.env.CI === "true";
export const haveChromium = existsSync(CHROMIUM);

/**
 * Call once at the top of a browser test file: warns when the browser tests will be skipped locally, and
 * under CI registers a failing test named `label`, so a CI machine without Chromium cannot pass silently.
 */
export function requireChromium(label: string): void {
  if (!haveChromium && !inCI) {
    console.warn(`\n!!! browser tests SKIPPED: no Chromium at ${CHROMIUM}. Install it with: sudo apt-get install -y chromium   (CI installs it in .ci/run)\n`);
  }
  describe.runIf(!haveChromium && inCI)(label, () => {
    it("is installed under CI", () => {
      expect.fail(`no Chromium at ${CHROMIUM}; install it with apt-get install -y chromium (.ci/run does)`);
    });
  });
}

/** Launches the system Chromium headless. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Records what an offline page must never do: console errors, uncaught exceptions, and requests to any URL
 * that is not file:, data:, about: or blob:. Assert both arrays are empty when done.
 */
export function watchPage(page: import("playwright-core").Page, consoleErrors: string[], foreignRequests: string[]): void {
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("request", (r) => { if (!/^(file|data|about|blob):/.test(r.url())) foreignRequests.push(r.url()); });
}

/** A page in its own headless Chromium, watched as `watchPage` describes; `close()` shuts the browser. */
export interface WatchedPage {
  page: import("playwright-core").Page;
  consoleErrors: string[];
  foreignRequests: string[];
  close(): Promise<void>;
}

/** Launches Chromium and opens one watched page at the 1400×800 viewport the page tests use. */
export async function openWatchedPage(): Promise<WatchedPage> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  watchPage(page, consoleErrors, foreignRequests);
  return { page, consoleErrors, foreignRequests, close: () => browser.close() };
}
