// The browser side of "#platform/gpu" (see gpu.node.ts): the page's own WebGPU.

/** The page's navigator.gpu, or why there is none. Never throws. */
export async function findGPU(): Promise<{ gpu: GPU } | { error: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu };
  return { error: "this browser has no WebGPU (navigator.gpu is missing; it needs a secure context: https or localhost)" };
}
