// The step-through page's script and style for toHTML, reached as "#platform/page-assets". In Node they
// are the bundle scripts/build-page.mjs generated; the "browser" condition picks page-assets.browser.ts,
// which leaves the page (itself a copy of the library) out of browser bundles.
import { brotliDecompressSync } from "node:zlib";
import { PAGE_SCRIPT_BROTLI_BASE64, PAGE_STYLE } from "../viz/page/assets.generated.js";

export { PAGE_STYLE };

let script: string | null = null;

/** The page's script as text, decompressed on first use (the package stores it Brotli-compressed). */
export function pageScript(): string {
  script ??= brotliDecompressSync(Buffer.from(PAGE_SCRIPT_BROTLI_BASE64, "base64")).toString("utf8");
  return script;
}
