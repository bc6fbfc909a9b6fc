/** Shared helpers of the HTTP/1.1 message tests: raw bytes in, readers over a memory pair. */
import { assertEquals, assertThrows } from "@std/assert";
import { memoryPair } from "../../conn/memory.ts";
import type { Conn } from "../../conn/types.ts";
import { BufferedReader } from "../../http1/buffered_reader.ts";
import { HttpParseError } from "../../http1/parse.ts";

/** Bytes of a string, one character to one byte (every character must be U+0000..U+00FF). */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`character U+${c.toString(16)} is not a byte`);
    out[i] = c;
  }
  return out;
}

/** A string of bytes, one byte to one character. */
export function str(data: Uint8Array): string {
  let out = "";
  for (const b of data) out += String.fromCharCode(b);
  return out;
}

import { join } from "../_bytes.ts";
export { join };

/** A memory pair whose writes never wait, so a test can write everything before reading. */
export function pair(): [Conn, Conn] {
  return memoryPair({ highWaterMark: Number.MAX_SAFE_INTEGER });
}

/**
 * A reader over a connection that delivers `chunks` as separate reads, then (unless `end` is
 * false) ends.
 */
export async function readerOf(
  chunks: (string | Uint8Array)[],
  end = true,
): Promise<BufferedReader> {
  const [client, server] = pair();
  for (const chunk of chunks) {
    await client.write(typeof chunk === "string" ? bytes(chunk) : chunk);
  }
  if (end) await client.closeWrite();
  return new BufferedReader(server);
}

/** Everything a reader still holds or will read: its buffered bytes, then the connection's. */
export async function rest(reader: BufferedReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [reader.takeBuffered().slice()];
  for (let c = await reader.conn.read(); c !== null; c = await reader.conn.read()) parts.push(c);
  return join(parts);
}

/** Asserts that `fn` throws an {@linkcode HttpParseError} with `status`, and returns it. */
export function assertParseError(fn: () => unknown, status: number): HttpParseError {
  const error = assertThrows(fn, HttpParseError) as HttpParseError;
  assertEquals(error.status, status, `expected ${status}, got ${error.status}: ${error.message}`);
  return error;
}

/**
 * A connection wrapper that counts `read()` calls, so tests can show when a reader touches
 * the connection.
 */
export class CountingConn implements Conn {
  reads = 0;
  constructor(private readonly inner: Conn) {}
  get localAddr(): Conn["localAddr"] {
    return this.inner.localAddr;
  }
  get remoteAddr(): Conn["remoteAddr"] {
    return this.inner.remoteAddr;
  }
  get alpnProtocol(): string | null {
    return this.inner.alpnProtocol;
  }
  get secure(): boolean {
    return this.inner.secure;
  }
  read(): Promise<Uint8Array | null> {
    this.reads++;
    return this.inner.read();
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  closeWrite(): Promise<void> {
    return this.inner.closeWrite();
  }
  close(): void {
    this.inner.close();
  }
  setNoDelay(noDelay: boolean): void {
    this.inner.setNoDelay(noDelay);
  }
}
