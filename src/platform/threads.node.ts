// Node's threads for the GEMM helpers, reached as "#platform/threads": the "browser" condition in
// src/package.json (copied to dist/package.json) picks threads.browser.ts instead, so bundlers never see
// node:worker_threads. Kept to the few names gemm-threads.ts uses.
import { Worker, MessageChannel } from "node:worker_threads";
import { availableParallelism } from "node:os";

/** What the threaded GEMM needs from the platform, or null where there are no worker_threads. */
export const nodeThreads: {
  readonly Worker: typeof Worker;
  readonly MessageChannel: typeof MessageChannel;
  readonly cores: () => number;
} | null = { Worker, MessageChannel, cores: availableParallelism };
