/** Runs asynchronous writes one after another in call order, even when callers do not wait. */
export class WriteChain {
  #tail: Promise<void> = Promise.resolve();
  /** Tasks started or waiting that have not settled. */
  #unsettled = 0;

  /**
   * Runs `task` once every earlier task has settled: at once when none is under way (the
   * usual case: no turn is lost before the write starts), else after the last one. The caller
   * gets the task's own promise, so no turn is lost after it either.
   */
  run(task: () => Promise<void>): Promise<void> {
    const next = this.#unsettled++ === 0 ? task() : this.#tail.then(task, task);
    this.#tail = next;
    next.then(this.#settled, this.#settled);
    return next;
  }

  /** Whether a task is under way or waiting. */
  get busy(): boolean {
    return this.#unsettled > 0;
  }

  #settled = (): void => {
    this.#unsettled--;
  };

  /** Resolves once every task so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(noop, noop);
  }
}

function noop(): void {}
