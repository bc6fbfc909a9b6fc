/**
 * One case of a WebSocket echo load, as the load clients (`bench/ws_load_bun.ts`,
 * `bench/ws_client_load.ts`, `bench/ws_load.mjs`) take it in their JSON argument.
 *
 * @module
 */

/** Every connection keeps `inflight` messages of `size` bytes outstanding; each echo sends the next. */
export interface WsCase {
  /** Connections. */
  conns: number;
  /** Message size in bytes. */
  size: number;
  /** Messages outstanding per connection. */
  inflight: number;
  /** Seconds measured. */
  seconds: number;
  /** Seconds of load before the measured window. */
  warmup: number;
}
