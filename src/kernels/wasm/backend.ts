// PLACEHOLDER written by the integrating engineer so the registry compiles; the wasm helper replaces this whole file.
import type { Backend } from "../backend.js";
export function createWasmBackend(): Backend | null { return null; }
