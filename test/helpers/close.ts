import { expect } from "vitest";
import { Tensor } from "../../src/index.js";

/** Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the worst element. */
export function expectAllClose(actual: Tensor | number, expected: Tensor | number | number[], rtol = 1e-6, atol = 1e-9): void {
  const a = actual instanceof Tensor ? Array.from(actual.data) : [actual];
  const e = expected instanceof Tensor ? Array.from(expected.data) : Array.isArray(expected) ? expected : [expected];
  expect(a.length, "element count").toBe(e.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!, ei = e[i]!;
    if (Number.isNaN(ei) && Number.isNaN(ai)) continue;
    if (ai === ei) continue;
    const err = Math.abs(ai - ei) - (atol + rtol * Math.abs(ei));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})`);
}
