// Whether an idle connection or timer keeps the process alive. An idle keep-alive connection
// must not (a script that made one request exits at once, as with fetch); a busy one must.
import type { Conn } from "../conn/types.ts";

/** Refs or unrefs a connection, if its kind has a process-keeping resource at all. */
export function setRef(conn: Conn, ref: boolean): void {
  try {
    if (ref) conn.ref?.();
    else conn.unref?.();
  } catch {
    // closed already
  }
}

/** Whether a timer keeps the process alive (Deno, Node and Bun). */
export function setTimerRef(id: ReturnType<typeof setTimeout>, ref: boolean): void {
  const timer = id as unknown as { ref?: () => void; unref?: () => void };
  if (typeof timer.unref === "function") {
    if (ref) timer.ref?.();
    else timer.unref();
  } else if (typeof Deno !== "undefined") {
    const set = ref ? Deno.refTimer : Deno.unrefTimer;
    if (typeof set === "function") set(id as unknown as number);
  }
}

/** Lets a timer not keep the process alive (Deno, Node and Bun). */
export function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  setTimerRef(id, false);
}
