// chainrule's public surface in browsers (the "browser" export condition and the "./browser" subpath):
// everything in surface.ts, with model I/O as bytes and Blobs. Node's file functions are absent from these
// types, not stubs that throw; threads and the blas backend are left out by the "#platform/*" conditions.
export * from "./surface.js";
/** Models as bytes: safetensors encode/decode, `toBytes`, `toBlob`, `fromBytes` (no file functions in browsers). */
export * as io from "./io/browser.js";
/** Datasets: a seeded train/test split and batching (`loadMnist` needs Node: it reads the mnist package). */
export * as data from "./data/index.js";
