// Safetensors files on disk (Node only): the Node entry's io namespace exports these, the browser entry's
// does not, so browser code sees no file functions at all (it uses the byte forms in safetensors.ts and model-bytes.ts).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsContent, type SafetensorsWriteOptions } from "./safetensors.js";

/**
 * Writes tensors to `path` in the safetensors format (float tensors as F16 or BF16 with `options.floatAs`). The bytes go to a temporary file in the same
 * directory, which is flushed and then renamed over `path`, so a crash never leaves a half-written model.
 * @throws ValueError for invalid names or metadata; Node's filesystem errors for an unwritable path
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}, options: SafetensorsWriteOptions = {}): void {
  const bytes = encodeSafetensors(tensors, metadata, options);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Reads and validates a safetensors file (see `decodeSafetensors`).
 * @throws ParseError for a truncated, corrupt or unsupported file; ValueError when the path cannot be read
 */
export function loadSafetensors(path: string): SafetensorsContent {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new Error("not a regular file");
    bytes = readFileSync(path);
  } catch (e) {
    throw new ValueError(`loadSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}
