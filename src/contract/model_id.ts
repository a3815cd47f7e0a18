/**
 * Model ids, the one pattern every front end checks (URLs, `MODELS`, model folders, imports)
 * before any filesystem access: lower-case letters, digits, `.`, `_`, `-`, up to 64 characters,
 * not starting with a punctuation mark, so an id is always a safe directory name.
 * @module
 */

/** The model-id pattern. */
export const MODEL_ID_RE: RegExp = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** True when `id` is a well-formed model id (and therefore a safe directory name). */
export function isModelId(id: string): boolean {
  return MODEL_ID_RE.test(id);
}
