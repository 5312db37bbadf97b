import { Tensor, type TensorLike } from "../core/tensor.js";
import { isFloat, type DType } from "../core/dtype.js";
import { toTensor } from "./creation.js";
import { ValueError } from "../core/errors.js";

/**
 * Converts the operands of a binary op. A plain number is "weakly typed" as in JAX: it takes the
 * other operand's dtype, unless that is int32/bool and the number is fractional (then float32).
 * @throws ValueError when an operand is neither a tensor nor a number
 */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const at = a instanceof Tensor;
  const bt = b instanceof Tensor;
  if (at && bt) return [a, b];
  if (!at && typeof a !== "number") throw new ValueError(`${op}: first argument must be a tensor or a number, got ${describe(a)}`);
  if (!bt && typeof b !== "number") throw new ValueError(`${op}: second argument must be a tensor or a number, got ${describe(b)}`);
  if (at) return [a, toTensor(b, weakDtype(a.dtype, b as number))];
  if (bt) return [toTensor(a, weakDtype(b.dtype, a as number)), b];
  return [toTensor(a), toTensor(b)];
}

function weakDtype(other: DType, n: number): DType {
  if (isFloat(other)) return other;
  return Number.isInteger(n) ? (other === "bool" ? "int32" : other) : "float32";
}

/** @throws ValueError when `x` is neither a tensor nor a number */
export function operand(op: string, x: TensorLike): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== "number") throw new ValueError(`${op}: argument must be a tensor or a number, got ${describe(x)}`);
  return toTensor(x);
}

/** What a wrong operand is, for errors: arrays get a hint, since `[[1, 2]]` for a tensor is the usual slip. */
function describe(x: unknown): string {
  return Array.isArray(x) ? "an array (wrap it: tensor([...]))" : typeof x;
}
