/**
 * Error types thrown by chainrule. Every message reads `op: problem; got …, expected …`
 * so a user can tell which call went wrong without reading a stack trace.
 */

/** Base class of every error chainrule throws on purpose. */
export class ChainruleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that cannot work together: broadcasting, matmul, reshape, bad axis. */
export class ShapeError extends ChainruleError {}

/** A dtype the op cannot take, e.g. differentiating with respect to an int32 tensor. */
export class DTypeError extends ChainruleError {}

/** Misuse of a transform or a differentiation rule that returned the wrong thing. */
export class GradientError extends ChainruleError {}

/** An expression or file that cannot be parsed. `position` is a 0-based character offset when known. */
export class ParseError extends ChainruleError {
  constructor(
    message: string,
    /** 0-based character offset of the problem in the parsed text, when known. */
    readonly position?: number,
  ) {
    super(message);
  }
}

/** A value outside what the op accepts (e.g. a non-finite number where a count is expected). */
export class ValueError extends ChainruleError {}

/** A non-finite value found by `detectAnomaly`. */
export class AnomalyError extends ChainruleError {}
