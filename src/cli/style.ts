/** Terminal styling: ANSI colours only when writing to a terminal, honouring NO_COLOR and FORCE_COLOR. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  yellow(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string): string => (on && s ? `\x1b[${open}m${s}\x1b[${close}m` : s);

export function makeStyle(enabled: boolean): Style {
  return {
    bold: wrap(enabled, 1, 22), dim: wrap(enabled, 2, 22), green: wrap(enabled, 32, 39),
    red: wrap(enabled, 31, 39), cyan: wrap(enabled, 36, 39), yellow: wrap(enabled, 33, 39),
  };
}

/** Colour for a stream: off with NO_COLOR, on with FORCE_COLOR (≠ 0), else when the stream is a terminal. */
export function colorFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0";
  return stream.isTTY === true;
}

/** A cell: plain text (used for width) and an optional colouring applied after padding. */
export type Cell = string | { text: string; color?: (s: string) => string };

const width = (s: string): number => [...s].length;

/** Lays out rows in aligned columns (widths measured on plain text, colour applied after padding). */
export function columns(rows: Cell[][], indent = "  ", gap = "  "): string[] {
  const text = (c: Cell): string => (typeof c === "string" ? c : c.text);
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, width(text(c))); });
  return rows.map((r) => {
    const parts = r.map((c, i) => {
      const t = text(c);
      const padded = i === r.length - 1 ? t : t + " ".repeat(widths[i]! - width(t));
      return typeof c === "string" || !c.color ? padded : c.color(t) + padded.slice(t.length);
    });
    return (indent + parts.join(gap)).trimEnd();
  });
}
