import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { requireOptional } from "#platform/require";
import type { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { captureProgram, type Exportable } from "./onnx-capture.js";
import { lowerProgram, ONNX_OPSET, onnxTypeCode, type OnnxAttr, type OnnxGraph } from "./onnx-lower.js";

// ONNX export: capture the forward program (onnx-capture.ts), lower it to ONNX operators (onnx-lower.ts), and
// encode the ModelProto with the onnx-proto package's protobufjs definitions (generated from ONNX's onnx.proto),
// so no protobuf encoding is written here. onnx-proto is an optional peer dependency, loaded on first use.

/** Options for `toONNX` and `exportONNX`. */
export interface OnnxExportOptions {
  /**
   * Leave the inputs' first dimension symbolic ("N") so the file accepts any batch size (default true).
   * Reshapes and broadcasts that keep that dimension then copy it from their input.
   */
  dynamicBatch?: boolean;
  /** The graph's name (default "chainrule"). */
  graphName?: string;
}

/** The parts of onnx-proto's generated module that the encoder uses. */
interface OnnxProtoModule {
  onnx: {
    ModelProto: { create(v: object): object; encode(m: object): { finish(): Uint8Array } };
    AttributeProto: { AttributeType: Record<"INT" | "INTS" | "FLOAT" | "STRING", number> };
  };
}

function loadOnnxProto(op: string): OnnxProtoModule {
  const found = requireOptional("onnx-proto");
  if ("error" in found) {
    throw new ValueError(`${op}: ONNX files are written with the onnx-proto package, which chainrule does not install by default and which could not be loaded (${found.error.message.split("\n")[0]}); run npm install onnx-proto (Node only)`);
  }
  return found.module as OnnxProtoModule;
}

/** Little-endian bytes of an initializer's values in its ONNX element type. */
function rawBytes(dtype: OnnxGraph["initializers"][number]["dtype"], values: ArrayLike<number> | ArrayLike<bigint>): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case "float32": return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case "float64": return new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer);
    case "int32": return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case "bool": return Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((values as ArrayLike<bigint | number>)[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

function attribute(types: OnnxProtoModule["onnx"]["AttributeProto"]["AttributeType"], name: string, v: OnnxAttr): object {
  if (typeof v === "number") return { name, type: types.INT, i: v };
  if (typeof v === "string") return { name, type: types.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: types.INTS, ints: v };
  return { name, type: types.FLOAT, f: (v as { float: number }).float };
}

function valueInfo(name: string, shape: readonly number[], dtype: Parameters<typeof onnxTypeCode>[0], dynamicBatch: boolean): object {
  const dim = shape.map((d, k) => (k === 0 && dynamicBatch ? { dimParam: "N" } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: onnxTypeCode(dtype), shape: { dim } } } };
}

/**
 * The forward computation of `f` (a function of tensors returning one tensor, or a module's `forward`) as an
 * ONNX model (opset 17, IR version 8), ready for ONNX Runtime and other ONNX consumers. `f` runs once on
 * `examples`; every op that depends on them becomes an ONNX node, and everything else (weights, values
 * computed from weights alone) a constant initializer named after the module's state-dict entry where it has one.
 * A module is exported in eval mode (dropout left out, BatchNorm's running statistics), whatever its mode;
 * its mode is restored afterwards.
 * Supported ops: elementwise arithmetic, comparisons and the usual unary functions, matmul (with
 * transposes), reshape, transpose, broadcastTo, sum/max/min/prod, cast, where, concat, conv2d and maxPool2d
 * (see `LOWERED_OPS` in the source); float32/float64 inputs.
 * @param f a function or a module (whose forward takes one input)
 * @param examples example inputs: their shapes and dtypes fix the graph's (the first dimension stays symbolic
 *   unless `dynamicBatch: false`)
 * @returns the encoded ModelProto (protobuf bytes)
 * @throws ValueError naming an op without an ONNX lowering, or when onnx-proto is not installed
 */
export function toONNX(f: Exportable, examples: readonly Tensor[], options: OnnxExportOptions = {}): Uint8Array {
  const op = "toONNX";
  const proto = loadOnnxProto(op);
  if (examples.length === 0) throw new ValueError(`${op}: give at least one example input`);
  const dynamicBatch = options.dynamicBatch ?? true;
  const batch = dynamicBatch && examples[0]!.rank > 0 ? examples[0]!.shape[0]! : null;
  const graph = lowerProgram(op, captureProgram(op, f, examples), batch);
  const types = proto.onnx.AttributeProto.AttributeType;
  const model = proto.onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: "chainrule",
    graph: {
      name: options.graphName ?? "chainrule",
      node: graph.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(types, k, v)),
      })),
      initializer: graph.initializers.map((t) => ({ name: t.name, dims: [...t.dims], dataType: onnxTypeCode(t.dtype), rawData: rawBytes(t.dtype, t.values) })),
      input: graph.inputs.map((x) => valueInfo(x.name, x.shape, x.dtype, batch !== null)),
      output: [valueInfo(graph.output.name, graph.output.shape, graph.output.dtype, batch !== null && graph.output.shape[0] === batch)],
    },
  });
  return proto.onnx.ModelProto.encode(model).finish();
}

/**
 * Writes `toONNX(f, examples, options)` to `path` (through a temporary file, then renamed, so a failed
 * export never leaves half a file). Node only.
 * @throws ValueError as `toONNX`
 */
export function exportONNX(f: Exportable, examples: readonly Tensor[], path: string, options: OnnxExportOptions = {}): void {
  const bytes = toONNX(f, examples, options);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}
