/**
 * The `completed` promise of an exchange's `ServeInfo`: settled once, when the exchange is
 * over; the promise itself is made only if a handler asks for it.
 */
export class Completion {
  /** `undefined` while the exchange runs; then `null` (sent) or the reason it was not. */
  #outcome: { error: unknown } | null | undefined = undefined;
  #promise: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  /** Settles once the response is sent in full, or rejects with why it was not. */
  get promise(): Promise<void> {
    if (this.#promise === null) {
      const outcome = this.#outcome;
      this.#promise = outcome === null
        ? Promise.resolve()
        : outcome !== undefined
        ? Promise.reject(outcome.error)
        : new Promise<void>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      // A handler that never looks at the outcome does not get an unhandled rejection.
      this.#promise.catch(() => {});
    }
    return this.#promise;
  }

  /** The response was sent in full. */
  resolve(): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = null;
    this.#resolve?.();
  }

  /** The response was not sent (in full); `error` says why. */
  reject(error: unknown): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = { error };
    this.#reject?.(error);
  }
}
