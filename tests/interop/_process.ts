/** Runs real peers (curl, nghttp, ...) as child processes, on any runtime. */
import { execFile } from "node:child_process";

/** What a finished child process printed. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `args` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(command: string, args: string[], input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (
      error,
      stdout,
      stderr,
    ) => {
      if (error && typeof (error as { code?: unknown }).code !== "number") return reject(error);
      resolve({ code: (error as { code?: number } | null)?.code ?? 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Whether `command` can be run here. */
export async function have(command: string): Promise<boolean> {
  try {
    await run(command, ["--version"]);
    return true;
  } catch {
    return false;
  }
}
