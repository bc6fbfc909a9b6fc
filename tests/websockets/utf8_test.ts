/** The incremental UTF-8 validator against the native decoder and the RFC 3629 edge cases. */
import { assert, assertEquals } from "@std/assert";
import { isValidUtf8, Utf8Validator } from "../../websockets/_utf8.ts";
import { hex } from "./_helpers.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });
function native(b: Uint8Array): boolean {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
}

Deno.test("valid UTF-8 of every length class is accepted", () => {
  for (
    const s of [
      "",
      "A",
      "é",
      "€",
      "𝄞",
      "κόσμε",
      "\u{10ffff}",
      "\ud7ff\ue000",
      "a".repeat(1000) + "€",
    ]
  ) {
    assert(isValidUtf8(new TextEncoder().encode(s)), s);
  }
});

Deno.test("overlongs, surrogates, code points above U+10FFFF and stray bytes are rejected", () => {
  for (
    const bad of [
      "80",
      "bf",
      "c0 80",
      "c1 bf",
      "e0 80 80",
      "e0 9f bf",
      "f0 80 80 80",
      "f0 8f bf bf",
      "ed a0 80",
      "ed bf bf",
      "f4 90 80 80",
      "f5 80 80 80",
      "ff",
      "fe",
      "c2",
      "e2 82",
      "c2 41",
      "e2 28 a1",
      "f0 90 80",
    ]
  ) {
    assert(!isValidUtf8(hex(bad)), bad);
  }
});

Deno.test("the validator fails as soon as a prefix can no longer be valid", () => {
  // [bytes, index of the byte at which it must have failed]
  const cases: [string, number][] = [
    ["41 f4 90", 2], // above U+10FFFF from the second byte
    ["ed a0", 1], // surrogate from the second byte
    ["e0 80", 1], // overlong from the second byte
    ["f0 8f", 1],
    ["c0", 0],
    ["f5", 0],
    ["41 42 80", 2],
  ];
  for (const [bytes, at] of cases) {
    const b = hex(bytes);
    const v = new Utf8Validator();
    for (let i = 0; i < b.length; i++) {
      const ok = v.write(b.subarray(i, i + 1));
      assertEquals(ok, i < at, `${bytes} at byte ${i}`);
    }
    assert(v.failed);
  }
});

Deno.test("a sequence split across chunks at every position is validated as a whole", () => {
  const b = new TextEncoder().encode("aé€𝄞z".repeat(3));
  for (let i = 0; i <= b.length; i++) {
    for (let j = i; j <= b.length; j++) {
      const v = new Utf8Validator();
      assert(v.write(b.subarray(0, i)) && v.write(b.subarray(i, j)) && v.write(b.subarray(j)));
      assert(v.complete);
    }
  }
  const v = new Utf8Validator();
  v.write(b.subarray(0, 2)); // "a" and the first byte of "é"
  assert(!v.complete && !v.failed);
});

Deno.test("the validator agrees with the native decoder on random bytes", () => {
  const buf = new Uint8Array(64);
  for (let n = 0; n < 20000; n++) {
    crypto.getRandomValues(buf);
    // Bias towards ASCII and plausible sequences.
    const len = 1 + (n % 64);
    const b = buf.subarray(0, len);
    if (n % 3 === 0) { for (let i = 0; i < len; i += 2) b[i] &= 0x7f; }
    assertEquals(isValidUtf8(b), native(b), Array.from(b).join(","));
  }
});

Deno.test("the ASCII fast path finds a bad byte at any alignment", () => {
  for (let offset = 0; offset < 4; offset++) {
    for (let pos = 0; pos < 100; pos++) {
      const backing = new Uint8Array(offset + 100).fill(0x41);
      const b = backing.subarray(offset);
      b[pos] = 0xff;
      assert(!isValidUtf8(b), `offset ${offset} pos ${pos}`);
      b[pos] = 0x41;
      assert(isValidUtf8(b));
    }
  }
});
