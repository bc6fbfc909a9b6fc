/** Runs asynchronous writes one after another in call order, even when callers do not wait. */
export class WriteChain {
  #tail: Promise<void> | null = null;

  /** Runs `task` once every earlier task has settled. */
  run(task: () => Promise<void>): Promise<void> {
    const next = this.#tail ? this.#tail.then(task, task) : task();
    this.#tail = next;
    return next;
  }

  /** Resolves once every task so far has settled. */
  idle(): Promise<void> {
    return this.#tail ? this.#tail.then(noop, noop) : Promise.resolve();
  }
}

function noop(): void {}
