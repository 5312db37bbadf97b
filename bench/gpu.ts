// WebGPU in Node for the GPU rows. chainrule finds the `webgpu` package (Dawn) by itself; tfjs-webgpu and
// jax-js look for a browser's navigator.gpu, so this gives Node one from the same package. Where the
// machine has no usable GPU driver, Dawn finds no adapter and the GPU rows are skipped with one line.
import { SkipError } from "./measure.js";

/** How to get an adapter on a machine without a GPU (the skip line ends with it). */
export const HOW_TO_GET_AN_ADAPTER = "on a machine without a GPU, WebGPU can run on SwiftShader (a Vulkan driver on the CPU): " +
  "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npm run bench … (apt-get install chromium libvulkan1)";

interface NodeWebGPU {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let installed: GPU | null = null;

/**
 * Gives Node a browser's navigator.gpu (and the GPUBufferUsage-style constants) from the `webgpu` package,
 * once per process. jax-js also reads navigator.userAgent, so the shim has one.
 * @throws SkipError when the package cannot be loaded
 */
export async function installNavigatorGpu(): Promise<GPU> {
  if (installed) return installed;
  let mod: NodeWebGPU;
  try {
    mod = (await import("webgpu")) as unknown as NodeWebGPU;
  } catch (e) {
    throw new SkipError(`the webgpu package (Dawn) could not be loaded: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}; npm install webgpu`);
  }
  Object.assign(globalThis, mod.globals);
  installed = mod.create([]);
  Object.defineProperty(globalThis, "navigator", { value: { gpu: installed, userAgent: `Node.js/${process.version}` }, configurable: true, writable: true });
  return installed;
}

/**
 * The adapter's name ("vendor / architecture / description"), asked of Dawn directly.
 * @throws SkipError when there is none, saying how to get one
 */
export async function adapterName(): Promise<string> {
  const gpu = await installNavigatorGpu();
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new SkipError(`no WebGPU adapter found; ${HOW_TO_GET_AN_ADAPTER}`);
  const info = (adapter as unknown as { info?: { vendor: string; architecture: string; description: string } }).info;
  return info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(" / ") : "unknown adapter";
}

/** True when the adapter is SwiftShader: a CPU emulation of a GPU, so its timings say nothing about GPUs. */
export const isSoftwareAdapter = (name: string): boolean => /swiftshader|llvmpipe|lavapipe|warp/i.test(name);
