// Finding a WebGPU implementation, reached as "#platform/gpu": in Node, the optional `webgpu` package (Dawn,
// with prebuilt binaries inside the package); under the "browser" condition gpu.browser.ts uses navigator.gpu.

/** The GPU entry point (navigator.gpu's interface), or why there is none. Never throws. */
export async function findGPU(): Promise<{ gpu: GPU } | { error: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu };
  try {
    const name = "webgpu"; // a variable, so bundlers leave this optional package alone
    const mod = (await import(name)) as { create(options: string[]): GPU };
    return { gpu: mod.create([]) };
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { error: `the webgpu package could not be loaded (${why}); npm install webgpu to run the webgpu device in Node` };
  }
}
