import type { TypedArray } from "../../core/dtype.js";
import type { FusedRunner, FusedSpec } from "../fused-loop.js";
import { jsFusedLoop, type SumOrder } from "../fused-loop.js";
import { wasmSumsInLanes } from "./layout.js";
import { getWasm, reserve } from "./instance.js";
import { minimumSize } from "../minimums.js";

// jit's fused loops on the wasm backend: the spec becomes op codes for asm/fused.ts's fusedF32, which runs them
// over registers of TILE elements in wasm memory. The inputs and outputs are streams: the glue copies a chunk
// of each input in and of each output out per call, and the module walks its tiles through them, so the
// program's values that stay inside the loop never reach the JS heap and the JS side runs once per chunk, not
// once per tile. Specs it cannot run (other dtypes, ops without a wasm code, short loops) take the js fused loop.

/** Op codes of asm/fused.ts. */
const UNARY: Readonly<Record<string, number>> = {
  neg: 1, abs: 2, sqrt: 3, square: 4, relu: 5, reciprocal: 6, rsqrt: 7,
  exp: 8, expm1: 9, log: 10, log1p: 11, tanh: 12, sigmoid: 13,
  reshape: 0, broadcastTo: 0, stopGradient: 0,
};
const BINARY: Readonly<Record<string, number>> = {
  add: 20, sub: 21, mul: 22, div: 23, maximum: 24, minimum: 25,
  equal: 26, notEqual: 27, greater: 28, greaterEqual: 29, less: 30, lessEqual: 31, reluGrad: 32, squareGrad: 33,
};
const TERNARY: Readonly<Record<string, number>> = { where: 40, tanhGrad: 41, sigmoidGrad: 42 };
const COPY = 0, TO_BOOL = 14, CHECK_NAN = 50, SUM = 51;

/** Elements per register: 512 float32 (2 KB), so a program's live registers stay in L1/L2. A multiple of 8 (the loops' step). */
const TILE = 512;
/** Elements per call: each stream (input or output) is a 64 KB area in wasm memory, so a few of them stay in L2. */
const CHUNK = 16384;
/** Bytes after each stream that the loops may read or write (whole pairs of vectors past the last element). */
const PAD = 32;
/** Shortest loop worth the copies (the eager wasm kernels' threshold for cheap ops). */
const MIN_SIZE = 64;

/** The op code of one step, or null when asm/fused.ts has none for it. */
function codeOf(op: string, params: unknown): number | null {
  if (op === "checkNaN") return CHECK_NAN;
  if (op === "cast") return params === "bool" ? TO_BOOL : params === "float32" ? COPY : null;
  return UNARY[op] ?? BINARY[op] ?? TERNARY[op] ?? null;
}

/**
 * The wasm backend's fused loop: float32 and bool values only (bool as 0/1 floats), every op with a code in
 * asm/fused.ts; anything else runs the js fused loop. Registers are reused once their value is dead (outputs,
 * each in a register of its own, and one-element inputs, filled once per call, stay), so few registers cover
 * a long chain.
 */
export function wasmFusedLoop(spec: FusedSpec): FusedRunner {
  // Full sums go in the order of this backend's reduce kernel, which depends on the size and on wasm being
  // there (see wasmSumsInLanes): loops run here sum in its four lanes, the js loop in either order.
  const sums = spec.sums ?? [];
  const jsIn: Partial<Record<SumOrder, FusedRunner>> = {};
  const jsRunner = (order: SumOrder): FusedRunner => (jsIn[order] ??= jsFusedLoop(spec, order));
  const js: FusedRunner =
    sums.length === 0 ? jsRunner("sequential") : (inputs, outputs) => jsRunner(wasmSumsInLanes(spec.size) ? "lanes4" : "sequential")(inputs, outputs);
  const ok32 = (d: string): boolean => d === "float32" || d === "bool";
  if (spec.size < minimumSize(MIN_SIZE) || !spec.inputs.every((i) => ok32(i.dtype)) || !spec.ops.every((o) => ok32(o.dtype) && codeOf(o.op, o.params) !== null)) return js;
  const k = spec.inputs.length;
  const nVirtual = k + spec.ops.length;
  // Liveness: the last op reading each virtual register; outputs, summed registers and scalar inputs live to the end.
  const last = new Int32Array(nVirtual).fill(-1);
  spec.ops.forEach((o, j) => o.args.forEach((r) => (last[r] = j)));
  for (const r of spec.outputs) last[r] = spec.ops.length;
  for (const r of sums) last[r] = spec.ops.length;
  spec.inputs.forEach((inp, i) => { if (inp.read === "scalar") last[i] = spec.ops.length; });
  const isOutput = new Uint8Array(nVirtual);
  for (const r of spec.outputs) isOutput[r] = 1;
  const phys = new Int32Array(nVirtual).fill(-1);
  const free: number[] = [];
  let nPhys = 0;
  const take = (): number => (free.length > 0 ? free.pop()! : nPhys++);
  for (let i = 0; i < k; i++) phys[i] = take();
  const code = new Int32Array(5 * (spec.ops.length + sums.length));
  spec.ops.forEach((o, j) => {
    const args = o.args.map((r) => phys[r]!);
    // Operands dying here are freed before the result is placed: a result may overwrite an operand, since
    // every loop reads a vector before it writes that vector. An output gets a register of its own: it is a
    // stream, at one address per tile (a register shared with an input stream would need two).
    for (const r of new Set(o.args)) if (last[r] === j) free.push(phys[r]!);
    const d = o.op === "checkNaN" ? 0 : (phys[k + j] = isOutput[k + j] === 1 ? nPhys++ : take());
    if (o.op !== "checkNaN" && last[k + j] < 0) free.push(d); // never read (dead): its register is free again
    code.set([codeOf(o.op, o.params)!, d, args[0] ?? 0, args[1] ?? 0, args[2] ?? 0], 5 * j);
  });
  // Each sum accumulates into a register of its own (two f64x2 running sums, then the leftover elements'
  // count and values), read after the last chunk: SUM ops after the others, at the end of each tile.
  const accRegs = sums.map((r, q) => {
    const acc = nPhys++;
    code.set([SUM, acc, phys[r]!, 0, 0], 5 * (spec.ops.length + q));
    return acc;
  });
  const count = spec.ops.length + sums.length;
  // Streams: inputs read in full or as a repeated row (expanded while copied in), then the outputs.
  const streamInputs = spec.inputs.map((_, i) => i).filter((i) => spec.inputs[i]!.read !== "scalar");
  const streamRegs = [...streamInputs.map((i) => phys[i]!), ...spec.outputs.map((r) => phys[r]!)];
  const nStreams = streamRegs.length;
  const nOut = spec.outputs.length;
  const n = spec.size;
  const chunk = Math.min(CHUNK, n);
  const areaBytes = chunk * 4 + PAD;
  const codeBytes = (code.length * 4 + 15) & ~15;
  const addrBytes = (nPhys * 4 + 15) & ~15;
  const streamBytes = (nStreams * 8 + 15) & ~15;
  const tilesAt = codeBytes + addrBytes + streamBytes;
  const areasAt = tilesAt + nPhys * TILE * 4;
  // The tables, relative to the reserved block's start (made absolute per call: the block may move).
  const addrTable = new Int32Array(nPhys).map((_, r) => tilesAt + r * TILE * 4);
  const streamTable = new Int32Array(2 * nStreams);
  streamRegs.forEach((r, s) => { streamTable[2 * s] = r; streamTable[2 * s + 1] = areasAt + s * areaBytes; });

  return (inputs: readonly TypedArray[], outputs: readonly TypedArray[]): number => {
    const w = getWasm();
    const at = w === null || (sums.length > 0 && !wasmSumsInLanes(n)) ? -1 : reserve(w, areasAt + nStreams * areaBytes);
    if (w === null || at < 0) return jsRunner("sequential")(inputs, outputs); // as the reduce kernel then
    const i32 = w.i32, f32 = w.f32;
    for (const acc of accRegs) i32.fill(0, (at + addrTable[acc]!) >> 2, ((at + addrTable[acc]!) >> 2) + 10);
    i32.set(code, at >> 2);
    const addr = at + codeBytes, streams = addr + addrBytes;
    for (let r = 0; r < nPhys; r++) i32[(addr >> 2) + r] = at + addrTable[r]!;
    for (let s = 0; s < nStreams; s++) {
      i32[(streams >> 2) + 2 * s] = streamTable[2 * s]!;
      i32[(streams >> 2) + 2 * s + 1] = at + streamTable[2 * s + 1]!;
    }
    spec.inputs.forEach((inp, i) => {
      if (inp.read === "scalar") {
        const r = (at + addrTable[phys[i]!]!) >> 2;
        f32.fill(inputs[i]![0]!, r, r + TILE);
      }
    });
    const nIn = streamInputs.length;
    let bad = 0;
    for (let s = 0; s < n; s += chunk) {
      const len = Math.min(chunk, n - s);
      for (let q = 0; q < nIn; q++) {
        const i = streamInputs[q]!, inp = spec.inputs[i]!, x = inputs[i]!;
        const r = (at + streamTable[2 * q + 1]!) >> 2;
        if (inp.read === "full") f32.set(len === x.length ? x : x.subarray(s, s + len), r);
        else {
          const p = inp.period;
          for (let j = 0; j < len; j++) f32[r + j] = x[(s + j) % p]!;
        }
      }
      bad |= w.exports.fusedF32(at, count, addr, streams, nStreams, TILE, len);
      for (let o = 0; o < nOut; o++) {
        const r = (at + streamTable[2 * (nIn + o) + 1]!) >> 2;
        outputs[o]!.set(f32.subarray(r, r + len), s);
      }
    }
    accRegs.forEach((acc, q) => {
      // reduceRun's finish: 0 + (lane 0 + lane 1) of s0 + s1, the leftovers in order, then 0 + that.
      const b = (at + addrTable[acc]!) >> 3, f64 = w.f64;
      let sum = 0 + ((f64[b]! + f64[b + 2]!) + (f64[b + 1]! + f64[b + 3]!));
      const left = w.i32[(at + addrTable[acc]! + 32) >> 2]!;
      for (let j = 0; j < left; j++) sum += f64[b + 5 + j]!;
      outputs[nOut + q]![0] = 0 + sum;
    });
    return bad;
  };
}
