// `npm test`'s second part: the suite again with the backend forced to wasm and then to js, so every
// layer, loss and training test also runs on the kernels that a machine without a BLAS (wasm) or without
// WebAssembly SIMD (js) would use. The default run before it used the best backend available (blas in CI).
// Left out here: the browser pages and the installed-package checks, which do not depend on the backend.
import { spawnSync } from "node:child_process";

const EXCLUDE = ["test/browser.test.ts", "test/browser-mlp.test.ts", "test/browser-page.test.ts", "test/browser-bundle.test.ts", "test/browser-threads.test.ts", "test/package.test.ts", "test/runtimes.test.ts"];
const vitest = new URL("../node_modules/vitest/vitest.mjs", import.meta.url).pathname;

for (const backend of ["wasm", "js"]) {
  console.log(`\n=== the test suite on the ${backend} backend (CHAINRULE_BACKEND=${backend}) ===\n`);
  const args = [vitest, "run", ...EXCLUDE.flatMap((f) => ["--exclude", f])];
  const r = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, CHAINRULE_BACKEND: backend } });
  if (r.status !== 0) {
    console.error(`test-backends: the suite failed on the ${backend} backend`);
    process.exit(r.status ?? 1);
  }
}
