import type { Module } from "../nn/module.js";
import { loadSafetensors, saveSafetensors } from "./safetensors-file.js";
import { loadInto } from "./model-bytes.js";

/**
 * Saves a module's parameters (`stateDict()`, in parameter order) to a safetensors file, with string
 * metadata such as the architecture needed to rebuild the model (the bytes of `toBytes`). Written to a
 * temporary file, then renamed. Node only: the browser build has `toBytes`/`toBlob` instead.
 * @throws ValueError for non-string metadata; Node's filesystem errors for an unwritable path
 */
export function saveModule(path: string, module: Module, metadata: Record<string, string> = {}): void {
  saveSafetensors(path, module.stateDict(), { format: "chainrule", ...metadata });
}

/**
 * Loads parameters from a safetensors file into `module` (in place: the parameter leaves are kept) and
 * returns the file's metadata. Every parameter must be present with its exact shape, and nothing else.
 * Node only: the browser build has `fromBytes` instead.
 * @throws ParseError for a truncated or corrupt file; ValueError naming the file for an unreadable path,
 *   or parameter names or shapes that do not match the module
 */
export function loadModule(path: string, module: Module): Record<string, string> {
  const { tensors, metadata } = loadSafetensors(path);
  loadInto(module, tensors, path, "loadModule");
  return metadata;
}
