/**
 * The one error type of input reading.
 * @module
 */

/** An input spec that cannot be read; the message names the spec: `Cannot read input "x": why`. */
export class InputError extends Error {
  /** The spec as the user wrote it. */
  readonly spec: string;
  constructor(spec: string, reason: string) {
    super(`Cannot read input "${spec}": ${reason}`);
    this.name = "InputError";
    this.spec = spec;
  }
}
