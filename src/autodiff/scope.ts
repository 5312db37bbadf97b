import { scopeState } from "./trace.js";

/**
 * Runs `fn` with `name` pushed onto the scope path, so every node recorded inside is tagged with it
 * (like TensorFlow's `name_scope` and JAX's `named_scope`). Scopes nest with "/": a layer inside a
 * model records "model/layer0". The graph viewer uses the path to collapse a module into one box;
 * values and gradients are unaffected.
 * @param name a non-empty label without "/"
 * @returns whatever `fn` returns; the previous scope is restored even if `fn` throws
 */
export function nameScope<T>(name: string, fn: () => T): T {
  const prev = scopeState.current;
  scopeState.current = prev === undefined ? name : `${prev}/${name}`;
  try {
    return fn();
  } finally {
    scopeState.current = prev;
  }
}

/** The active scope path, or undefined at top level. */
export function currentScope(): string | undefined {
  return scopeState.current;
}
