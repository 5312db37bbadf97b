/** Element types. `float32` is the default, as in PyTorch and JAX. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** Storage for each dtype: bool is stored as 0/1 bytes. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** Allocates zeroed storage of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
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
