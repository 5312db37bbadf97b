// How the page writes numbers and formulas: a true minus sign (U+2212) instead of the ASCII hyphen the
// library's text exports use, sums that read "a − b" rather than "a + -b", and times with two or three
// significant digits. The text exports keep ASCII (they are read by programs); only the page typesets.
import type { ValueSummary } from "../capture.js";
import { fmtNumber, fmtType } from "../export-text.js";

/** The minus sign U+2212, as typographers and screen readers ("minus") expect. */
export const MINUS = "−";

/**
 * Typesets a display string: a hyphen used as a sign or as subtraction becomes "−", and "+ −x" becomes
 * "− x". A hyphen inside a word (a name such as "lr-decay") or in an exponent ("1e-6") is left alone.
 */
export function typeset(s: string): string {
  return s
    .replace(/(^|[\s([,=·+*/^×:])-(?=[\d.∞(∂a-zA-Z√])/g, `$1${MINUS}`)
    .replace(/ - /g, ` ${MINUS} `)
    .replace(/\+ −/g, `${MINUS} `)
    .replace(/\+ \(−([^()]*)\)/g, `${MINUS} $1`);
}

/** A number for display: `7`, `−0.0625`, `∞`. */
export const num = (v: number): string => typeset(fmtNumber(v));

/** A short display of a value for boxes and edge labels: `7`, `−2.5`, `f32[2,3]`. */
export function short(v: ValueSummary | null): string {
  if (v === null) return "0";
  if (v.shape.length === 0 && v.data) return num(v.data[0]!);
  return fmtType(v);
}

/**
 * Milliseconds for the timing chart: three significant digits at most (`0.052 ms`, `1.3 ms`, `187 ms`);
 * the measurement is not more precise than that.
 */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 100) return ms.toFixed(0);
  return String(Number(ms.toPrecision(2)));
}
