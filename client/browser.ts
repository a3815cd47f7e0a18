/**
 * What the playground (public/app.js) shares with the client, bundled to `public/client.js` by
 * `deno task build:client` (tests/client/browser_bundle_test.ts fails when the bundle is stale).
 * @module
 */
export { readNdjson } from "./ndjson.ts";
export { alphaProblem, isErrorLine, METHODS } from "./types.ts";
