import { DTypeError } from "./errors.js";

/** Element types. `float32` is the default, as in PyTorch and JAX. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** Storage for each dtype: bool is stored as 0/1 bytes. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** All dtypes, narrowest first. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

// Tiny arrays (scalars, mostly) are carved out of shared slabs: a view on an existing ArrayBuffer costs one
// object, while a fresh ArrayBuffer costs three plus an off-heap allocation, which dominated GC time on
// long scalar chains. A live tiny tensor pins at most one 4 KiB slab.
const SLAB_BYTES = 4096;
const TINY = 4;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function fromSlab(bytesPerElement: number, size: number): ArrayBuffer {
  const need = bytesPerElement * size;
  // Keep every view aligned to 8 bytes so Float64Array views are valid.
  if (slabUsed + need > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  return slab;
}

/** Allocates zeroed storage of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  if (size <= TINY && size > 0) {
    const bpe = dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;
    const buf = fromSlab(bpe, size);
    const offset = slabUsed;
    slabUsed += (bpe * size + 7) & ~7;
    switch (dtype) {
      case "float32":
        return new Float32Array(buf, offset, size);
      case "float64":
        return new Float64Array(buf, offset, size);
      case "int32":
        return new Int32Array(buf, offset, size);
      case "bool":
        return new Uint8Array(buf, offset, size);
    }
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}

/**
 * Checks a dtype given at run time (JavaScript callers can pass any string).
 * @throws DTypeError naming `op` and the accepted dtypes
 */
export function checkDType(op: string, dtype: unknown): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype) ?? String(dtype)}; expected one of ${DTYPES.join(", ")}`);
  }
}

/** True for the dtypes gradients can flow through. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Result dtype of a binary op: the wider of the two (bool < int32 < float32 < float64), as NumPy does. */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Short dtype names used in printed programs: f32, f64, i32, bool. */
export function shortName(dtype: DType): string {
  return dtype === "float32" ? "f32" : dtype === "float64" ? "f64" : dtype === "int32" ? "i32" : "bool";
}
