/**
 * The two routes every benchmark server answers, shared so that each server does the same
 * work: `/` is a 12-byte hello world, `/64k` a 64 KiB body (the same bytes every time).
 *
 * @module
 */

/** The hello-world body (12 bytes). */
export const HELLO = "Hello World!";

/** The 64 KiB body. */
export const BODY_64K: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024).fill(120); // "xxx..."

/** The port to listen on: the first argument, or 0 (the system picks one). */
export function portArg(args: readonly string[]): number {
  return Number(args[0] ?? 0);
}

/**
 * Answers a request by its path. It looks only at the path (not a full URL parse) so that
 * the servers compare on their own work, not on the handler's.
 */
export function handler(request: Request): Response {
  const url = request.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  if (path === "/64k") {
    return new Response(BODY_64K, { headers: { "content-type": "application/octet-stream" } });
  }
  return new Response(HELLO, { headers: { "content-type": "text/plain" } });
}

/** The runtime this runs on and its version: `deno 2.9.6`, `node v20.20.2`, `bun 1.4.5`. */
export function runtimeName(): string {
  const g = globalThis as {
    Bun?: { version: string };
    Deno?: { version: { deno: string } };
    process?: { version: string };
  };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${g.process?.version}`;
}

/** What a server prints once it listens; the driver waits for this line. */
export function ready(runtime: string, port: number): void {
  console.log(`listening ${port} ${runtime}`);
}
