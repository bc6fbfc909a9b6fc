/** Runs asynchronous writes one after another in call order, even when callers do not wait. */
export class WriteChain {
  #tail: Promise<void> = Promise.resolve();
  /** Tasks started or waiting that have not settled. */
  #unsettled = 0;

  /**
   * Runs `task` once every earlier task has settled: at once when none is under way (the
   * usual case: no turn is lost before the write starts), else after the last one.
   */
  run(task: () => Promise<void>): Promise<void> {
    const start = () => task().then(this.#settled, this.#failed);
    const next = this.#unsettled++ === 0 ? start() : this.#tail.then(start, start);
    this.#tail = next;
    return next;
  }

  #settled = (): void => {
    this.#unsettled--;
  };

  #failed = (error: unknown): never => {
    this.#unsettled--;
    throw error;
  };

  /** Resolves once every task so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(noop, noop);
  }
}

function noop(): void {}
