// The step-through page's script and style for toHTML, reached as "#platform/page-assets". In Node they
// are the bundle scripts/build-page.mjs generated; the "browser" condition picks page-assets.browser.ts,
// which leaves the 300 KB page (itself a copy of the library) out of browser bundles.
export { PAGE_SCRIPT, PAGE_STYLE } from "../viz/page/assets.generated.js";
