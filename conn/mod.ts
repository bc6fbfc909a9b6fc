/**
 * The pluggable connection layer: the {@linkcode Conn} and {@linkcode Listener} shapes
 * that every protocol of this module runs over, adapters for Deno and Node/Bun sockets
 * (TCP, TLS with ALPN, unix sockets), and an in-memory pair for tests.
 *
 * @example
 * ```ts
 * import { memoryPair } from "@hyperwire/http/conn";
 *
 * const [a, b] = memoryPair();
 * await a.write(new TextEncoder().encode("ping"));
 * console.log(new TextDecoder().decode((await b.read())!)); // "ping"
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./memory.ts";
export * from "./connect.ts";
export * from "./listen.ts";
export * from "./from.ts";
