// Sliding-window kernels of src/kernels/conv.ts for float32 and float64, in the js kernels' element order, so
// that their results are identical to the js ones (im2col and the pooling gathers only move values; col2im and
// the pooling scatter add each destination's contributions in the same sequence, and a float32 sum rounded
// once from float64 equals float32 addition). Geometry arguments follow WindowGeometry: n images of c planes
// h×w, a kh×kw window moved by (sh, sw) over the input padded by (ph, pw), giving oh×ow outputs per plane.
// Pointers are byte addresses; the glue (src/kernels/wasm/conv.ts) owns the memory.

/** Copies `bytes` bytes (a multiple of 4) from `src` to `dst`, a vector at a time; the ranges do not overlap. */
@inline export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<u32>(dst + i, load<u32>(src + i));
}

/** Stores `value` into `count` consecutive elements from `dst`. */
@inline export function fillRun<T>(dst: usize, value: T, count: i32): void {
  for (let i = 0; i < count; i++) store<T>(dst + <usize>i * sizeof<T>(), value);
}

/** dst[i] += src[i] for i < count (a vector at a time; dst and src do not overlap). */
@inline function addRun<T>(dst: usize, src: usize, count: i32): void {
  const bytes = <usize>count * sizeof<T>();
  let i: usize = 0;
  if (sizeof<T>() == 4) for (; i + 16 <= bytes; i += 16) v128.store(dst + i, f32x4.add(v128.load(dst + i), v128.load(src + i)));
  else for (; i + 16 <= bytes; i += 16) v128.store(dst + i, f64x2.add(v128.load(dst + i), v128.load(src + i)));
  for (; i < bytes; i += sizeof<T>()) store<T>(dst + i, load<T>(dst + i) + load<T>(src + i));
}

/** ⌈a / b⌉ for b > 0 and a of either sign. */
@inline function ceilDiv(a: i32, b: i32): i32 { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
/** ⌊a / b⌋ for b > 0 and a of either sign. */
@inline function floorDiv(a: i32, b: i32): i32 { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/** First output column whose window column kj lies inside the image (0 ≤ q·sw − pw + kj). */
@inline function firstColumn(kj: i32, sw: i32, pw: i32, ow: i32): i32 { return min(ow, max(0, ceilDiv(pw - kj, sw))); }
/** One past the last output column whose window column kj lies inside the image (q·sw − pw + kj < w). */
@inline function endColumn(lo: i32, kj: i32, w: i32, sw: i32, pw: i32, ow: i32): i32 { return max(lo, min(ow, floorDiv(w - 1 + pw - kj, sw) + 1)); }

@inline function im2col<T>(x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, pad: T, cols: usize): void {
  const S = <usize>sizeof<T>();
  const plane = <usize>h * <usize>w * S, rowBytes = <usize>ow * S;
  let o = cols;
  if (sh == 1 && sw == 1 && ph == 0 && pw == 0) {
    // Stride 1 without padding: every output row is one in-bounds run of the input.
    const step = <usize>w * S;
    for (let ci = 0; ci < c; ci++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
      for (let ni = 0; ni < n; ni++) {
        let s = x + <usize>(ni * c + ci) * plane + <usize>(ki * w + kj) * S;
        for (let r = 0; r < oh; r++) {
          copyBytes(o, s, rowBytes);
          o += rowBytes;
          s += step;
        }
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    const lo = firstColumn(kj, sw, pw, ow), hi = endColumn(lo, kj, w, sw, pw, ow);
    for (let ni = 0; ni < n; ni++) {
      const base = x + <usize>(ni * c + ci) * plane;
      for (let r = 0; r < oh; r++) {
        const ih = r * sh - ph + ki;
        if (ih < 0 || ih >= h) {
          fillRun<T>(o, pad, ow);
        } else {
          if (lo > 0) fillRun<T>(o, pad, lo);
          if (hi < ow) fillRun<T>(o + <usize>hi * S, pad, ow - hi);
          const row = base + <usize>(ih * w) * S;
          if (sw == 1) copyBytes(o + <usize>lo * S, row + <usize>(lo - pw + kj) * S, <usize>(hi - lo) * S);
          else for (let q = lo; q < hi; q++) store<T>(o + <usize>q * S, load<T>(row + <usize>(q * sw - pw + kj) * S));
        }
        o += rowBytes;
      }
    }
  }
}

@inline function col2im<T>(cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, x: usize): void {
  const S = <usize>sizeof<T>();
  const plane = <usize>h * <usize>w * S, rowBytes = <usize>ow * S;
  let o = cols;
  if (sh == 1 && sw == 1 && ph == 0 && pw == 0) {
    const step = <usize>w * S;
    for (let ci = 0; ci < c; ci++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
      for (let ni = 0; ni < n; ni++) {
        let d = x + <usize>(ni * c + ci) * plane + <usize>(ki * w + kj) * S;
        for (let r = 0; r < oh; r++) {
          addRun<T>(d, o, ow);
          o += rowBytes;
          d += step;
        }
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    const lo = firstColumn(kj, sw, pw, ow), hi = endColumn(lo, kj, w, sw, pw, ow);
    for (let ni = 0; ni < n; ni++) {
      const base = x + <usize>(ni * c + ci) * plane;
      for (let r = 0; r < oh; r++) {
        const ih = r * sh - ph + ki;
        if (ih >= 0 && ih < h) {
          const row = base + <usize>(ih * w) * S;
          if (sw == 1) addRun<T>(row + <usize>(lo - pw + kj) * S, o + <usize>lo * S, hi - lo);
          else for (let q = lo; q < hi; q++) {
            const d = row + <usize>(q * sw - pw + kj) * S;
            store<T>(d, load<T>(d) + load<T>(o + <usize>q * S));
          }
        }
        o += rowBytes;
      }
    }
  }
}

/**
 * im2col: every kh×kw window of the NCHW batch at `x` into `cols`, laid out [C, kh, kw, N, OH, OW]; positions in
 * the padding read `pad`. Rows are copied a vector at a time when the stride along the width is 1.
 */
export function im2colF32(x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, pad: f32, cols: usize): void {
  im2col<f32>(x, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, pad, cols);
}
/** As im2colF32, for float64. */
export function im2colF64(x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, pad: f64, cols: usize): void {
  im2col<f64>(x, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, pad, cols);
}

/** col2im, the transpose of im2col: adds each entry of `cols` into the position of `x` it was read from (padding entries are dropped). */
export function col2imF32(cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, x: usize): void {
  col2im<f32>(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, x);
}
/** As col2imF32, for float64. */
export function col2imF64(cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, x: usize): void {
  col2im<f64>(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, x);
}

/**
 * dst[j, i, :] = src[i, j, :] for i < a, j < b, rows of `run` elements of `size` bytes: [a, b, run] → [b, a, run].
 * The reorder between a convolution's [O, N·P] product and NCHW ([N, O, P]), both ways.
 */
export function swapLeading(src: usize, a: i32, b: i32, run: i32, size: i32, dst: usize): void {
  const rowBytes = <usize>run * <usize>size;
  for (let i = 0; i < a; i++) {
    const s = src + <usize>i * <usize>b * rowBytes;
    for (let j = 0; j < b; j++) copyBytes(dst + (<usize>j * <usize>a + <usize>i) * rowBytes, s + <usize>j * rowBytes, rowBytes);
  }
}

@inline function swapBias<T>(src: usize, a: i32, b: i32, run: i32, bias: usize, dst: usize): void {
  const S = <usize>sizeof<T>();
  const rowBytes = <usize>run * S;
  for (let i = 0; i < a; i++) {
    const s = src + <usize>i * <usize>b * rowBytes;
    const bi = load<T>(bias + <usize>i * S);
    const bv = sizeof<T>() == 4 ? f32x4.splat(<f32>bi) : f64x2.splat(<f64>bi);
    for (let j = 0; j < b; j++) {
      const from = s + <usize>j * rowBytes, to = dst + (<usize>j * <usize>a + <usize>i) * rowBytes;
      let q: usize = 0;
      for (; q + 16 <= rowBytes; q += 16) {
        const v = v128.load(from + q);
        v128.store(to + q, sizeof<T>() == 4 ? f32x4.add(v, bv) : f64x2.add(v, bv));
      }
      for (; q < rowBytes; q += S) store<T>(to + q, load<T>(from + q) + bi);
    }
  }
}

/**
 * dst[j, i, :] = src[i, j, :] + bias[i] (float32): `swapLeading` adding a per-row bias on the way, so that a
 * convolution's bias costs no pass of its own (the same float32 sums as adding afterwards).
 */
export function swapBiasF32(src: usize, a: i32, b: i32, run: i32, bias: usize, dst: usize): void { swapBias<f32>(src, a, b, run, bias, dst); }
/** As swapBiasF32, for float64. */
export function swapBiasF64(src: usize, a: i32, b: i32, run: i32, bias: usize, dst: usize): void { swapBias<f64>(src, a, b, run, bias, dst); }

const ARGMAX = 0, GATHER = 1, SCATTER = 2;

/**
 * For each output of a max pool over the `planes` h×w planes at `x`, the flat index of its window's maximum
 * (the first one on ties; NaN wins and propagates), visiting in-bounds positions only (padding never wins);
 * then by `mode`: ARGMAX stores the index plus `indexBase` into the int32 `out[k]`; GATHER sets out[k] = y[index]; SCATTER adds
 * y[k] into out[index].
 */
@inline function pool<T>(mode: i32, x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, y: usize, out: usize, indexBase: i32): void {
  const S = <usize>sizeof<T>();
  let k: usize = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * h * w;
    for (let r = 0; r < oh; r++) {
      const i0 = max(0, r * sh - ph), i1 = min(h, r * sh - ph + kh);
      for (let q = 0; q < ow; q++) {
        const j0 = max(0, q * sw - pw), j1 = min(w, q * sw - pw + kw);
        let best = base + i0 * w + j0;
        let bv = load<T>(x + <usize>best * S);
        for (let i = i0; i < i1; i++) {
          const rowIdx = base + i * w;
          for (let j = j0; j < j1; j++) {
            const v = load<T>(x + <usize>(rowIdx + j) * S);
            const win = wins<T>(v, bv);
            bv = select<T>(v, bv, win);
            best = select<i32>(rowIdx + j, best, win);
          }
        }
        if (mode == ARGMAX) store<i32>(out + k * 4, best + indexBase);
        else if (mode == GATHER) store<T>(out + k * S, load<T>(y + <usize>best * S));
        else {
          const d = out + <usize>best * S;
          store<T>(d, load<T>(d) + load<T>(y + k * S));
        }
        k++;
      }
    }
  }
}

/** Whether candidate v replaces the current maximum m under `pool`'s rule (branch-free: `|` and `&`, not `||` and `&&`). */
@inline function wins<T>(v: T, m: T): bool { return (v > m) | ((v != v) & (m == m)); }

/**
 * 2×2 windows with stride 2 and no padding (the usual pooling), with `pool`'s rule and the four candidates
 * in its order, so the same one wins; branch-free, since on real data which candidate wins is unpredictable.
 */
@inline function pool2<T>(mode: i32, x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, y: usize, out: usize, indexBase: i32): void {
  const S = <usize>sizeof<T>();
  let k: usize = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * h * w;
    for (let r = 0; r < oh; r++) {
      const top = base + 2 * r * w;
      let q = 0;
      if (sizeof<T>() == 4) {
        // Four outputs at a time: 8 floats of each row split into even and odd columns.
        const lane = i32x4(0, 2, 4, 6);
        for (; q + 4 <= ow; q += 4) {
          const t = x + <usize>(top + 2 * q) * S, b = t + <usize>w * S;
          const t0 = v128.load(t), t1 = v128.load(t + 16), b0 = v128.load(b), b1 = v128.load(b + 16);
          const c00 = i32x4.shuffle(t0, t1, 0, 2, 4, 6), c01 = i32x4.shuffle(t0, t1, 1, 3, 5, 7);
          const c10 = i32x4.shuffle(b0, b1, 0, 2, 4, 6), c11 = i32x4.shuffle(b0, b1, 1, 3, 5, 7);
          let m = c00;
          const w1 = v128.or(f32x4.gt(c01, m), v128.and(f32x4.ne(c01, c01), f32x4.eq(m, m)));
          m = v128.bitselect(c01, m, w1);
          const w2 = v128.or(f32x4.gt(c10, m), v128.and(f32x4.ne(c10, c10), f32x4.eq(m, m)));
          m = v128.bitselect(c10, m, w2);
          const w3 = v128.or(f32x4.gt(c11, m), v128.and(f32x4.ne(c11, c11), f32x4.eq(m, m)));
          // Which candidate won: 3 if w3, else 2 if w2 (after w1), else 1 if w1, else 0.
          const is3 = w3, is2 = v128.andnot(w2, w3), is1 = v128.andnot(v128.andnot(w1, w2), w3);
          const is0 = v128.not(v128.or(v128.or(is1, is2), is3));
          if (mode == ARGMAX) {
            let idx = i32x4.add(i32x4.splat(top + 2 * q + indexBase), lane);
            idx = i32x4.add(idx, v128.and(is1, i32x4.splat(1)));
            idx = i32x4.add(idx, v128.and(is2, i32x4.splat(w)));
            idx = i32x4.add(idx, v128.and(is3, i32x4.splat(w + 1)));
            v128.store(out + k * 4, idx);
          } else if (mode == GATHER) {
            let v: v128;
            if (y == x) {
              v = v128.bitselect(c11, m, w3);
            } else {
              const yt = y + (t - x), yb = y + (b - x);
              const u0 = v128.load(yt), u1 = v128.load(yt + 16), l0 = v128.load(yb), l1 = v128.load(yb + 16);
              v = v128.and(i32x4.shuffle(u0, u1, 0, 2, 4, 6), is0);
              v = v128.or(v, v128.and(i32x4.shuffle(u0, u1, 1, 3, 5, 7), is1));
              v = v128.or(v, v128.and(i32x4.shuffle(l0, l1, 0, 2, 4, 6), is2));
              v = v128.or(v, v128.and(i32x4.shuffle(l0, l1, 1, 3, 5, 7), is3));
            }
            v128.store(out + k * 4, v);
          } else {
            // Each input position belongs to one window, so out (zeroed) receives 0 + ct at the winner
            // (adding +0 turns a −0 into +0, as the js kernel's += does) and stays +0 elsewhere.
            const g = f32x4.add(v128.load(y + k * 4), f32x4.splat(0));
            const g0 = v128.and(g, is0), g1 = v128.and(g, is1), g2 = v128.and(g, is2), g3 = v128.and(g, is3);
            const ot = out + (t - x), ob = out + (b - x);
            v128.store(ot, i32x4.shuffle(g0, g1, 0, 4, 1, 5));
            v128.store(ot + 16, i32x4.shuffle(g0, g1, 2, 6, 3, 7));
            v128.store(ob, i32x4.shuffle(g2, g3, 0, 4, 1, 5));
            v128.store(ob + 16, i32x4.shuffle(g2, g3, 2, 6, 3, 7));
          }
          k += 4;
        }
      }
      for (; q < ow; q++) {
        let best = top + 2 * q;
        let bv = load<T>(x + <usize>best * S);
        let cand = best + 1;
        let v = load<T>(x + <usize>cand * S);
        let win = wins<T>(v, bv);
        bv = select<T>(v, bv, win);
        best = select<i32>(cand, best, win);
        cand = top + w + 2 * q;
        v = load<T>(x + <usize>cand * S);
        win = wins<T>(v, bv);
        bv = select<T>(v, bv, win);
        best = select<i32>(cand, best, win);
        cand++;
        v = load<T>(x + <usize>cand * S);
        win = wins<T>(v, bv);
        best = select<i32>(cand, best, win);
        if (mode == ARGMAX) store<i32>(out + k * 4, best + indexBase);
        else if (mode == GATHER) store<T>(out + k * S, load<T>(y + <usize>best * S));
        else {
          const d = out + <usize>best * S;
          store<T>(d, load<T>(d) + load<T>(y + k * S));
        }
        k++;
      }
    }
  }
}

@inline function poolAny<T>(mode: i32, x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, y: usize, out: usize, indexBase: i32): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) {
    // One specialised loop per mode, so each compiles without the mode test inside.
    if (mode == ARGMAX) pool2<T>(ARGMAX, x, planes, h, w, oh, ow, y, out, indexBase);
    else if (mode == GATHER) pool2<T>(GATHER, x, planes, h, w, oh, ow, y, out, indexBase);
    else pool2<T>(SCATTER, x, planes, h, w, oh, ow, y, out, indexBase);
  } else if (mode == ARGMAX) pool<T>(ARGMAX, x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, out, indexBase);
  else if (mode == GATHER) pool<T>(GATHER, x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, out, indexBase);
  else pool<T>(SCATTER, x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, out, indexBase);
}

/**
 * Max-pool argmax, gather or scatter (mode 0, 1, 2; see `pool`) over float32 planes; argmax indices are
 * offset by `indexBase` (the index in the whole batch of the first element at `x`, for a chunk of planes).
 */
export function maxPoolF32(mode: i32, x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, y: usize, out: usize, indexBase: i32): void {
  poolAny<f32>(mode, x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, out, indexBase);
}
/** As maxPoolF32, for float64. */
export function maxPoolF64(mode: i32, x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32, y: usize, out: usize, indexBase: i32): void {
  poolAny<f64>(mode, x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, out, indexBase);
}
