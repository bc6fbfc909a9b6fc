/**
 * HTTP clients.
 *
 * @module
 */
export { RetryableRequestError } from "./_protocol.ts";
