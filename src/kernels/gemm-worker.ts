// A helper thread for large matrix products (started by gemm-threads.ts, never imported by the library).
// It sleeps on a shared control word; each job is a block of rows or columns of C computed with the same serial
// kernel as the main thread (js or wasm, as the job says), from copies of A and B in a shared arena, into its own part of the arena.
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { gemmSerial } from "./gemm-core.js";
import { wasmGemmSerial } from "./wasm/gemm.js";
import { CTRL, PARAM, type WorkerInit } from "./gemm-protocol.js";

const { ctrl, params, port } = workerData as WorkerInit & { port: MessagePort };
let arena: SharedArrayBuffer | null = null;
let arenaGen = 0;

Atomics.store(ctrl, CTRL.ready, 1);
Atomics.notify(ctrl, CTRL.ready);

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.job, seen);
  seen = Atomics.load(ctrl, CTRL.job);
  // A bigger arena is posted before the job that needs it; take it without waiting for the event loop.
  while (arenaGen !== Atomics.load(ctrl, CTRL.arenaGen)) {
    const msg = receiveMessageOnPort(port);
    if (msg === undefined) break;
    const { buffer, gen } = msg.message as { buffer: SharedArrayBuffer; gen: number };
    arena = buffer;
    arenaGen = gen;
  }
  if (arena !== null) {
    const start = performance.now();
    const view = params[PARAM.float64] === 1 ? new Float64Array(arena) : new Float32Array(arena);
    (params[PARAM.kernel] === 1 ? wasmGemmSerial : gemmSerial)(
      view, params[PARAM.aOff]!, params[PARAM.ars]!, params[PARAM.acs]!,
      view, params[PARAM.bOff]!, params[PARAM.brs]!, params[PARAM.bcs]!,
      view, params[PARAM.cOff]!, params[PARAM.n]!,
      params[PARAM.m]!, params[PARAM.k]!, params[PARAM.n]!, params[PARAM.accumulate] === 1,
    );
    params[PARAM.elapsedMs] = performance.now() - start;
  }
  Atomics.store(ctrl, CTRL.done, seen);
  Atomics.notify(ctrl, CTRL.done);
}
