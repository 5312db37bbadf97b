import type { TypedArray } from "../core/dtype.js";

// Results a kernel proved free of NaN while it wrote them, for the strong-zero check
// (src/autodiff/strong-zeros.ts): that check needs to know whether a contribution holds a NaN, and asking
// the kernel that just wrote it, while each chunk is still in cache, costs a fraction of a separate pass
// over the whole result. Kernels check only while a check is requested, so ordinary ops pay nothing.

let requests = 0;
const nanFree = new WeakSet<TypedArray>();
// The same for zeros: a contribution without any zero has no structural zeros to record.
const zeroFree = new WeakSet<TypedArray>();

/** Runs `f` with NaN marks requested: kernels that can check cheaply mark their NaN-free outputs. */
export function requestingNaNMarks<T>(f: () => T): T {
  requests++;
  try {
    return f();
  } finally {
    requests--;
  }
}

/** Whether a kernel should check its output for NaN now (see `requestingNaNMarks`). */
export function nanMarksRequested(): boolean {
  return requests > 0;
}

/** Records that `o`, just written by a kernel, holds no NaN. */
export function markNaNFree(o: TypedArray): void {
  nanFree.add(o);
}

/** Records that `o`, just written by a kernel while marks were requested, holds no +0 or −0. */
export function markZeroFree(o: TypedArray): void {
  zeroFree.add(o);
}

/** Whether `d` was marked zero-free by the kernel that wrote it; consumed, as `takeNaNFreeMark`. */
export function takeZeroFreeMark(d: TypedArray): boolean {
  return zeroFree.delete(d);
}

/**
 * Whether `d` was marked NaN-free by the kernel that wrote it; the mark is consumed, so that a later
 * in-place write into `d` can never leave a stale one behind (the check reads it straight after the write).
 */
export function takeNaNFreeMark(d: TypedArray): boolean {
  return nanFree.delete(d);
}
