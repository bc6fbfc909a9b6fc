/**
 * Frame masking (RFC 6455 section 5.3): XOR with a 4-byte key, a word at a time where the
 * buffer is 4-byte aligned (in place, or copying and masking in one pass), and masking keys
 * drawn from a batched CSPRNG pool.
 *
 * @module
 */

/** A 4-byte scratch buffer to turn a rotated key into a native-endian 32-bit word. */
const KEY_BYTES = new Uint8Array(4);
const KEY_WORD = new Uint32Array(KEY_BYTES.buffer);

/** Below this many bytes, a byte loop beats setting up a word view. */
const WORD_THRESHOLD = 128;

/**
 * XORs `data` in place with the masking key `key[keyOffset..keyOffset+4]`, starting at
 * key position 0 for `data[0]`. Masking and unmasking are the same operation.
 *
 * @param data The bytes to (un)mask, changed in place.
 * @param key Holds the 4-byte masking key.
 * @param keyOffset Where the key starts in `key`.
 */
export function mask(data: Uint8Array, key: Uint8Array, keyOffset: number = 0): void {
  const n = data.length;
  const k0 = key[keyOffset];
  const k1 = key[keyOffset + 1];
  const k2 = key[keyOffset + 2];
  const k3 = key[keyOffset + 3];
  if (n < WORD_THRESHOLD) {
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      data[i] ^= k0;
      data[i + 1] ^= k1;
      data[i + 2] ^= k2;
      data[i + 3] ^= k3;
    }
    if (i < n) data[i] ^= k0;
    if (i + 1 < n) data[i + 1] ^= k1;
    if (i + 2 < n) data[i + 2] ^= k2;
    return;
  }
  // Leading bytes up to a 4-byte boundary of the buffer.
  const lead = (4 - (data.byteOffset & 3)) & 3;
  if (lead > 0) data[0] ^= k0;
  if (lead > 1) data[1] ^= k1;
  if (lead > 2) data[2] ^= k2;
  // The key rotated so that its first byte lines up with data[lead].
  const k = rotatedKey(k0, k1, k2, k3, lead);
  const words = (n - lead) >>> 2;
  const u32 = wordsOf(data.buffer);
  let w = (data.byteOffset + lead) >>> 2;
  const end = w + words;
  const last8 = end - 7;
  for (; w < last8; w += 8) {
    u32[w] ^= k;
    u32[w + 1] ^= k;
    u32[w + 2] ^= k;
    u32[w + 3] ^= k;
    u32[w + 4] ^= k;
    u32[w + 5] ^= k;
    u32[w + 6] ^= k;
    u32[w + 7] ^= k;
  }
  for (; w < end; w++) u32[w] ^= k;
  // Trailing bytes: data[i] takes key byte i & 3.
  for (let i = lead + words * 4; i < n; i++) {
    const r = i & 3;
    data[i] ^= r === 0 ? k0 : r === 1 ? k1 : r === 2 ? k2 : k3;
  }
}

/** The key as a native-endian word whose first byte is key byte `shift`. */
function rotatedKey(k0: number, k1: number, k2: number, k3: number, shift: number): number {
  const ks = KEY_BYTES;
  ks[(4 - shift) & 3] = k0;
  ks[(5 - shift) & 3] = k1;
  ks[(6 - shift) & 3] = k2;
  ks[(7 - shift) & 3] = k3;
  return KEY_WORD[0];
}

/**
 * A word view of a whole ArrayBuffer, kept for the last buffer seen: the messages of one
 * read share the connection's read buffer, so they share a view instead of allocating one
 * each.
 */
let lastBuffer: ArrayBufferLike | null = null;
let lastWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  if (buffer !== lastBuffer || lastWords.length !== buffer.byteLength >>> 2) {
    lastBuffer = buffer;
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return lastWords;
}

/**
 * Writes `src` XORed with the masking key `key[keyOffset..keyOffset+4]` into `dst` (which
 * must hold `src.length` bytes): a copy and a mask in one pass, leaving `src` unchanged.
 * Word at a time when both buffers sit at the same offset modulo 4.
 *
 * @param src The bytes to mask (not changed).
 * @param dst Where the masked bytes go; may not overlap `src` unless it is `src` itself.
 * @param key Holds the 4-byte masking key.
 * @param keyOffset Where the key starts in `key`.
 */
export function maskInto(
  src: Uint8Array,
  dst: Uint8Array,
  key: Uint8Array,
  keyOffset: number = 0,
): void {
  const n = src.length;
  if (n < WORD_THRESHOLD || ((src.byteOffset ^ dst.byteOffset) & 3) !== 0) {
    dst.set(src.subarray(0, n));
    mask(dst.subarray(0, n), key, keyOffset);
    return;
  }
  const ks = [key[keyOffset], key[keyOffset + 1], key[keyOffset + 2], key[keyOffset + 3]];
  const lead = (4 - (src.byteOffset & 3)) & 3;
  for (let i = 0; i < lead; i++) dst[i] = src[i] ^ ks[i];
  KEY_BYTES[0] = ks[lead & 3];
  KEY_BYTES[1] = ks[(lead + 1) & 3];
  KEY_BYTES[2] = ks[(lead + 2) & 3];
  KEY_BYTES[3] = ks[(lead + 3) & 3];
  const k = KEY_WORD[0];
  const words = (n - lead) >>> 2;
  const s32 = new Uint32Array(src.buffer, src.byteOffset + lead, words);
  const d32 = new Uint32Array(dst.buffer, dst.byteOffset + lead, words);
  let w = 0;
  const last8 = words - 7;
  for (; w < last8; w += 8) {
    d32[w] = s32[w] ^ k;
    d32[w + 1] = s32[w + 1] ^ k;
    d32[w + 2] = s32[w + 2] ^ k;
    d32[w + 3] = s32[w + 3] ^ k;
    d32[w + 4] = s32[w + 4] ^ k;
    d32[w + 5] = s32[w + 5] ^ k;
    d32[w + 6] = s32[w + 6] ^ k;
    d32[w + 7] = s32[w + 7] ^ k;
  }
  for (; w < words; w++) d32[w] = s32[w] ^ k;
  for (let i = lead + words * 4; i < n; i++) dst[i] = src[i] ^ ks[i & 3];
}

/** Random bytes for masking keys, refilled 4 KiB at a time (1024 keys). */
const POOL = new Uint8Array(4096);
let poolPos = POOL.length;

/**
 * Writes a fresh masking key from the CSPRNG (`crypto.getRandomValues`, batched) into
 * `out[offset..offset+4]`.
 *
 * @param out Where to write the key.
 * @param offset The position of the key's first byte.
 */
export function randomMaskKey(out: Uint8Array, offset: number): void {
  if (poolPos === POOL.length) {
    crypto.getRandomValues(POOL);
    poolPos = 0;
  }
  out[offset] = POOL[poolPos];
  out[offset + 1] = POOL[poolPos + 1];
  out[offset + 2] = POOL[poolPos + 2];
  out[offset + 3] = POOL[poolPos + 3];
  poolPos += 4;
}
