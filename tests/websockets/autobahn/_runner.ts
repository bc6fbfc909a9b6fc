/**
 * Plays cases against our WebSockets: as a fuzzing client against a `WebSockets.listen`
 * echo server, or as a fuzzing server against a `WebSockets.open` echoing client, with or
 * without permessage-deflate, a few cases at a time, one connection per case.
 */
import type { Conn, Listener } from "../../../conn/types.ts";
import { connect } from "../../../conn/connect.ts";
import { listen as listenRaw } from "../../../conn/listen.ts";
import { ProxyConfig } from "../../../client/proxy.ts";
import type { Server } from "../../../server/server.ts";
import { WebSockets } from "../../../websockets/namespace.ts";
import type { WebSocket } from "../../../websockets/websocket.ts";
import {
  type Case,
  type CaseRun,
  CLOSE_NORMALLY,
  finishWhenDone,
  judge,
  type Verdict,
} from "./_case.ts";
import { acceptFirst } from "./_group12.ts";
import {
  clientHandshake,
  type Head,
  offer,
  type Opened,
  readHead,
  serverHandshake,
} from "./_handshake.ts";
import { FuzzPeer } from "./_peer.ts";
import { SCALE } from "./_scale.ts";

/** Which of our ends is under test, and how. */
export interface SuiteOptions {
  testee: "server" | "client";
  /** Our end has permessage-deflate on, and the fuzzer offers or accepts it. */
  compress: boolean;
  /** Cases run at once (default 4). */
  concurrency?: number;
}

/**
 * Our end's limits for the suite: group 9 sends up to 65536 fragments per message
 * (Autobahn's 4 MiB in 64-octet fragments; the default allows 1024).
 */
const LIMITS = { maxFragmentation: 1 << 17, maxFrameSize: 16 * 1024 * 1024 };
const NO_PROXY = new ProxyConfig();

/** Echoes every message until the connection ends. */
async function echo(ws: WebSocket): Promise<void> {
  try {
    for await (const msg of ws) await ws.send(msg);
  } catch {
    // how the connection ended is what the case judges
  }
}

function failed(c: Case, why: string): Verdict {
  return {
    id: c.id,
    behavior: "FAILED",
    behaviorClose: "FAILED",
    result: why,
    resultClose: "The WebSocket opening handshake was never completed",
    remoteCloseCode: null,
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One testee and its fuzzer, for many cases. */
export class Suite implements AsyncDisposable {
  readonly options: SuiteOptions;
  #server: Server | null = null;
  #listener: Listener | null = null;
  #waiting = new Map<string, (arrived: { conn: Conn; head: Head }) => void>();
  #accepting: Promise<void> = Promise.resolve();
  #testees = new Set<Promise<unknown>>();

  private constructor(options: SuiteOptions) {
    this.options = options;
  }

  /** Starts our echo server, or the fuzzing server our client connects to. */
  static async start(options: SuiteOptions): Promise<Suite> {
    const suite = new Suite(options);
    if (options.testee === "server") {
      suite.#server = await WebSockets.listen("127.0.0.1", 0, echo, {
        compress: options.compress,
        ...LIMITS,
      });
    } else {
      suite.#listener = await listenRaw({ hostname: "127.0.0.1", port: 0 });
      suite.#accepting = suite.#acceptLoop(suite.#listener);
    }
    return suite;
  }

  /** Runs the cases, `concurrency` at a time; verdicts in the cases' order. */
  async run(cases: Case[]): Promise<Verdict[]> {
    const verdicts: Verdict[] = new Array(cases.length);
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        verdicts[i] = await this.runCase(cases[i]);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? 4 }, worker));
    return verdicts;
  }

  /** Runs one case on a fresh connection. */
  async runCase(c: Case): Promise<Verdict> {
    let conn: Conn;
    let opened: Opened;
    try {
      [conn, opened] = this.options.testee === "server"
        ? await this.#openToServer(c)
        : await this.#openFromClient(c);
    } catch (err) {
      return failed(c, `the opening handshake failed: ${message(err)}`);
    }
    const peer = new FuzzPeer(conn, this.options.testee === "server" ? "client" : "server", {
      deflate: opened.deflate,
      rest: opened.rest,
      second: SCALE.second,
    });
    const run: CaseRun = {
      peer,
      expected: new Map(),
      expectedClose: CLOSE_NORMALLY,
      behavior: "FAILED",
      result: "",
      suppressClose: false,
    };
    peer.afterEvent = () => finishWhenDone(run);
    c.onOpen(run);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      peer.closed,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 120 * SCALE.second))),
    ]);
    clearTimeout(timer);
    if (peer.state !== "closed") {
      run.result ||= "The case did not end in time";
      peer.drop();
    }
    return judge(c, run, true);
  }

  async #openToServer(c: Case): Promise<[Conn, Opened]> {
    const { hostname, port } = this.#server!.addr;
    const conn = await connect({ hostname, port });
    try {
      const offers = c.deflate?.offers ?? (this.options.compress ? [offer()] : []);
      return [conn, await clientHandshake(conn, `${hostname}:${port}`, `/case/${c.id}`, offers)];
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  async #openFromClient(c: Case): Promise<[Conn, Opened]> {
    const path = `/case/${c.id}`;
    const arrived = new Promise<{ conn: Conn; head: Head }>((resolve) =>
      this.#waiting.set(path, resolve)
    );
    const compress = this.options.compress ? (c.deflate?.ours ?? true) : false;
    const url = `ws://127.0.0.1:${this.#listener!.addr.port}${path}`;
    let refused: (err: unknown) => void = () => {};
    const gaveUp = new Promise<never>((_, reject) => (refused = reject));
    const testee = WebSockets.open(url, { proxy: NO_PROXY, compress, ...LIMITS })
      .then((ws) => echo(ws).then(() => ws.closed))
      .catch(refused);
    this.#testees.add(testee);
    testee.finally(() => this.#testees.delete(testee));
    try {
      const { conn, head } = await Promise.race([arrived, gaveUp]);
      const accept = c.deflate?.accept ?? (this.options.compress ? acceptFirst : null);
      return [conn, await serverHandshake(conn, head, accept)];
    } finally {
      this.#waiting.delete(path);
    }
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for (;;) {
      const conn = await listener.accept().catch(() => null);
      if (conn === null) return;
      readHead(conn).then((head) => {
        const path = head?.startLine.split(" ")[1] ?? "";
        const waiting = this.#waiting.get(path);
        if (head === null || waiting === undefined) conn.close();
        else waiting({ conn, head });
      }, () => conn.close());
    }
  }

  /** Stops the testee and the fuzzer. */
  async close(): Promise<void> {
    if (this.#server) await WebSockets.forceClose(this.#server);
    this.#listener?.close();
    await this.#accepting;
    await Promise.allSettled([...this.#testees]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
