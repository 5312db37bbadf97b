import type { Command } from "commander";
import { ValueError } from "../core/errors.js";
import { zeros } from "../ops/creation.js";
import { exportONNX } from "../io/onnx.js";
import { loadMnistModelFile } from "./predict-command.js";
import type { Output } from "./train-command.js";

/** The options of `chainrule export`. */
export interface ExportCommandOptions {
  output?: string;
}

/**
 * `chainrule export model.safetensors -o model.onnx`: the MNIST model a `train mnist --out` file holds, as an
 * ONNX model (opset 17) taking float32 images [N, 784] with pixels in [0, 1] and giving logits [N, 10].
 * @returns the path written
 * @throws ValueError (exit status 2) for a missing -o, a file that is not .onnx, or a foreign model file
 */
export function runExport(path: string, opts: ExportCommandOptions, out: Output): string {
  const target = opts.output;
  if (target === undefined) throw new ValueError(`export: say where to write the ONNX file, e.g. chainrule export ${path} -o model.onnx`);
  if (!target.endsWith(".onnx")) throw new ValueError(`export: the output file must end in .onnx, got "${target}"`);
  const { model, kind } = loadMnistModelFile("export", path);
  exportONNX(model, [zeros([1, 784])], target);
  out.write(`wrote ${target}: the ${kind} model of ${path} as ONNX (opset 17), input "input_0" float32 [N, 784] (pixels in [0, 1]), output "output" logits [N, 10]\n`);
  return target;
}

/** Adds `export` to the program. */
export function registerExportCommand(program: Command): void {
  program
    .command("export")
    .description("write a model saved by `train mnist --out` as an ONNX file, for ONNX Runtime and other ONNX consumers")
    .argument("<model>", "a .safetensors file written by chainrule train mnist")
    .option("-o, --output <file>", "the .onnx file to write")
    .action((path: string, opts: ExportCommandOptions) => {
      runExport(path, opts, { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true });
    });
}
