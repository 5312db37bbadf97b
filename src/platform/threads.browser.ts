// Browsers have no worker_threads: "#platform/threads" resolves here under the "browser" condition, and
// large matrix products run on the calling thread.
import type { Worker, MessageChannel } from "node:worker_threads";

/** Always null in a browser (see threads.node.ts for the Node side). */
export const nodeThreads: {
  readonly Worker: typeof Worker;
  readonly MessageChannel: typeof MessageChannel;
  readonly cores: () => number;
} | null = null;
