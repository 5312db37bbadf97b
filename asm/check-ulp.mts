// Accuracy check of the float32 functions of vmath.ts over (a stride through) every float32 bit pattern, against
// the float64 Math function rounded to float32. Not part of the build or the test suite (a full run takes
// minutes); run it after changing vmath.ts:
//   npx tsx asm/check-ulp.mts [stride = 16] [function ...]
// Stride 1 checks all 2^32 inputs of each function.
import { getWasm, reserve } from "../src/kernels/wasm/instance.js";
import { erfScalar } from "../src/kernels/special.js";

const w = getWasm();
if (w === null) throw new Error("no WebAssembly SIMD here");
const stride = Number(process.argv[2] ?? 16);
const only = process.argv.slice(3);

const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
// Op codes of unaryF32 (asm/elementwise.ts).
const FUNCTIONS: [string, number, (x: number) => number][] = [
  ["exp", 7, Math.exp], ["expm1", 8, Math.expm1], ["log", 9, Math.log], ["log1p", 10, Math.log1p],
  ["tanh", 11, Math.tanh], ["sigmoid", 12, sigmoid], ["erf", 13, erfScalar], ["sqrt", 2, Math.sqrt], ["rsqrt", 6, (x) => 1 / Math.sqrt(x)],
];

const N = 1 << 20;
const at = reserve(w, 2 * N * 4 + 64);
const t32 = new Float32Array(1), tu = new Uint32Array(t32.buffer);
const ordinal = (x: number): number => { t32[0] = x; const b = tu[0]!; return b >= 0x80000000 ? -(b - 0x80000000) : b; };

for (const [name, code, ref] of FUNCTIONS) {
  if (only.length > 0 && !only.includes(name)) continue;
  const started = performance.now();
  let worst = 0, worstX = 0, off = 0, count = 0;
  for (let b = 0; b < 2 ** 32; ) {
    const base = at >> 2;
    const u = new Uint32Array(w.exports.memory.buffer);
    const f = new Float32Array(w.exports.memory.buffer);
    let i = 0;
    for (; i < N && b < 2 ** 32; i++, b += stride) u[base + i] = b;
    w.exports.unaryF32(code, at, at + N * 4, i);
    for (let j = 0; j < i; j++) {
      const x = f[base + j]!, got = f[base + N + j]!, want = Math.fround(ref(x));
      const d = Number.isNaN(got) || Number.isNaN(want) ? (Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity) : Math.abs(ordinal(got) - ordinal(want));
      if (d > 0) off++;
      if (d > worst) { worst = d; worstX = x; }
    }
    count += i;
  }
  console.log(`${name}: ${count} inputs (stride ${stride}), max ${worst} ulp${worst > 0 ? ` (at ${worstX})` : ""}, ${(100 * off / count).toFixed(3)}% not correctly rounded; ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
