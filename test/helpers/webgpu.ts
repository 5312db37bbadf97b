// Starting the webgpu device for tests. On a machine without a GPU, WebGPU runs on SwiftShader (a Vulkan
// driver on the CPU) that Debian's chromium package ships; Dawn (the `webgpu` package) needs the Vulkan loader
// (libvulkan1) to reach it. Without any of that the webgpu tests are skipped with one line saying how to
// enable them, except in CI (CI=true), where .ci/run installs everything and a skip would hide a failure.
import { existsSync } from "node:fs";
import { initWebGPU, type WebGPUDevice } from "../../src/index.js";

/** SwiftShader's Vulkan driver manifest in Debian's chromium package. */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** How to enable the webgpu tests, printed once when they are skipped. */
export const HOW_TO_ENABLE = `webgpu tests skipped: no WebGPU adapter; to run them without a GPU: apt-get install chromium libvulkan1 (SwiftShader at ${SWIFTSHADER_ICD}, found automatically) and npm install webgpu`;

let started: Promise<WebGPUDevice | null> | null = null;

/**
 * The webgpu device, or null (after printing HOW_TO_ENABLE) when none can start here. In CI a missing device is an error.
 */
export function webgpuForTests(): Promise<WebGPUDevice | null> {
  // Only one attempt: a second Dawn instance in the same process is not reliable, so SwiftShader is chosen
  // up front when no driver is named (set VK_ICD_FILENAMES yourself to test on a real GPU).
  if (!process.env["VK_ICD_FILENAMES"] && existsSync(SWIFTSHADER_ICD)) process.env["VK_ICD_FILENAMES"] = SWIFTSHADER_ICD;
  started ??= initWebGPU().catch((e: unknown) => {
    if (process.env["CI"]) throw e;
    console.warn(HOW_TO_ENABLE);
    return null;
  });
  return started;
}
