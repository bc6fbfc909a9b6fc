import type { Conn } from "./types.ts";

/** Accepted connections waiting for `accept()`, shared by the runtime adapters. */
export class AcceptQueue implements AsyncIterable<Conn> {
  #ready: Conn[] = [];
  #waiting: ((conn: Conn | null) => void)[] = [];
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  push(conn: Conn): void {
    if (this.#closed) return conn.close();
    const waiter = this.#waiting.shift();
    if (waiter) waiter(conn);
    else this.#ready.push(conn);
  }

  next(): Promise<Conn | null> {
    const conn = this.#ready.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops the queue: waiters get `null`, connections nobody accepted are closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(null);
    for (const conn of this.#ready.splice(0)) conn.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (true) {
      const conn = await this.next();
      if (conn === null) return;
      yield conn;
    }
  }
}
