/**
 * Helpers of the HTTP/2 fuzz tests (`fuzz_test.ts`, `client_fuzz_test.ts`): each case's
 * random source, and frames and bytes written out for failure messages.
 *
 * @module
 */
import { Random } from "../_random.ts";
import { frame, readU32, T } from "./_frames.ts";

/** The random source of case `index` of a test seeded with `seed`. */
export function caseRandom(seed: number, index: number): Random {
  return new Random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

/** `bytes` in hex, cut after `max` characters. */
export function hex(bytes: Uint8Array | number[], max = 4096): string {
  let s = "";
  for (let i = 0; i < bytes.length && s.length < max; i++) {
    s += bytes[i].toString(16).padStart(2, "0");
  }
  return bytes.length * 2 > max ? `${s}... (${bytes.length} bytes)` : s;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(T).map(([k, v]) => [v, k]),
);

/** A frame type's name (`HEADERS`), or its number in hex when unknown. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

/** One frame as sent, for messages: `HEADERS flags=0x05 stream=3 len=12 <hex>`. */
export function describeFrame(f: Uint8Array, max = 512): string {
  if (f.byteLength < 9) return `(bytes ${hex(f)})`;
  const len = (f[0] << 16) | (f[1] << 8) | f[2];
  const lie = len !== f.byteLength - 9 ? ` (payload ${f.byteLength - 9})` : "";
  return `${typeName(f[3])} flags=0x${f[4].toString(16)} stream=${readU32(f, 5)} len=${len}${lie} ${
    hex(f.subarray(9), max)
  }`;
}

/** `p`, or a rejection naming `what` once `ms` have passed. */
export async function within<R>(p: Promise<R>, ms: number, what: () => string): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what()}: nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `f`, or a copy with, each at `rate`, its flags, stream id (`pickId`), payload (mutated) or
 * length field (one of `lengths(payload length)`) broken: `f` itself when nothing broke.
 */
export function breakSome(
  r: Random,
  f: Uint8Array,
  rate: number,
  pickId: () => number,
  lengths: (payloadLength: number) => number[],
): Uint8Array {
  const broken = () => r.next() < rate;
  let flags = f[4];
  let id = readU32(f, 5);
  let payload = f.subarray(9);
  let length: number | undefined;
  let changed = false;
  if (broken()) {
    flags = r.int(256);
    changed = true;
  }
  if (broken()) {
    id = pickId();
    changed = true;
  }
  if (broken()) {
    payload = r.mutate(payload);
    changed = true;
  }
  if (broken()) {
    length = r.pick(lengths(payload.byteLength));
    changed = true;
  }
  return changed ? frame(f[3], flags, id, payload, length) : f;
}
