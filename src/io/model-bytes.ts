// Models as bytes, for every runtime: what a browser uses in place of files (send them with fetch, keep
// them in IndexedDB, offer them as a download through a Blob). The Node file functions in model-file.ts
// are these plus an atomic write and a checked read.
import type { Module, StateDict } from "../nn/module.js";
import { Linear } from "../nn/layers.js";
import { ChainruleError, ValueError } from "../core/errors.js";
import { transpose } from "../ops/index.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsWriteOptions } from "./safetensors.js";

/**
 * The metadata key and value `toBytes`/`saveModule` write to say the bytes hold PyTorch's layouts (Linear
 * weight [out, in]). Files written by chainrule before that change carry `format: "chainrule"` without
 * it, and hold Linear weights as [in, out].
 */
export const LAYOUT_KEY = "layout";
export const LAYOUT_PYTORCH = "pytorch";

/** Dotted names of the weights of every Linear layer in `module` (itself included). */
function linearWeights(module: Module, prefix = ""): string[] {
  const out = module instanceof Linear ? [`${prefix}weight`] : [];
  for (const [name, child] of module.children()) out.push(...linearWeights(child, `${prefix}${name}.`));
  return out;
}

/** Whether a file's metadata marks it as written by chainrule before Linear weights became [out, in]. */
export function isLegacyLayout(metadata: Record<string, string>): boolean {
  return metadata["format"] === "chainrule" && metadata[LAYOUT_KEY] === undefined;
}

/**
 * The state dict of a file for `module`, converted from the old chainrule layout when the metadata says it
 * is one (`isLegacyLayout`): each Linear weight, stored [in, out] there, is transposed to [out, in]. Other
 * tensors, and files from PyTorch or a current chainrule, are returned as they are.
 */
export function upgradeStateDict(tensors: StateDict, metadata: Record<string, string>, module: Module): StateDict {
  if (!isLegacyLayout(metadata)) return tensors;
  const out: StateDict = { ...tensors };
  for (const name of linearWeights(module)) {
    const w = tensors[name];
    if (w !== undefined && w.rank === 2) out[name] = transpose(w);
  }
  return out;
}

/**
 * A module's parameters (`stateDict()`, in parameter order) as safetensors bytes, with string metadata
 * such as the architecture needed to rebuild the model; `format: "chainrule"` and `layout: "pytorch"` are
 * added to the metadata. Names, layouts and shapes are PyTorch's (`"0.weight"` of a Linear is [out, in]), so
 * `load_state_dict` loads the bytes into the equivalent PyTorch module. `options.floatAs` stores the weights
 * as F16 or BF16. The bytes are exactly what `saveModule` writes to a file.
 * @throws ValueError for non-string metadata
 */
export function toBytes(module: Module, metadata: Record<string, string> = {}, options: SafetensorsWriteOptions = {}): Uint8Array {
  return encodeSafetensors(module.stateDict(), { format: "chainrule", ...metadata, [LAYOUT_KEY]: LAYOUT_PYTORCH }, options);
}

/**
 * `toBytes` as a Blob (MIME type application/octet-stream), ready for `URL.createObjectURL` and a download
 * link, or for a `fetch` body.
 * @throws ValueError for non-string metadata
 */
export function toBlob(module: Module, metadata: Record<string, string> = {}, options: SafetensorsWriteOptions = {}): Blob {
  const bytes = toBytes(module, metadata, options);
  // A copy into a plain ArrayBuffer: Blob's typings refuse a view that might be over shared memory.
  return new Blob([bytes.slice().buffer as ArrayBuffer], { type: "application/octet-stream" });
}

/**
 * Loads safetensors bytes (from `toBytes`, `saveModule`, or PyTorch's safetensors with the same names)
 * into `module` in place (the parameter leaves are kept) and returns the metadata. Every parameter must be
 * present with its exact shape, and nothing else. Bytes chainrule wrote before Linear weights were stored
 * [out, in] are recognised by their metadata and their Linear weights transposed.
 * @param source names the bytes in error messages (a file name or URL); default "bytes"
 * @throws ParseError for truncated or corrupt bytes; ValueError when names or shapes do not match the module
 */
export function fromBytes(bytes: Uint8Array, module: Module, source = "bytes"): Record<string, string> {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  loadInto(module, upgradeStateDict(tensors, metadata, module), source, "fromBytes");
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
