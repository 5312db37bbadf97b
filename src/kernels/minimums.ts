// Size thresholds below which a backend hands a call back to the js kernel (copying into WebAssembly
// memory or calling a BLAS costs more than a tiny loop). Each backend keeps its measured defaults; tests
// lower them to 0 so that small tensors exercise every backend's own kernels.

let override: number | null = null;

/** @internal The threshold a backend should use now: its own default, or the test override. */
export function minimumSize(defaultMin: number): number {
  return override ?? defaultMin;
}

/** @internal Overrides every backend's size threshold (null restores the defaults). For tests. */
export function setKernelMinimums(n: number | null): void {
  override = n;
}
