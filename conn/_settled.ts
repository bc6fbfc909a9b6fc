// One settled promise for the protocols' calls that have nothing to wait for, and one handler
// for the rejections nobody needs to see.

/**
 * A promise that is already resolved, shared by every call that has nothing to wait for (a
 * write that framed at once, a send under the high-water mark, a response already out): no
 * allocation per call, and a caller can tell it from a promise that still waits.
 */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A rejection handler for a promise whose failure is seen elsewhere (or does not matter). */
export function ignore(): void {}
