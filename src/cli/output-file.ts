// Output files of the CLI (train --out/--plot, modes --plot): checked before the long work starts, so a
// typo in a path fails in a second instead of after a whole training run, and write errors read as one
// line about the user's path (never a temporary file's name).
import { accessSync, constants, statSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { ValueError } from "../core/errors.js";

/** Why a path cannot be written, in words, from a Node error code (null for other codes). */
function reason(code: string | undefined): string | null {
  switch (code) {
    case "ENOENT": return "its directory does not exist";
    case "ENOTDIR": return "a part of the path is not a directory";
    case "EACCES": case "EPERM": return "permission denied";
    case "EISDIR": return "it is a directory";
    case "EROFS": return "the file system is read-only";
    case "ENOSPC": return "no space left on the device";
    case "EDQUOT": return "disk quota exceeded";
    case "ENAMETOOLONG": return "the name is too long";
    default: return null;
  }
}

/**
 * Checks that `path` can be written: its parent directory exists, is a directory and is writable, and
 * `path` itself is not a directory (and, if it exists, is writable).
 * @param what the command and option for the message, e.g. "train: --out"
 * @throws ValueError (exit status 2) naming the option, the path and the reason
 */
export function checkWritable(what: string, path: string): void {
  const fail = (why: string): never => {
    throw new ValueError(`${what}: cannot write ${path}: ${why}`);
  };
  if (path.trim() === "") fail("the file name is empty");
  const dir = dirname(resolve(path));
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch (e) {
    fail(reason((e as NodeJS.ErrnoException).code) ?? (e as Error).message);
  }
  if (!dirStat!.isDirectory()) fail(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    fail(`the directory ${dir} is not writable`);
  }
  let target;
  try {
    target = statSync(path);
  } catch {
    return; // does not exist yet: the directory check is what matters
  }
  if (target.isDirectory()) fail("it is a directory; give a file name");
  try {
    accessSync(path, constants.W_OK);
  } catch {
    fail("the file exists and is not writable");
  }
}

/**
 * A write failure as a ValueError about the user's path: the reason from the error code, without the
 * system message (which may name a temporary file).
 * @param what the command and option, e.g. "train: --out"
 */
export function writeError(what: string, path: string, err: unknown): ValueError {
  const code = (err as NodeJS.ErrnoException).code;
  return new ValueError(`${what}: cannot write ${path}: ${reason(code) ?? code ?? "write failed"}`);
}

/**
 * Checks that a plot's file name ends in .svg: the plots are SVG, and SVG bytes in a .png file open as a
 * broken image. Said before the work starts, like `viz -o graph.svg`.
 * @param what the command and option for the message, e.g. "train: --plot"
 * @throws ValueError (exit status 2) naming the path and its extension
 */
export function checkSvgName(what: string, path: string): void {
  const ext = extname(path).toLowerCase();
  if (ext === ".svg") return;
  const stem = ext === "" ? path : path.slice(0, -ext.length);
  throw new ValueError(`${what}: the plot is SVG, so the file name must end in .svg, got ${path} (extension ${ext ? `"${ext}"` : "(none)"}); `
    + `use ${stem}.svg${ext === ".png" ? `, then convert it if you need a PNG, e.g. rsvg-convert ${stem}.svg > ${path}` : ""}`);
}
