// Models as bytes, for every runtime: what a browser uses in place of files (send them with fetch, keep
// them in IndexedDB, offer them as a download through a Blob). The Node file functions in model-file.ts
// are these plus an atomic write and a checked read.
import type { Module } from "../nn/module.js";
import { ChainruleError, ValueError } from "../core/errors.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

/**
 * A module's parameters (`stateDict()`, in parameter order) as safetensors bytes, with string metadata
 * such as the architecture needed to rebuild the model; `format: "chainrule"` is added to the metadata.
 * The bytes are exactly what `saveModule` writes to a file.
 * @throws ValueError for non-string metadata
 */
export function toBytes(module: Module, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(module.stateDict(), { format: "chainrule", ...metadata });
}

/**
 * `toBytes` as a Blob (MIME type application/octet-stream), ready for `URL.createObjectURL` and a download
 * link, or for a `fetch` body.
 * @throws ValueError for non-string metadata
 */
export function toBlob(module: Module, metadata: Record<string, string> = {}): Blob {
  const bytes = toBytes(module, metadata);
  // A copy into a plain ArrayBuffer: Blob's typings refuse a view that might be over shared memory.
  return new Blob([bytes.slice().buffer as ArrayBuffer], { type: "application/octet-stream" });
}

/**
 * Loads safetensors bytes (from `toBytes`, `saveModule`, or PyTorch's safetensors with the same names)
 * into `module` in place (the parameter leaves are kept) and returns the metadata. Every parameter must be
 * present with its exact shape, and nothing else.
 * @param source names the bytes in error messages (a file name or URL); default "bytes"
 * @throws ParseError for truncated or corrupt bytes; ValueError when names or shapes do not match the module
 */
export function fromBytes(bytes: Uint8Array, module: Module, source = "bytes"): Record<string, string> {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  loadInto(module, tensors, source, "fromBytes");
  return metadata;
}

/** @internal Loads a decoded state dict, turning a mismatch into one error that names the source. */
export function loadInto(module: Module, tensors: Parameters<Module["loadStateDict"]>[0], source: string, op: string): void {
  try {
    module.loadStateDict(tensors);
  } catch (e) {
    if (e instanceof ChainruleError) throw new ValueError(`${op}: ${source} does not fit this model: ${e.message}`);
    throw e;
  }
}
