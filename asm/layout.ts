// Layout kernels of src/kernels/layout.ts (broadcast, transpose, reductions) for float32 and float64. Shapes
// arrive collapsed by the glue (src/kernels/wasm/layout.ts): adjacent dimensions that move together are merged,
// so most calls have rank 1-3. Dimensions and strides are int32 arrays in memory at `meta`.
import { copyBytes, fillRun } from "./conv";

/**
 * dst (contiguous, shape dims[0..rank)) = src read with element stride strides[d] along dimension d (0 repeats
 * the source: a broadcast; a permutation of the source's strides: a transpose). `meta` holds dims, then strides,
 * then `rank` int32 of scratch for the index. Runs along the last dimension are copied (stride 1), filled
 * (stride 0) or gathered.
 */
@inline function stridedCopy<T>(src: usize, dst: usize, rank: i32, meta: usize): void {
  const S = <usize>sizeof<T>();
  const dims = meta, strides = meta + <usize>rank * 4, idx = meta + <usize>rank * 8;
  const inner = load<i32>(dims + <usize>(rank - 1) * 4), ist = load<i32>(strides + <usize>(rank - 1) * 4);
  let outer = 1;
  for (let d = 0; d < rank - 1; d++) {
    outer *= load<i32>(dims + <usize>d * 4);
    store<i32>(idx + <usize>d * 4, 0);
  }
  let si = 0;
  let o = dst;
  const runBytes = <usize>inner * S;
  for (let t = 0; t < outer; t++) {
    const s = src + <usize>si * S;
    if (ist == 1) copyBytes(o, s, runBytes);
    else if (ist == 0) fillRun<T>(o, load<T>(s), inner);
    else for (let q = 0; q < inner; q++) store<T>(o + <usize>q * S, load<T>(s + <usize>(q * ist) * S));
    o += runBytes;
    for (let d = rank - 2; d >= 0; d--) {
      const p = idx + <usize>d * 4, n = load<i32>(dims + <usize>d * 4), st = load<i32>(strides + <usize>d * 4);
      const i = load<i32>(p) + 1;
      si += st;
      if (i < n) { store<i32>(p, i); break; }
      si -= st * n;
      store<i32>(p, 0);
    }
  }
}

/** Strided copy (see stridedCopy) of float32 elements. */
export function stridedCopyF32(src: usize, dst: usize, rank: i32, meta: usize): void { stridedCopy<f32>(src, dst, rank, meta); }
/** Strided copy (see stridedCopy) of float64 elements. */
export function stridedCopyF64(src: usize, dst: usize, rank: i32, meta: usize): void { stridedCopy<f64>(src, dst, rank, meta); }

/** Side of the square tiles of a transpose: a 32×32 float64 tile is 8 KB, so source and destination tiles share L1. */
const TILE = 32;

/** dst[j·rows + i] = src[i·cols + j] for `batch` consecutive rows×cols matrices, in tiles. */
@inline function transpose2d<T>(src: usize, batch: i32, rows: i32, cols: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const mat = <usize>rows * <usize>cols * S;
  for (let b = 0; b < batch; b++) {
    const s = src + <usize>b * mat, d = dst + <usize>b * mat;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = min(j0 + TILE, cols);
        for (let j = j0; j < j1; j++) {
          const dr = d + <usize>j * <usize>rows * S;
          for (let i = i0; i < i1; i++) store<T>(dr + <usize>i * S, load<T>(s + (<usize>i * <usize>cols + <usize>j) * S));
        }
      }
    }
  }
}

/** Batched 2-D transpose of float32 matrices (see transpose2d). */
export function transpose2dF32(src: usize, batch: i32, rows: i32, cols: i32, dst: usize): void { transpose2d<f32>(src, batch, rows, cols, dst); }
/** Batched 2-D transpose of float64 matrices (see transpose2d). */
export function transpose2dF64(src: usize, batch: i32, rows: i32, cols: i32, dst: usize): void { transpose2d<f64>(src, batch, rows, cols, dst); }

const SUM = 0, MAX = 1, MIN = 2, PROD = 3;

/** acc ∘ v for the reduction `kind`, as the js kernel: max/min take v when it is beyond acc or NaN (NaN sticks; ties keep the first). */
@inline function combine(kind: i32, acc: f64, v: f64): f64 {
  if (kind == SUM) return acc + v;
  if (kind == PROD) return acc * v;
  if (kind == MAX) return v > acc || v != v ? v : acc;
  return v < acc || v != v ? v : acc;
}

/** Two lanes of `combine`. */
@inline function combine2(kind: i32, acc: v128, v: v128): v128 {
  if (kind == SUM) return f64x2.add(acc, v);
  if (kind == PROD) return f64x2.mul(acc, v);
  if (kind == MAX) return v128.bitselect(v, acc, v128.or(f64x2.gt(v, acc), f64x2.ne(v, v)));
  return v128.bitselect(v, acc, v128.or(f64x2.lt(v, acc), f64x2.ne(v, v)));
}

/**
 * The reduction of `count` elements from `p`, in float64. Sums use four running sums (two vectors) added at the
 * end; max, min and products go in order, so ties and rounding are the js kernel's.
 */
@inline function reduceRun<T>(kind: i32, p: usize, count: i32, init: f64): f64 {
  const S = <usize>sizeof<T>();
  const end = p + <usize>count * S;
  let q = p;
  let acc = init;
  if (kind == SUM) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (; q + 16 <= end; q += 16) {
      const v = v128.load(q);
      if (sizeof<T>() == 4) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)));
      } else {
        s0 = f64x2.add(s0, v);
      }
    }
    const s = f64x2.add(s0, s1);
    acc += f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; q < end; q += S) acc = combine(kind, acc, <f64>load<T>(q));
  return acc;
}

/**
 * acc[i] ∘= src[i] for i < count, acc in float64 (two lanes at a time): the reduction over a leading axis,
 * in the js kernel's order for each output.
 */
@inline function combineRun<T>(kind: i32, acc: usize, src: usize, count: i32): void {
  let i = 0;
  if (sizeof<T>() == 4) {
    for (; i + 4 <= count; i += 4) {
      const v = v128.load(src + <usize>i * 4), a = acc + <usize>i * 8;
      v128.store(a, combine2(kind, v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a + 16, combine2(kind, v128.load(a + 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3))));
    }
  } else {
    for (; i + 2 <= count; i += 2) {
      const a = acc + <usize>i * 8;
      v128.store(a, combine2(kind, v128.load(a), v128.load(src + <usize>i * 8)));
    }
  }
  for (; i < count; i++) {
    const a = acc + <usize>i * 8;
    store<f64>(a, combine(kind, load<f64>(a), <f64>load<T>(src + <usize>i * sizeof<T>())));
  }
}

/**
 * Reduces `src` into the float64 accumulators `acc` (initialised by the caller to the reduction's identity).
 * The source is `outer` rows of `inner` contiguous elements, the rows indexed by the `rank` outer dimensions at
 * `meta` (their sizes, then each one's stride in `acc`, 0 for a reduced dimension, then `rank` int32 of
 * scratch). With `innerReduced` each row reduces to one value combined into acc[row's offset]; without, the
 * row is combined elementwise into acc from the row's offset. Covers every pattern of reduced axes once the
 * glue has merged adjacent dimensions: trailing ([kept, reduced]), leading ([reduced, kept]) and kept-middle
 * ([reduced, kept, reduced], the NCHW bias gradient) alike.
 */
@inline function reduce<T>(kind: i32, src: usize, rank: i32, meta: usize, inner: i32, innerReduced: i32, acc: usize): void {
  const S = <usize>sizeof<T>();
  const dims = meta, strides = meta + <usize>rank * 4, idx = meta + <usize>rank * 8;
  let outer = 1;
  for (let d = 0; d < rank; d++) {
    outer *= load<i32>(dims + <usize>d * 4);
    store<i32>(idx + <usize>d * 4, 0);
  }
  const init: f64 = kind == SUM ? 0 : kind == PROD ? 1 : kind == MAX ? -Infinity : Infinity;
  let ai = 0;
  let s = src;
  const runBytes = <usize>inner * S;
  for (let t = 0; t < outer; t++) {
    const a = acc + <usize>ai * 8;
    if (innerReduced) store<f64>(a, combine(kind, load<f64>(a), reduceRun<T>(kind, s, inner, init)));
    else combineRun<T>(kind, a, s, inner);
    s += runBytes;
    for (let d = rank - 1; d >= 0; d--) {
      const p = idx + <usize>d * 4, n = load<i32>(dims + <usize>d * 4), st = load<i32>(strides + <usize>d * 4);
      const i = load<i32>(p) + 1;
      ai += st;
      if (i < n) { store<i32>(p, i); break; }
      ai -= st * n;
      store<i32>(p, 0);
    }
  }
}

@inline function reduceKinds<T>(kind: i32, src: usize, rank: i32, meta: usize, inner: i32, innerReduced: i32, acc: usize): void {
  // One instance per kind, so the kind tests fold away inside the loops.
  if (kind == SUM) reduce<T>(SUM, src, rank, meta, inner, innerReduced, acc);
  else if (kind == MAX) reduce<T>(MAX, src, rank, meta, inner, innerReduced, acc);
  else if (kind == MIN) reduce<T>(MIN, src, rank, meta, inner, innerReduced, acc);
  else reduce<T>(PROD, src, rank, meta, inner, innerReduced, acc);
}

/** Reduction (0 sum, 1 max, 2 min, 3 prod; see `reduce`) of float32 elements into float64 accumulators. */
export function reduceF32(kind: i32, src: usize, rank: i32, meta: usize, inner: i32, innerReduced: i32, acc: usize): void {
  reduceKinds<f32>(kind, src, rank, meta, inner, innerReduced, acc);
}
/** Reduction (see `reduce`) of float64 elements into float64 accumulators. */
export function reduceF64(kind: i32, src: usize, rank: i32, meta: usize, inner: i32, innerReduced: i32, acc: usize): void {
  reduceKinds<f64>(kind, src, rank, meta, inner, innerReduced, acc);
}

/** dst[i] = f32(src[i]) for i < n: float64 accumulators rounded once into float32 results. */
export function narrowF64(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) store<f32>(dst + <usize>i * 4, <f32>load<f64>(src + <usize>i * 8));
}
