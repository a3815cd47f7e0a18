/**
 * Errors that know how to present themselves to API clients.
 * @module
 */

/**
 * Machine-readable error codes used in API responses and error lines (client/types.ts mirrors
 * them). `timeout` (504) marks an image not scored by its request's deadline; `url_too_long` (414)
 * a URL over MAX_URL_BYTES.
 */
export const ERROR_CODES = [
  "bad_request",
  "bad_parameter",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "url_too_long",
  "payload_too_large",
  "image_too_large",
  "unsupported_media_type",
  "corrupt_image",
  "overloaded",
  "timeout",
  "shutting_down",
  "not_ready",
  "not_calibrated",
  "internal",
] as const;
/** A machine-readable error code. */
export type ErrorCode = typeof ERROR_CODES[number];

/** An error with an HTTP status and a stable code; its message is safe to show to clients. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  /** `{"error": {"code", "message"}}` */
  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }

  /** The JSON error response for this error. */
  toResponse(extraHeaders: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { "content-type": "application/json", ...this.headers, ...extraHeaders },
    });
  }
}
