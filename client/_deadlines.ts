// Per-request timers. Each aborts the request's internal AbortSignal with its own error as the
// reason; protocol connections reject, or error the body, with `signal.reason`. Nothing here
// is created for a request without timeouts.
import {
  ReadIdleTimeoutError,
  RequestTimeoutError,
  ResponseHeaderTimeoutError,
  WriteIdleTimeoutError,
} from "./errors.ts";

/** The four per-request timeouts in milliseconds (0 = off). */
export interface RequestTimeouts {
  requestTimeout: number;
  responseHeaderTimeout: number;
  readIdleTimeout: number;
  writeIdleTimeout: number;
}

/**
 * A re-armable timer that costs no timer call per re-arm: it keeps a deadline, and its one
 * timeout checks the deadline when it fires.
 */
class IdleTimer {
  #deadline = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly ms: number, readonly fire: () => void) {}

  arm(): void {
    this.#deadline = performance.now() + this.ms;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#check, this.ms);
  }

  disarm(): void {
    this.#deadline = 0;
  }

  stop(): void {
    this.#deadline = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check = (): void => {
    this.#timer = undefined;
    if (this.#deadline === 0) return;
    const left = this.#deadline - performance.now();
    if (left <= 0) this.fire();
    else this.#timer = setTimeout(this.#check, left);
  };
}

/** The timers of one request, and the signal they abort. */
export class Deadlines {
  /** Aborted by the caller's signal or by a timeout (with that timeout's error). */
  readonly signal: AbortSignal;
  #controller = new AbortController();
  #request: ReturnType<typeof setTimeout> | undefined;
  #header: IdleTimer | null;
  #read: IdleTimer | null;
  #write: IdleTimer | null;
  #user: AbortSignal | undefined;
  #onUserAbort = () => this.#abort(this.#user!.reason);
  #disposed = false;

  constructor(timeouts: RequestTimeouts, user: AbortSignal | undefined) {
    this.signal = this.#controller.signal;
    const { requestTimeout, responseHeaderTimeout, readIdleTimeout, writeIdleTimeout } = timeouts;
    this.#header = responseHeaderTimeout > 0
      ? new IdleTimer(
        responseHeaderTimeout,
        () => this.#abort(new ResponseHeaderTimeoutError(responseHeaderTimeout)),
      )
      : null;
    this.#read = readIdleTimeout > 0
      ? new IdleTimer(readIdleTimeout, () => this.#abort(new ReadIdleTimeoutError(readIdleTimeout)))
      : null;
    this.#write = writeIdleTimeout > 0
      ? new IdleTimer(
        writeIdleTimeout,
        () => this.#abort(new WriteIdleTimeoutError(writeIdleTimeout)),
      )
      : null;
    if (user) {
      this.#user = user;
      if (user.aborted) this.#controller.abort(user.reason);
      else user.addEventListener("abort", this.#onUserAbort, { once: true });
    }
    if (requestTimeout > 0 && !this.signal.aborted) {
      this.#request = setTimeout(
        () => this.#abort(new RequestTimeoutError(requestTimeout)),
        requestTimeout,
      );
    }
  }

  /** Whether a streamed request body must be watched (write stalls, or its end for the header timer). */
  get watchesRequestBody(): boolean {
    return this.#write !== null || this.#header !== null;
  }

  /** The request is fully handed to the connection: the wait for the response head starts. */
  requestSent(): void {
    this.#header?.arm();
  }

  /** The response head arrived. */
  responseArrived(): void {
    this.#header?.disarm();
  }

  /** Stops every timer and lets go of the caller's signal. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#request !== undefined) clearTimeout(this.#request);
    this.#header?.stop();
    this.#read?.stop();
    this.#write?.stop();
    this.#user?.removeEventListener("abort", this.#onUserAbort);
  }

  #abort(reason: unknown): void {
    if (this.#disposed) return;
    this.#controller.abort(reason);
    this.dispose();
  }

  /**
   * Wraps a streamed request body: the write-idle timer runs while the connection writes a
   * chunk (from handing it over until the connection asks for the next), and the
   * response-header timer starts when the body has been taken in full.
   */
  watchRequestBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const source = body.getReader();
    const write = this.#write;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        write?.disarm();
        const r = await source.read();
        if (r.done) {
          controller.close();
          this.requestSent();
          return;
        }
        controller.enqueue(r.value);
        write?.arm();
      },
      cancel: (reason) => source.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /**
   * Wraps a response body: the read-idle timer runs while its consumer waits for bytes, and
   * every timer stops when the body ends, fails or is cancelled.
   *
   * @param body The response body.
   * @param final `false` for the body of a redirect that the client drains before the next
   *   hop: the read-idle timer watches it too, but the request's timers go on after it.
   */
  watchResponseBody(body: ReadableStream<Uint8Array>, final = true): ReadableStream<Uint8Array> {
    const source = body.getReader();
    const read = this.#read;
    const end = () => {
      if (final) this.dispose();
      else read?.disarm();
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        read?.arm();
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await source.read();
        } catch (error) {
          end();
          throw error;
        }
        read?.disarm();
        if (r.done) {
          end();
          controller.close();
        } else controller.enqueue(r.value);
      },
      cancel: (reason) => {
        end();
        return source.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}
