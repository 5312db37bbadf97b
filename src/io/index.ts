// Reading and writing tensors and models (Node entry): the safetensors format as bytes and as files.
export * from "./safetensors.js";
export * from "./safetensors-file.js";
export { toBytes, toBlob, fromBytes } from "./model-bytes.js";
export * from "./model-file.js";
export { toONNX, exportONNX, type OnnxExportOptions } from "./onnx.js";
export type { Exportable } from "./onnx-capture.js";
