/**
 * The error raised when a backend cannot be used on this host.
 * @module
 */
import type { BackendName } from "../contract/backends.ts";

/** A backend failed to load or has no device; `reason` says why, `hint` what to do. */
export class BackendUnavailableError extends Error {
  readonly backend: BackendName;
  readonly reason: string;
  constructor(backend: BackendName, reason: string, hint = "", options?: ErrorOptions) {
    super(`Backend "${backend}" is not available: ${reason}${hint ? ` (${hint})` : ""}`, options);
    this.name = "BackendUnavailableError";
    this.backend = backend;
    this.reason = reason;
  }
}
