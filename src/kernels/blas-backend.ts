// The blas backend: matrix products through a system BLAS (OpenBLAS, BLIS, MKL, Apple Accelerate) called
// with the koffi FFI package (an optional peer dependency: `npm install koffi`), whose prebuilt binaries come
// from npm, so nothing is compiled
// at install. Only GEMM goes through the library: elementwise kernels come from the wasm backend (or js).
// Node only; in a browser the loader below is never reached.
// koffi is loaded on demand through "#platform/require" (src/package.json): a browser build never sees it.
import { requireOptional } from "#platform/require";
import type { TypedArray } from "../core/dtype.js";
import type { Backend, GemmKernel } from "./backend.js";
import type { MatrixView } from "./gemm-view.js";
import { minimumSize } from "./minimums.js";

/** CBLAS enum values (cblas.h). */
const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
/**
 * Below this many multiply-adds the FFI call and the library's dispatch cost more than the product, so
 * the fallback kernel runs it (the js direct loop takes ~1 µs for 16³).
 */
const SMALL = 16 * 16 * 16;
/**
 * Below this many multiply-adds a product runs on one library thread whatever the thread count. OpenBLAS's
 * idle threads spin (sched_yield) for about 0.1 s after each product they share, so a training loop of many
 * small products keeps a second core busy doing nothing: the names transformer (products of 4–6·10⁶) spent
 * 23 of its 54 s of CPU there with two threads, and ran faster in wall time with one. A product of 2²⁶
 * (≈ 400³) takes about 1 ms on one core, long enough for a second thread to pay for its wake-up and spin.
 */
export const BLAS_PARALLEL_MIN = 1 << 26;

type Sgemm = (order: number, ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: TypedArray, lda: number, b: TypedArray, ldb: number, beta: number, c: TypedArray, ldc: number) => void;

/** A loaded BLAS: its two GEMMs and what we know about it. */
export interface BlasLibrary {
  readonly path: string;
  readonly version: string;
  readonly sgemm: Sgemm;
  readonly dgemm: Sgemm;
  /** Sets the library's thread count, when it has a call for that. */
  readonly setThreads: ((n: number) => void) | null;
}

/** Library names tried in order when `CHAINRULE_BLAS` is not set: the dynamic loader's search path first, then known places. */
export function blasCandidates(platform: string = process.platform, arch: string = process.arch): string[] {
  if (platform === "darwin") {
    return [
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "libopenblas.dylib",
      // Accelerate's CBLAS is fast on Apple silicon (it uses the AMX units).
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ];
  }
  if (platform === "win32") return ["libopenblas.dll", "openblas.dll", "mkl_rt.2.dll", "mkl_rt.dll", "blis.dll"];
  const multiarch = arch === "arm64" ? "aarch64-linux-gnu" : arch === "x64" ? "x86_64-linux-gnu" : `${arch}-linux-gnu`;
  return [
    "libopenblas.so.0",
    "libopenblas.so",
    `/usr/lib/${multiarch}/openblas-pthread/libopenblas.so.0`,
    `/usr/lib/${multiarch}/openblas-openmp/libopenblas.so.0`,
    `/usr/lib/${multiarch}/openblas-serial/libopenblas.so.0`,
    `/usr/lib/${multiarch}/libopenblas.so.0`,
    "/usr/lib64/libopenblas.so.0",
    "/usr/local/lib/libopenblas.so.0",
    "libmkl_rt.so.2",
    "libmkl_rt.so",
    "libblis.so.4",
    "libblis.so",
  ];
}

/** The koffi module, or null outside Node or where its package or prebuilt binary is missing. */
function loadKoffi(): { load(path: string): { func(decl: string): unknown } } | null {
  const found = requireOptional("koffi");
  return "module" in found ? (found.module as { load(path: string): { func(decl: string): unknown } }) : null;
}

/**
 * Why no BLAS can be called at all (koffi, an optional peer dependency, is not installed), or null when
 * the FFI is there. Checked before searching for a library, so the reason names what is missing first.
 */
export function ffiUnavailable(): string | null {
  return loadKoffi() === null ? KOFFI_MISSING : null;
}

const KOFFI_MISSING = "the koffi FFI package is not installed (chainrule leaves it out of its own install: about 4 MB with its prebuilt binary); npm install koffi to call a system BLAS";

const SGEMM = "void cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*, int, float, _Inout_ float*, int)";
const DGEMM = "void cblas_dgemm(int, int, int, int, int, int, double, const double*, int, const double*, int, double, _Inout_ double*, int)";

/**
 * Opens one BLAS library and binds its CBLAS GEMMs. Returns the library, or the reason it cannot be used
 * (not found, not loadable, no cblas_sgemm/cblas_dgemm).
 */
export function openBlas(path: string): BlasLibrary | string {
  const koffi = loadKoffi();
  if (koffi === null) return KOFFI_MISSING;
  let lib: { func(decl: string): unknown };
  try {
    lib = koffi.load(path);
  } catch (e) {
    return `cannot be loaded: ${(e as Error).message.split("\n")[0]}`;
  }
  const bind = <T>(decl: string): T | null => {
    try {
      return lib.func(decl) as T;
    } catch {
      return null;
    }
  };
  const sgemm = bind<Sgemm>(SGEMM), dgemm = bind<Sgemm>(DGEMM);
  if (sgemm === null || dgemm === null) return `has no ${sgemm === null ? "cblas_sgemm" : "cblas_dgemm"} (is it a CBLAS library?)`;
  const text = (decl: string): string | null => {
    const f = bind<() => string | null>(decl);
    try {
      return f?.() ?? null;
    } catch {
      return null;
    }
  };
  const version = text("const char* openblas_get_config()") ?? text("const char* bli_info_get_version_str()") ?? "unknown version";
  const setter = bind<(n: number) => void>("void openblas_set_num_threads(int)")
    ?? bind<(n: number) => void>("void bli_thread_set_num_threads(long)")
    ?? bind<(n: number) => number>("int MKL_Set_Num_Threads_Local(int)");
  return { path, version: version.trim(), sgemm, dgemm, setThreads: setter };
}

/** The first library of `candidates` that loads, or null. */
export function findBlas(candidates: readonly string[]): BlasLibrary | null {
  for (const p of candidates) {
    const lib = openBlas(p);
    if (typeof lib !== "string") return lib;
  }
  return null;
}

/** Leading dimension and transpose flag for a view CBLAS can read directly, or null (general strides). */
function cblasOperand(v: MatrixView, rows: number, cols: number): [number, number] | null {
  // Row-major with unit column stride: lda is the row stride (CBLAS requires lda ≥ max(1, cols)).
  if (v.colStride === 1 && (rows === 1 || v.rowStride >= Math.max(1, cols))) return [NO_TRANS, rows === 1 ? Math.max(1, cols) : v.rowStride];
  // Stored transposed: unit row stride, the column stride is the leading dimension of the [cols, rows] matrix.
  if (v.rowStride === 1 && (cols === 1 || v.colStride >= Math.max(1, rows))) return [TRANS, cols === 1 ? Math.max(1, rows) : v.colStride];
  return null;
}

/**
 * The library's thread count as chainrule sets it: `wanted` (from `setThreads`) for products of at least
 * `BLAS_PARALLEL_MIN` multiply-adds, 1 below that. The count is only changed when it differs from the last
 * one set, so a run of small products costs one call.
 */
class BlasThreads {
  private wanted = 1;
  private current = -1;
  constructor(private readonly lib: BlasLibrary) {}

  /** The count large products may use (the registry passes `getThreads()`). */
  set(n: number): void {
    this.wanted = n;
    this.apply(n);
  }

  /** Sets the library's count for a product of `size` multiply-adds. */
  forProduct(size: number): void {
    this.apply(size >= BLAS_PARALLEL_MIN ? this.wanted : 1);
  }

  private apply(n: number): void {
    if (n === this.current || this.lib.setThreads === null) return;
    this.lib.setThreads(n);
    this.current = n;
  }
}

/**
 * A GEMM kernel that calls the library, and `fallback` for tiny products and views CBLAS cannot express.
 * `threads`, when given, picks the library's thread count for each product by its size.
 */
export function blasGemm(lib: BlasLibrary, fallback: GemmKernel, threads?: BlasThreads): GemmKernel {
  return (m, n, k, a, b, c, cOffset, ldc, accumulate) => {
    if (m === 0 || n === 0 || k === 0 || m * n * k <= minimumSize(SMALL)) return fallback(m, n, k, a, b, c, cOffset, ldc, accumulate);
    const f64 = c instanceof Float64Array;
    if (!(f64 || c instanceof Float32Array) || a.data.constructor !== c.constructor || b.data.constructor !== c.constructor || ldc < n) {
      return fallback(m, n, k, a, b, c, cOffset, ldc, accumulate);
    }
    const opA = cblasOperand(a, m, k), opB = cblasOperand(b, k, n);
    if (opA === null || opB === null) return fallback(m, n, k, a, b, c, cOffset, ldc, accumulate);
    // koffi passes a typed array as a pointer to its first element, so a subarray gives the offset.
    const av = a.offset === 0 ? a.data : a.data.subarray(a.offset);
    const bv = b.offset === 0 ? b.data : b.data.subarray(b.offset);
    const cv = cOffset === 0 ? c : c.subarray(cOffset);
    threads?.forProduct(m * n * k);
    (f64 ? lib.dgemm : lib.sgemm)(ROW_MAJOR, opA[0], opB[0], m, n, k, 1, av, opA[1], bv, opB[1], accumulate ? 1 : 0, cv, ldc);
  };
}

/** The blas backend around a loaded library; `fallbackGemm` serves what CBLAS cannot take. */
export function createBlasBackend(lib: BlasLibrary, fallbackGemm: GemmKernel): Backend {
  const threads = new BlasThreads(lib);
  return {
    name: "blas",
    location: "host",
    kernels: { gemm: blasGemm(lib, fallbackGemm, threads) },
    describe: () => ({ detail: `${lib.version} (${lib.path})`, libraryPath: lib.path, libraryVersion: lib.version }),
    setThreads: (n) => threads.set(n),
  };
}
