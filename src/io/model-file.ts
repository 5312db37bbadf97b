import type { Module } from "../nn/module.js";
import { loadSafetensors, saveSafetensors } from "./safetensors-file.js";
import type { SafetensorsWriteOptions } from "./safetensors.js";
import { LAYOUT_KEY, LAYOUT_PYTORCH, loadInto, upgradeStateDict } from "./model-bytes.js";

/**
 * Saves a module's parameters (`stateDict()`, in parameter order) to a safetensors file, with string
 * metadata such as the architecture needed to rebuild the model (the bytes of `toBytes`). Names, layouts
 * and shapes are PyTorch's (`"0.weight"` of a Linear is [out, in]), so
 * `model.load_state_dict(safetensors.torch.load_file(path))` loads the file into the equivalent PyTorch
 * module; the metadata gets `layout: "pytorch"`. `options.floatAs` stores the weights as F16 or BF16 (half
 * the size; `loadModule` widens them back to the module's dtype). Written to a temporary file, then
 * renamed. Node only: the browser build has `toBytes`/`toBlob` instead.
 * @throws ValueError for non-string metadata; Node's filesystem errors for an unwritable path
 */
export function saveModule(path: string, module: Module, metadata: Record<string, string> = {}, options: SafetensorsWriteOptions = {}): void {
  saveSafetensors(path, module.stateDict(), { format: "chainrule", ...metadata, [LAYOUT_KEY]: LAYOUT_PYTORCH }, options);
}

/**
 * Loads parameters from a safetensors file into `module` (in place: the parameter leaves are kept) and
 * returns the file's metadata. Every parameter must be present with its exact shape, and nothing else.
 * Reads files written by PyTorch (`safetensors.torch.save_file(model.state_dict(), path)`), by `saveModule`,
 * and by chainrule before Linear weights were stored [out, in] (recognised by their metadata: `format:
 * "chainrule"` without `layout`; their Linear weights are transposed). Node only: the browser build has
 * `fromBytes` instead.
 * @throws ParseError for a truncated or corrupt file; ValueError naming the file for an unreadable path,
 *   or parameter names or shapes that do not match the module
 */
export function loadModule(path: string, module: Module): Record<string, string> {
  const { tensors, metadata } = loadSafetensors(path);
  loadInto(module, upgradeStateDict(tensors, metadata, module), path, "loadModule");
  return metadata;
}
