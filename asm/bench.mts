// One-thread speed of the wasm kernels against the js ones, measured in one process, best of several runs:
//   npx tsx asm/bench.mts
// Not part of the test suite. The first line is a machine-speed indicator (a loop of dependent integer adds),
// to compare runs on a shared machine whose speed varies with its load.
import { gemmSerial } from "../src/kernels/gemm-core.js";
import { unaryKernels } from "../src/kernels/unary.js";
import { createWasmBackend, wasmGemmSerial } from "../src/kernels/wasm/backend.js";

const wasm = createWasmBackend();
if (wasm === null) throw new Error("no WebAssembly SIMD here");

function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i) | 0;
  return x;
}
spin(1e6);
let rate = 0;
for (let r = 0; r < 5; r++) {
  const t = performance.now();
  spin(1e8);
  rate = Math.max(rate, 1e8 / (performance.now() - t) / 1e6);
}
console.log(`machine speed indicator: ${rate.toFixed(2)} G dependent adds/s`);

/** Best wall time of `reps` runs, in ms. */
function best(f: () => void, reps: number): number {
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

for (const T of [Float32Array, Float64Array]) {
  for (const s of [256, 512, 1024]) {
    const a = T.from({ length: s * s }, () => Math.random() - 0.5), b = T.from({ length: s * s }, () => Math.random() - 0.5), c = new T(s * s);
    const run = (g: typeof gemmSerial) => () => g(a, 0, s, 1, b, 0, s, 1, c, 0, s, s, s, s, false);
    const gf = (ms: number): string => (2 * s ** 3 / ms / 1e6).toFixed(1);
    const w = best(run(wasmGemmSerial), s >= 1024 ? 6 : 12);
    const j = best(run(gemmSerial), s >= 1024 ? 2 : 5);
    const w2 = best(run(wasmGemmSerial), s >= 1024 ? 6 : 12);
    console.log(`${T === Float32Array ? "SGEMM" : "DGEMM"} ${s}: wasm ${gf(Math.min(w, w2))} GF/s, js gemmSerial ${gf(j)} GF/s`);
  }
}

const n = 1 << 20;
const x = Float32Array.from({ length: n }, () => Math.random() * 16 - 8), o = new Float32Array(n);
for (const name of ["exp", "tanh", "sigmoid", "log", "neg"] as const) {
  const input = name === "log" ? x.map(Math.abs) : x;
  const w = best(() => wasm.kernels.unary![name]!(input, o), 15);
  const j = best(() => unaryKernels[name](input, o), 15);
  console.log(`${name} float32, 1M elements: wasm ${(w * 1e6 / n).toFixed(2)} ns/element (copies in and out included), js ${(j * 1e6 / n).toFixed(2)} ns/element`);
}
