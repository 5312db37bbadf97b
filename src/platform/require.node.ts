// Loading an installed CommonJS package on demand (koffi for the blas backend, mnist for the digits), reached
// as "#platform/require"; under the "browser" condition require.browser.ts answers instead.
import { createRequire } from "node:module";

const load = createRequire(import.meta.url);

/**
 * The package `name` as `require` returns it, or the error that stopped it (not installed, no prebuilt
 * binary for this platform). Never throws.
 */
export function requireOptional(name: string): { module: unknown } | { error: Error } {
  try {
    return { module: load(name) as unknown };
  } catch (e) {
    return { error: e instanceof Error ? e : new Error(String(e)) };
  }
}
