// The op set: primitives (each with its JVP and VJP rule) and composites built from them.
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./select.js";
export * from "./layout.js";
export * from "./reduce.js";
export * from "./linalg.js";
export * from "./linalg-factor.js";
export * from "./unary-extra.js";
export * from "./reduce-extra.js";
export * from "./shape-ops.js";
export * from "./indexing.js";
export * from "./math.js";
export * from "./logical.js";
export * from "./scan.js";
export * from "./sort.js";
export * from "./matrix-parts.js";
export * from "./einsum.js";
