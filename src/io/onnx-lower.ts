import { ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { Program, ProgramStep, ProgramValue } from "./onnx-capture.js";

// Lowering a captured program to ONNX operators (opset 17, https://onnx.ai/onnx/operators/). The result is a
// plain description (nodes, initializers, value names); onnx.ts encodes it with the onnx-proto definitions.
// Operators whose semantics differ from chainrule's anywhere on their domain are not used: the exported model
// must compute the same function.

/** An ONNX attribute value: an int, a float, a list of ints or a string. */
export type OnnxAttr = number | { readonly float: number } | readonly number[] | string;

/** One ONNX node. */
export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, OnnxAttr>>;
}

/** A constant tensor of the graph (weights, shapes, scalars). */
export interface OnnxInitializer {
  readonly name: string;
  readonly dtype: DType | "int64";
  readonly dims: readonly number[];
  readonly values: ArrayLike<number> | ArrayLike<bigint>;
}

/** The lowered graph: names of inputs and output, nodes in order, constants. */
export interface OnnxGraph {
  readonly inputs: readonly { readonly name: string; readonly shape: Shape; readonly dtype: DType }[];
  readonly output: { readonly name: string; readonly shape: Shape; readonly dtype: DType };
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
}

/** The opset the lowering targets. */
export const ONNX_OPSET = 17;

const UNARY: Readonly<Record<string, string>> = {
  neg: "Neg", abs: "Abs", exp: "Exp", log: "Log", sqrt: "Sqrt", tanh: "Tanh", sigmoid: "Sigmoid", relu: "Relu",
  sin: "Sin", cos: "Cos", tan: "Tan", reciprocal: "Reciprocal", sign: "Sign", erf: "Erf", floor: "Floor", ceil: "Ceil",
  round: "Round", asin: "Asin", acos: "Acos", atan: "Atan", sinh: "Sinh", cosh: "Cosh", asinh: "Asinh",
  acosh: "Acosh", atanh: "Atanh", softplus: "Softplus", stopGradient: "Identity",
};
const BINARY: Readonly<Record<string, string>> = {
  add: "Add", sub: "Sub", mul: "Mul", div: "Div", pow: "Pow", maximum: "Max", minimum: "Min",
  equal: "Equal", greater: "Greater", greaterEqual: "GreaterOrEqual", less: "Less", lessEqual: "LessOrEqual",
};
const REDUCE: Readonly<Record<string, string>> = { max: "ReduceMax", min: "ReduceMin", prod: "ReduceProd" };

/** Every primitive name that has a lowering (for errors and tests). */
export const LOWERED_OPS: readonly string[] = [
  ...Object.keys(UNARY), ...Object.keys(BINARY), ...Object.keys(REDUCE),
  "square", "rsqrt", "expm1", "log1p", "notEqual", "matmul", "reshape", "transpose", "broadcastTo", "sum", "cast",
  "where", "conv2d", "maxPool2d", "concat",
].sort();

/**
 * Lowers a program. `batch`, when given, is the size of the inputs' first dimension that the exported graph
 * leaves symbolic: reshapes and broadcasts that keep that dimension copy it from their input instead of
 * baking the example's size in.
 * @throws ValueError naming a primitive that has no ONNX lowering
 */
export function lowerProgram(op: string, program: Program, batch: number | null): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const constNames = new Map<object, string>();
  let counter = 0;
  const fresh = (hint: string) => `${hint}_${counter++}`;
  const constant = (dtype: OnnxInitializer["dtype"], dims: readonly number[], values: OnnxInitializer["values"], hint = "const"): string => {
    const name = fresh(hint);
    initializers.push({ name, dtype, dims, values });
    return name;
  };
  const ints = (values: readonly number[]): string => constant("int64", [values.length], values.map((v) => BigInt(v)), "shape");
  const scalar = (v: number, dtype: DType): string => constant(dtype, [], [v], "scalar");
  const emit = (opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, output?: string): string => {
    const out = output ?? fresh(opType.toLowerCase());
    nodes.push({ op: opType, inputs, outputs: [out], attrs });
    return out;
  };

  const name = (v: ProgramValue, dtype?: DType): string => {
    if (v.kind === "input") return v.dtype === dtype || dtype === undefined ? `input_${v.index}` : emit("Cast", [`input_${v.index}`], { to: onnxTypeCode(dtype) });
    if (v.kind === "step") {
      const n = stepNames[v.step]!;
      return dtype === undefined || v.dtype === dtype ? n : emit("Cast", [n], { to: onnxTypeCode(dtype) });
    }
    const t = v.value;
    const want = dtype ?? t.dtype;
    const key = t;
    const known = constNames.get(key);
    if (known !== undefined && want === t.dtype) return known;
    const data = Array.from(t.data as ArrayLike<number>, (x) => (want === "bool" ? (x ? 1 : 0) : x));
    const n = constant(want, t.shape, data, v.name ?? "const");
    if (want === t.dtype) constNames.set(key, n);
    return n;
  };

  const stepNames: string[] = [];
  program.steps.forEach((step, i) => {
    const out = i === program.steps.length - 1 && program.output.kind === "step" && program.output.step === i ? "output" : undefined;
    stepNames.push(lowerStep(step, out));
  });

  function lowerStep(step: ProgramStep, out: string | undefined): string {
    const p = step.prim.name;
    const [a, b, c] = step.inputs;
    const shapeOf = (v: ProgramValue): Shape => (v.kind === "const" ? v.value.shape : v.shape);
    if (p in UNARY) return emit(UNARY[p]!, [name(a!, step.dtype)], {}, out);
    if (p in BINARY) {
      // Comparisons compute in their operands' common dtype; arithmetic in the result's.
      const cmp = step.dtype === "bool";
      const common = cmp ? commonOf(a!, b!) : step.dtype;
      return emit(BINARY[p]!, [name(a!, common), name(b!, common)], {}, out);
    }
    switch (p) {
      case "notEqual": {
        const common = commonOf(a!, b!);
        return emit("Not", [emit("Equal", [name(a!, common), name(b!, common)])], {}, out);
      }
      case "square": {
        const x = name(a!, step.dtype);
        return emit("Mul", [x, x], {}, out);
      }
      case "rsqrt": return emit("Reciprocal", [emit("Sqrt", [name(a!, step.dtype)])], {}, out);
      case "expm1": return emit("Sub", [emit("Exp", [name(a!, step.dtype)]), scalar(1, step.dtype)], {}, out);
      case "log1p": return emit("Log", [emit("Add", [name(a!, step.dtype), scalar(1, step.dtype)])], {}, out);
      case "matmul": {
        const tr = step.params as { a: boolean; b: boolean } | null;
        const swap = (v: ProgramValue, t: boolean): string => {
          const n = name(v, step.dtype);
          if (!t) return n;
          const r = shapeOf(v).length;
          const perm = [...Array(r).keys()];
          [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
          return emit("Transpose", [n], { perm });
        };
        return emit("MatMul", [swap(a!, tr?.a ?? false), swap(b!, tr?.b ?? false)], {}, out);
      }
      case "reshape": {
        const from = shapeOf(a!);
        const target = (step.params as readonly number[]).map((d, k) => (k === 0 && batch !== null && d === batch && from[0] === batch ? 0 : d));
        return emit("Reshape", [name(a!), ints(target)], {}, out);
      }
      case "transpose": return emit("Transpose", [name(a!)], { perm: [...(step.params as readonly number[])] }, out);
      case "broadcastTo": {
        const from = shapeOf(a!), to = step.params as readonly number[];
        const lead = to.length - from.length;
        // Expand broadcasts both ways, so a 1 where the input already has the size keeps the input's (dynamic) size.
        const target = to.map((d, k) => (k >= lead && from[k - lead] === d ? 1 : d));
        return emit("Expand", [name(a!), ints(target)], {}, out);
      }
      case "sum": {
        const { axes, keepDims } = step.params as { axes: readonly number[]; keepDims: boolean };
        if (axes.length === 0) return emit("Identity", [name(a!, step.dtype)], {}, out);
        return emit("ReduceSum", [name(a!, step.dtype), ints(axes)], { keepdims: keepDims ? 1 : 0 }, out);
      }
      case "max": case "min": case "prod": {
        const { axes, keepDims } = step.params as { axes: readonly number[]; keepDims: boolean };
        if (axes.length === 0) return emit("Identity", [name(a!, step.dtype)], {}, out);
        return emit(REDUCE[p]!, [name(a!, step.dtype)], { axes: [...axes], keepdims: keepDims ? 1 : 0 }, out);
      }
      case "cast": return emit("Cast", [name(a!)], { to: onnxTypeCode(step.dtype) }, out);
      case "where": return emit("Where", [name(a!, "bool"), name(b!, step.dtype), name(c!, step.dtype)], {}, out);
      case "concat": return emit("Concat", step.inputs.map((v) => name(v, step.dtype)), { axis: step.params as number }, out);
      case "conv2d": {
        const g = step.params as { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number };
        const ins = [name(a!, step.dtype), name(b!, step.dtype)];
        if (c !== undefined) ins.push(name(c, step.dtype));
        return emit("Conv", ins, { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [g.ph, g.pw, g.ph, g.pw] }, out);
      }
      case "maxPool2d": {
        const g = step.params as { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number };
        return emit("MaxPool", [name(a!, step.dtype)], { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [g.ph, g.pw, g.ph, g.pw] }, out);
      }
      default:
        throw new ValueError(
          `${op}: the op "${p}" has no ONNX lowering; the exportable ops are ${LOWERED_OPS.join(", ")}. ` +
            "Compute it outside the exported function, or open an issue naming the op",
        );
    }
  }

  function commonOf(a: ProgramValue, b: ProgramValue): DType {
    const da = a.kind === "const" ? a.value.dtype : a.dtype, db = b.kind === "const" ? b.value.dtype : b.dtype;
    // A constant adopts the traced operand's dtype (chainrule's plain numbers are float32 scalars).
    if (a.kind === "const" && b.kind !== "const") return db;
    if (b.kind === "const" && a.kind !== "const") return da;
    return da === db ? da : da === "float64" || db === "float64" ? "float64" : "float32";
  }

  const last = program.output;
  const outputName = last.kind === "step" && last.step === program.steps.length - 1 ? "output" : emit("Identity", [name(last)], {}, "output");
  const outShape = last.kind === "const" ? last.value.shape : last.shape;
  const outDtype = last.kind === "const" ? last.value.dtype : last.dtype;
  return {
    inputs: program.inputs.map((x, i) => ({ name: `input_${i}`, shape: x.shape, dtype: x.dtype })),
    output: { name: outputName, shape: outShape, dtype: outDtype },
    nodes,
    initializers,
  };
}

/** ONNX TensorProto.DataType codes. */
export function onnxTypeCode(dtype: DType | "int64"): number {
  switch (dtype) {
    case "float32": return 1;
    case "int32": return 6;
    case "int64": return 7;
    case "bool": return 9;
    case "float64": return 11;
  }
}
