// Empties dist/ before a build, so files whose sources were deleted or renamed do not linger there and
// ship in the package (with source maps pointing at sources that no longer exist).
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

rmSync(join(dirname(fileURLToPath(import.meta.url)), "..", "dist"), { recursive: true, force: true });
