/** Raw-bytes helpers for server tests: send exact bytes, read what comes back. */
import { connect } from "../../conn/connect.ts";
import type { Conn } from "../../conn/types.ts";
import { text, utf8 } from "../_fixtures.ts";

/** Opens a plain TCP connection to the server on 127.0.0.1. */
export function dial(port: number): Promise<Conn> {
  return connect({ hostname: "127.0.0.1", port });
}

/** Reads until the peer closes (or `ms` pass), returning everything as text. */
export async function readToEnd(conn: Conn, ms = 5000): Promise<string> {
  let out = "";
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (let c = await conn.read(); c; c = await conn.read()) out += text(c);
  } catch {
    // a reset after the response counts as the end
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Reads until `out` contains `marker` occurrences `count` times. */
export async function readUntil(conn: Conn, marker: string, count = 1): Promise<string> {
  let out = "";
  while (out.split(marker).length - 1 < count) {
    const c = await conn.read();
    if (c === null) break;
    out += text(c);
  }
  return out;
}

/** Sends `request` on a fresh connection and returns everything the server sends until it closes. */
export async function rawExchange(port: number, request: string | Uint8Array): Promise<string> {
  const conn = await dial(port);
  try {
    await conn.write(typeof request === "string" ? utf8(request) : request);
    return await readToEnd(conn);
  } finally {
    conn.close();
  }
}

/** The status code of the first response in `raw`. */
export function statusOf(raw: string): number {
  return Number(raw.slice(9, 12));
}
