// Copies src/package.json to dist/package.json after tsc: it holds the "#platform/*" import map whose
// "browser" and "default" conditions choose the browser or Node side of threads, FFI and page assets.
// The same relative layout in src/ and dist/ lets one map serve the sources (tsx, vitest) and the build.
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
copyFileSync(join(root, "src/package.json"), join(root, "dist/package.json"));
