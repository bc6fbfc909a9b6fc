/** Shared parts of the WebSocket interop tests: peer processes, and our echo client and server. */
import { type ChildProcess, spawn } from "node:child_process";
import { assert, assertEquals } from "@std/assert";
import { WebSockets } from "../../websockets/namespace.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import type { Server } from "../../server/server.ts";
import { run } from "./_process.ts";

/** A peer server process; `port` is what it printed first. */
export interface PeerServer extends AsyncDisposable {
  port: number;
}

/** Starts a peer server that prints its port on its first stdout line. */
export function startPeerServer(command: string, args: string[]): Promise<PeerServer> {
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${command} did not print a port`));
    }, 15_000);
    child.on("error", reject);
    child.stdout!.on("data", (chunk) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({
          port: Number(line.trim()),
          [Symbol.asyncDispose]: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once("exit", () => done());
              child.kill();
            }),
        });
      }
    });
  });
}

/** Our client against a peer's echo server: text and binary, compressed or not. */
export async function ourClientAgainst(
  port: number,
  compress: boolean,
  expectDeflate: boolean = compress,
): Promise<void> {
  const messages: (string | Uint8Array)[] = [];
  for (let i = 0; i < 30; i++) {
    messages.push(JSON.stringify({ i, payload: "repetitive json ".repeat(i * 30) }));
    messages.push(new Uint8Array(i * 200).fill(i));
  }
  messages.push("x".repeat(1 << 20)); // a big one, many frames' worth
  const ext = await WebSockets.open(`ws://127.0.0.1:${port}/`, async (ws) => {
    for (const m of messages) {
      await ws.send(m);
      assertEquals(await ws.receive(), m);
    }
    // Fragmented send.
    await ws.send(["frag", "mented ", "message"]);
    assertEquals(await ws.receive(), "fragmented message");
    await ws.ping();
    return ws.extensions;
  }, { compress, proxy: new ProxyConfig() });
  assertEquals(ext.startsWith("permessage-deflate"), expectDeflate, ext);
}

/** Runs our echo server and a peer client process against it; checks the peer's report. */
export async function peerClientAgainstUs(
  command: string,
  args: (url: string) => string[],
  compress: boolean,
): Promise<void> {
  const server: Server = await WebSockets.listen("127.0.0.1", 0, async (ws) => {
    for await (const msg of ws) await ws.send(msg);
  }, { compress });
  try {
    const ran = await run(command, args(`ws://${WebSockets.serverAddr(server)}/`));
    assertEquals(ran.code, 0, ran.stderr + ran.stdout);
    const report = JSON.parse(ran.stdout.trim().split("\n").pop()!);
    assert(report.ok, ran.stdout);
    assertEquals(report.count, 100);
    assertEquals(String(report.extensions).startsWith("permessage-deflate"), compress, ran.stdout);
  } finally {
    await WebSockets.forceClose(server);
  }
}
