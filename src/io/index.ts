// Reading and writing tensors and models: the safetensors format.
export * from "./safetensors.js";
export * from "./model-file.js";
