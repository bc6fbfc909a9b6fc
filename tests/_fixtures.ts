/** TLS fixtures for tests: a test CA, and a localhost leaf signed by it. */
const dir = new URL("./fixtures/", import.meta.url);

async function readText(name: string): Promise<string> {
  const url = new URL(name, dir);
  if (typeof Deno !== "undefined" && typeof Deno.readTextFile === "function") {
    return await Deno.readTextFile(url);
  }
  const fs = await import("node:fs/promises");
  return await fs.readFile(url, "utf8");
}

/** The test CA's certificate, for clients to trust. */
export const CA: string = await readText("ca.pem");
/** The server certificate (localhost, 127.0.0.1, ::1). */
export const CERT: string = await readText("cert.pem");
/** The server key. */
export const KEY: string = await readText("key.pem");

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Decodes UTF-8. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Waits for `promise`, failing with `what` once `ms` have passed (a test fails, not hangs). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
