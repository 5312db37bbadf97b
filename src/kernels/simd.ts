// A module of one function `() -> v128` returning i32x4.splat(0): it validates only where the engine
// implements the WebAssembly SIMD proposal (128-bit vectors; Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+).
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // code: i32.const 0; i32x4.splat; end
]);

let cached: boolean | undefined;

/** Whether this JavaScript engine runs WebAssembly SIMD (128-bit) code. */
export function wasmSimdSupported(): boolean {
  if (cached === undefined) {
    try {
      cached = typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
    } catch {
      cached = false;
    }
  }
  return cached;
}
