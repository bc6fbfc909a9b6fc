/** Helpers for the HTTP/2 interop tests: long-running peers (nghttpd), free ports, temp files. */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CA, CERT, KEY } from "../_fixtures.ts";
import { have } from "./_process.ts";

/** A child process running in the background; dispose kills it (by its pid). */
export interface Peer extends AsyncDisposable {
  /** Everything it has printed so far (stdout and stderr). */
  output(): string;
  /** The pid. */
  pid: number;
}

/** Starts `command` in the background, collecting its output. */
export function startPeer(command: string, args: string[]): Peer {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<void>((resolve) => {
    child.on("exit", () => resolve());
    child.on("error", () => resolve());
  });
  child.stdout?.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
  child.stderr?.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
  return {
    pid: child.pid ?? -1,
    output: () => out,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL"); // signals this child's pid only
      }
      await exited;
    },
  };
}

/** A loopback port that was free a moment ago (bound and released, never connected to). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Retries `attempt` until it resolves (or `ms` run out, then throws its last error). */
export async function retry<T>(attempt: () => Promise<T>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A temporary directory, removed on dispose; also holds ca.pem, cert.pem and key.pem. */
export interface TempDir extends AsyncDisposable {
  path: string;
  ca: string;
  cert: string;
  key: string;
  /** Writes a file in it and returns its path. */
  write(name: string, data: Uint8Array | string): Promise<string>;
}

/** Makes a {@linkcode TempDir}. */
export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), "h2-interop-"));
  const write = async (name: string, data: Uint8Array | string) => {
    const file = join(path, name);
    await writeFile(file, data);
    return file;
  };
  return {
    path,
    ca: await write("ca.pem", CA),
    cert: await write("cert.pem", CERT),
    key: await write("key.pem", KEY),
    write,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes of length `n` (printable ASCII, so they survive as text too). */
export function pattern(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = 97 + (i * 7 + (i >> 10)) % 26;
  return out;
}

/** Whether each of `commands` can be run here (checked once, at load time). */
export async function haveAll(...commands: string[]): Promise<Record<string, boolean>> {
  const found: Record<string, boolean> = {};
  for (const c of commands) found[c] = await have(c);
  return found;
}
