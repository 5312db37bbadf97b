// Spawned by test/untrusted.test.ts: saves a 4 MB safetensors file `count` times over `path`, each
// time with a different first value, while the test process reads it.
import { io, tensor } from "../../src/index.js";

const [path, count = "40"] = process.argv.slice(2);
if (!path) throw new Error("usage: save-loop.ts <path> [count]");
const data = new Float32Array(1 << 20);
for (let i = 0; i < Number(count); i++) {
  data.fill(i);
  io.saveSafetensors(path, { w: tensor(data) });
}
