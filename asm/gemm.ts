// GEMM for float32 and float64, GotoBLAS/BLIS style (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", ACM TOMS 34(3), 2008; Van Zee & van de Geijn, "BLIS", ACM TOMS 41(3), 2015):
//   for each KC×NC block of B: pack it into NR-column panels (stays in L3);
//     for each MC×KC block of A: pack it into MR-row panels (L2);
//       for each NR-wide panel of B (L1) and each MR-tall panel of A: the micro-kernel keeps the MR×NR tile of
//       C in v128 registers and streams both panels.
// Sums are in the element type (float32 accumulates in float32, as BLAS sgemm does). Every element of C adds
// its products in order of p within a depth block, and the depth blocks into C in turn, whatever m and n are,
// so a product split by rows or columns over threads gives the same bits as one call. Padding lanes of
// partial panels are zero and never stored; nothing skips zeros, so NaN and ±Infinity propagate as in the
// triple loop.
import { depthBlock, rowBlock } from "./blocking";

// Block sizes: on Zen 3 (32 KB L1d, 512 KB L2) every combination of KC 128-512, MC 64-480 and NC 1024-4096 measured
// within noise (±5%) of these; the micro-kernel, not the memory hierarchy, bounds the speed.

/** Rows of a micro-tile (its columns are two vectors: 8 float32 or 4 float64). */
const MR: i32 = 4;
/** Columns of a micro-tile: two v128 of T. */
@inline function nr<T>(): i32 { return 32 / sizeof<T>(); }
/** Depth block: a packed B panel is KC·NR·sizeof(T) = 8 KB (L1). */
const KC: i32 = 256;
/** Rows of a packed A block: MC·KC·sizeof(T) = 120 KB (float32) / 192 KB (float64), for L2. */
@inline function mcOf<T>(): i32 { return sizeof<T>() == 4 ? 120 : 96; }
/** Columns of a packed B block: KC·NC·sizeof(T) = 2 MB (L3). */
@inline function ncOf<T>(): i32 { return sizeof<T>() == 4 ? 2048 : 1024; }

@inline function workspace<T>(): i32 {
  return (mcOf<T>() * KC + KC * ncOf<T>() + MR * nr<T>()) * sizeof<T>();
}

/** Bytes of workspace `sgemm` needs. */
export function sgemmWorkspace(): i32 { return workspace<f32>(); }
/** Bytes of workspace `dgemm` needs. */
export function dgemmWorkspace(): i32 { return workspace<f64>(); }

/**
 * C = A·B (accumulate = 0) or C += A·B (accumulate = 1) in float32. Pointers are byte addresses of element 0,
 * strides are in elements: A(i,p) at a[i·ars + p·acs], B(p,j) at b[p·brs + j·bcs], C(i,j) at c[i·ldc + j].
 * `ws` points at sgemmWorkspace() bytes of scratch, 16-byte aligned.
 */
export function sgemm(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32, ws: usize): void {
  gemm<f32>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, accumulate, ws);
}

/** As sgemm, in float64; `ws` points at dgemmWorkspace() bytes. */
export function dgemm(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32, ws: usize): void {
  gemm<f64>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, accumulate, ws);
}

@inline function gemm<T>(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32, ws: usize): void {
  const S = <usize>sizeof<T>();
  const NR = nr<T>(), MC = mcOf<T>(), NC = ncOf<T>();
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + <usize>(i * ldc) * S, 0, <usize>n * S);
    return;
  }
  if (m < MR && bcs == 1) {
    // A row or three times a row-major B: packing would pad A to MR rows and copy all of B for little work.
    fewRows<T>(a, ars, acs, b, brs, c, ldc, m, k, n, accumulate);
    return;
  }
  const pa = ws;
  const pb = ws + <usize>(MC * KC) * S;
  const tile = pb + <usize>(KC * NC) * S;
  const kb = depthBlock(k, KC);
  const mb = rowBlock(m, MC, MR);
  const ldcb = <usize>ldc * S;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kb) {
      const kc = min(kb, k - pc);
      const add = accumulate != 0 || pc > 0;
      packB<T>(b + (<usize>pc * brs + <usize>jc * bcs) * S, brs, bcs, kc, nc, pb);
      for (let ic = 0; ic < m; ic += mb) {
        const mc = min(mb, m - ic);
        packA<T>(a + (<usize>ic * ars + <usize>pc * acs) * S, ars, acs, mc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = min(NR, nc - jr);
          const bp = pb + <usize>(jr * kc) * S;
          for (let ir = 0; ir < mc; ir += MR) {
            const h = min(MR, mc - ir);
            const ap = pa + <usize>(ir * kc) * S;
            const cp = c + (<usize>(ic + ir) * ldc + <usize>(jc + jr)) * S;
            if (h == MR && w == NR) kernel<T>(ap, bp, kc, cp, ldcb, add);
            else {
              // Edge tile: compute the whole tile into scratch, then store (or add) its valid corner.
              kernel<T>(ap, bp, kc, tile, <usize>NR * S, false);
              for (let i = 0; i < h; i++) {
                for (let j = 0; j < w; j++) {
                  const at = cp + <usize>i * ldcb + <usize>j * S;
                  const t = load<T>(tile + <usize>(i * NR + j) * S);
                  store<T>(at, add ? load<T>(at) + t : t);
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * C = A·B for m < MR rows and a B with unit column stride, without packing: for each row of C and each depth
 * block, strips of four vectors of C are summed over p from B's rows, then the rest one vector, then one
 * element at a time. Each element adds the same products in the same order, in the same depth blocks, as the
 * packed path, so the bits match it (a part of a product split over threads may take either path).
 */
function fewRows<T>(a: usize, ars: i32, acs: i32, b: usize, brs: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>(); // elements per vector
  const kb = depthBlock(k, KC);
  const brsb = <usize>brs * S, acsb = <usize>acs * S;
  for (let i = 0; i < m; i++) {
    const ai = a + <usize>i * <usize>ars * S;
    const ci = c + <usize>i * <usize>ldc * S;
    for (let pc = 0; pc < k; pc += kb) {
      const kc = min(kb, k - pc);
      const add = accumulate != 0 || pc > 0;
      const a0 = ai + <usize>pc * acsb, b0 = b + <usize>pc * brsb;
      let j = 0;
      for (; j + 4 * V <= n; j += 4 * V) {
        let s0 = v128.splat<T>(0), s1 = v128.splat<T>(0), s2 = v128.splat<T>(0), s3 = v128.splat<T>(0);
        let ap = a0, bp = b0 + <usize>j * S;
        for (let p = 0; p < kc; p++) {
          const av = v128.splat<T>(load<T>(ap));
          s0 = v128.add<T>(s0, v128.mul<T>(av, v128.load(bp)));
          s1 = v128.add<T>(s1, v128.mul<T>(av, v128.load(bp, 16)));
          s2 = v128.add<T>(s2, v128.mul<T>(av, v128.load(bp, 32)));
          s3 = v128.add<T>(s3, v128.mul<T>(av, v128.load(bp, 48)));
          ap += acsb;
          bp += brsb;
        }
        const cp = ci + <usize>j * S;
        if (add) {
          s0 = v128.add<T>(v128.load(cp), s0); s1 = v128.add<T>(v128.load(cp, 16), s1);
          s2 = v128.add<T>(v128.load(cp, 32), s2); s3 = v128.add<T>(v128.load(cp, 48), s3);
        }
        v128.store(cp, s0); v128.store(cp, s1, 16); v128.store(cp, s2, 32); v128.store(cp, s3, 48);
      }
      for (; j + V <= n; j += V) {
        let s0 = v128.splat<T>(0);
        let ap = a0, bp = b0 + <usize>j * S;
        for (let p = 0; p < kc; p++) {
          s0 = v128.add<T>(s0, v128.mul<T>(v128.splat<T>(load<T>(ap)), v128.load(bp)));
          ap += acsb;
          bp += brsb;
        }
        const cp = ci + <usize>j * S;
        v128.store(cp, add ? v128.add<T>(v128.load(cp), s0) : s0);
      }
      for (; j < n; j++) {
        let s0 = <T>0;
        let ap = a0, bp = b0 + <usize>j * S;
        for (let p = 0; p < kc; p++) {
          s0 += load<T>(ap) * load<T>(bp);
          ap += acsb;
          bp += brsb;
        }
        const cp = ci + <usize>j * S;
        store<T>(cp, add ? load<T>(cp) + s0 : s0);
      }
    }
  }
}

/**
 * Packs an mc×kc block of A into MR-row panels: A(i,p) goes to dst[(⌊i/MR⌋·kc + p)·MR + i mod MR]; rows past
 * mc are zero. The inner loop walks whichever of A's strides is unit.
 */
function packA<T>(a: usize, ars: i32, acs: i32, mc: i32, kc: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const arsb = <usize>ars * S, acsb = <usize>acs * S;
  for (let ip = 0; ip < mc; ip += MR) {
    const h = min(MR, mc - ip);
    const d0 = dst + <usize>(ip * kc) * S;
    const s0 = a + <usize>ip * arsb;
    if (h < MR) memory.fill(d0, 0, <usize>(MR * kc) * S);
    if (acs == 1) {
      for (let i = 0; i < h; i++) {
        const s = s0 + <usize>i * arsb;
        const d = d0 + <usize>i * S;
        for (let p = 0; p < kc; p++) store<T>(d + <usize>(p * MR) * S, load<T>(s + <usize>p * S));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = s0 + <usize>p * acsb;
        const d = d0 + <usize>(p * MR) * S;
        for (let i = 0; i < h; i++) store<T>(d + <usize>i * S, load<T>(s + <usize>i * arsb));
      }
    }
  }
}

/**
 * Packs a kc×nc block of B into NR-column panels: B(p,j) goes to dst[(⌊j/NR⌋·kc + p)·NR + j mod NR]; columns
 * past nc are zero. A row-major B (bcs = 1) moves one panel row (32 bytes) with two vector copies.
 */
function packB<T>(b: usize, brs: i32, bcs: i32, kc: i32, nc: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const NR = nr<T>();
  const brsb = <usize>brs * S, bcsb = <usize>bcs * S;
  for (let jp = 0; jp < nc; jp += NR) {
    const w = min(NR, nc - jp);
    const d0 = dst + <usize>(jp * kc) * S;
    const s0 = b + <usize>jp * bcsb;
    if (w == NR && bcs == 1) {
      for (let p = 0; p < kc; p++) {
        const s = s0 + <usize>p * brsb;
        const d = d0 + <usize>p * 32;
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (w == NR && brs == 1) {
      for (let j = 0; j < NR; j++) {
        const s = s0 + <usize>j * bcsb;
        const d = d0 + <usize>j * S;
        for (let p = 0; p < kc; p++) store<T>(d + <usize>p * 32, load<T>(s + <usize>p * S));
      }
    } else {
      if (w < NR) memory.fill(d0, 0, <usize>(NR * kc) * S);
      for (let p = 0; p < kc; p++) {
        const s = s0 + <usize>p * brsb;
        const d = d0 + <usize>p * 32;
        for (let j = 0; j < w; j++) store<T>(d + <usize>j * S, load<T>(s + <usize>j * bcsb));
      }
    }
  }
}

@inline function kernel<T>(ap: usize, bp: usize, kc: i32, cp: usize, ldcb: usize, add: bool): void {
  if (sizeof<T>() == 4) kernelF32(ap, bp, kc, cp, ldcb, add);
  else kernelF64(ap, bp, kc, cp, ldcb, add);
}

/**
 * The float32 4×8 micro-kernel: tile = (4×kc panel of A)·(kc×8 panel of B), stored at `cp` (row stride `ldcb`
 * bytes) or added to what is there when `add`. Each step loads one row of the B panel (two vectors) and
 * broadcasts each of A's four values (v128.load32_splat → vbroadcastss): 8 accumulators + 2 + 4 + 1 temporary
 * = 15 xmm registers. V8 schedules a step's loads ahead of its arithmetic, so a 6×8 tile or an unrolled loop
 * spills accumulators (measured 30-40% slower); the loop runs on the A pointer alone (no counter, ~10% faster).
 */
function kernelF32(ap: usize, bp: usize, kc: i32, cp: usize, ldcb: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = ap + <usize>kc * 16;
  while (ap < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0)); c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0)); c31 = f32x4.add(c31, f32x4.mul(av, b1));
    ap += 16;
    bp += 32;
  }
  if (add) {
    let q = cp;
    c00 = f32x4.add(v128.load(q), c00); c01 = f32x4.add(v128.load(q, 16), c01); q += ldcb;
    c10 = f32x4.add(v128.load(q), c10); c11 = f32x4.add(v128.load(q, 16), c11); q += ldcb;
    c20 = f32x4.add(v128.load(q), c20); c21 = f32x4.add(v128.load(q, 16), c21); q += ldcb;
    c30 = f32x4.add(v128.load(q), c30); c31 = f32x4.add(v128.load(q, 16), c31);
  }
  v128.store(cp, c00); v128.store(cp, c01, 16); cp += ldcb;
  v128.store(cp, c10); v128.store(cp, c11, 16); cp += ldcb;
  v128.store(cp, c20); v128.store(cp, c21, 16); cp += ldcb;
  v128.store(cp, c30); v128.store(cp, c31, 16);
}

/** The float64 4×4 micro-kernel: as kernelF32 with f64x2 lanes (two vectors = 4 columns; v128.load64_splat). */
function kernelF64(ap: usize, bp: usize, kc: i32, cp: usize, ldcb: usize, add: bool): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  const end = ap + <usize>kc * 32;
  while (ap < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load64_splat(ap);
    c00 = f64x2.add(c00, f64x2.mul(av, b0)); c01 = f64x2.add(c01, f64x2.mul(av, b1));
    av = v128.load64_splat(ap, 8);
    c10 = f64x2.add(c10, f64x2.mul(av, b0)); c11 = f64x2.add(c11, f64x2.mul(av, b1));
    av = v128.load64_splat(ap, 16);
    c20 = f64x2.add(c20, f64x2.mul(av, b0)); c21 = f64x2.add(c21, f64x2.mul(av, b1));
    av = v128.load64_splat(ap, 24);
    c30 = f64x2.add(c30, f64x2.mul(av, b0)); c31 = f64x2.add(c31, f64x2.mul(av, b1));
    ap += 32;
    bp += 32;
  }
  if (add) {
    let q = cp;
    c00 = f64x2.add(v128.load(q), c00); c01 = f64x2.add(v128.load(q, 16), c01); q += ldcb;
    c10 = f64x2.add(v128.load(q), c10); c11 = f64x2.add(v128.load(q, 16), c11); q += ldcb;
    c20 = f64x2.add(v128.load(q), c20); c21 = f64x2.add(v128.load(q, 16), c21); q += ldcb;
    c30 = f64x2.add(v128.load(q), c30); c31 = f64x2.add(v128.load(q, 16), c31);
  }
  v128.store(cp, c00); v128.store(cp, c01, 16); cp += ldcb;
  v128.store(cp, c10); v128.store(cp, c11, 16); cp += ldcb;
  v128.store(cp, c20); v128.store(cp, c21, 16); cp += ldcb;
  v128.store(cp, c30); v128.store(cp, c31, 16);
}
