import type { Conn } from "../conn/types.ts";

/** The connection an upgraded exchange hands over, with the bytes already read past the head. */
export interface UpgradedConn {
  conn: Conn;
  /** Bytes the client sent after the request head (the start of the new protocol). */
  head: Uint8Array;
}

/** The server an upgraded connection belongs to: it closes what is tracked when it shuts down. */
export interface UpgradeOwner {
  /** Registers something to close on shutdown; returns a function that unregisters it. */
  track(resource: { close(): void | Promise<void>; forceClose(): void }): () => void;
}

/** Lets a handler take over the connection of an HTTP/1.1 exchange. */
export interface UpgradeHandle {
  /** The server serving the exchange, if known (for tracking what the upgrade starts). */
  readonly owner?: UpgradeOwner;
  /** The request method as sent (a `Request` normalizes `get` to `GET`; RFC 6455 wants `GET`). */
  readonly method: string;
  /**
   * Sends the response head (`101 Switching Protocols`, or `200` for CONNECT) and hands the
   * connection over: the server stops reading it and never closes it.
   */
  accept(status: number, headers: Headers): Promise<UpgradedConn>;
}

/** What a `Request => Response` handler returns to switch protocols: the head and who gets the connection. */
export interface UpgradeResponse {
  status: number;
  headers: Headers;
  onUpgrade(upgraded: UpgradedConn): void;
}

const handles = new WeakMap<object, UpgradeHandle>();
const responses = new WeakMap<Response, UpgradeResponse>();

/** Makes an exchange's connection available to {@linkcode upgradeHandleOf}, keyed by its Request or Stream. */
export function registerUpgrade(key: object, handle: UpgradeHandle): void {
  handles.set(key, handle);
}

/** The upgrade handle of a Request or Stream served by this module, if it can be upgraded. */
export function upgradeHandleOf(key: object): UpgradeHandle | undefined {
  return handles.get(key);
}

/**
 * A placeholder `Response` that, returned from a handler, makes the server send `upgrade`'s
 * head and hand the connection to `upgrade.onUpgrade` (a `Response` cannot have status 101).
 */
export function upgradeResponse(upgrade: UpgradeResponse): Response {
  const response = new Response(null, { status: 200 });
  responses.set(response, upgrade);
  return response;
}

/** The upgrade a placeholder response stands for, if it is one. */
export function upgradeOf(response: Response): UpgradeResponse | undefined {
  return responses.get(response);
}
