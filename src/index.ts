// chainrule's public surface in Node (the "node" and "default" export conditions): re-exports only.
export * from "./surface.js";
/** Model files: safetensors as bytes and as files (validated, atomic saves), module save/load. */
export * as io from "./io/index.js";
/** Datasets: MNIST digits with a seeded train/test split and batching; English first names for character-level models. */
export * as data from "./data/index.js";
export { toHTML } from "./viz/html.js";
