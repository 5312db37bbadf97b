// Reading and writing tensors and models (browser entry): bytes and Blobs only. The file functions
// (saveModule, loadModule, saveSafetensors, loadSafetensors) are absent here, not stubs that throw.
export * from "./safetensors.js";
export { toBytes, toBlob, fromBytes } from "./model-bytes.js";
