/**
 * WebSocket frame codec microbenchmarks: encoding, masking, parsing, UTF-8 validation.
 *
 *   deno bench -A bench/ws_frame_bench.ts
 */
import { mask } from "../websockets/_mask.ts";
import { frame, frameHeader, textFrame } from "../websockets/_sender.ts";
import { Receiver } from "../websockets/_receiver.ts";
import { isValidUtf8 } from "../websockets/_utf8.ts";

const MiB = 1 << 20;
const small = JSON.stringify({ type: "tick", id: 12345, price: 101.25, qty: 7 }); // 60 bytes
const smallBytes = new TextEncoder().encode(small);
const big = new Uint8Array(MiB).map((_, i) => i & 0x7f);
const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

function receiver(role: "client" | "server"): { r: Receiver; count: () => number } {
  let n = 0;
  const r = new Receiver({ role, maxFrameSize: 64 * MiB, maxFragmentation: 1024 }, {
    onMessage: () => n++,
    onPing: () => {},
    onPong: () => {},
    onClose: () => {},
    onError: (e) => {
      throw e;
    },
  });
  return { r, count: () => n };
}

// 1000 small text frames in one chunk, as a server would send them.
const smallFrames = (() => {
  const one = frame(0x1, smallBytes);
  const out = new Uint8Array(one.length * 1000);
  for (let i = 0; i < 1000; i++) out.set(one, i * one.length);
  return out;
})();
const smallMasked = (() => {
  const parts = Array.from({ length: 1000 }, () => frame(0x1, smallBytes, { mask: true }));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
})();
const bigFrame = frame(0x2, big);
const bigMaskedFrame = frame(0x2, big, { mask: true });

Deno.bench("encode: small text frame, unmasked (server)", { group: "encode small" }, () => {
  textFrame(small, false);
});
Deno.bench("encode: small text frame, masked (client)", { group: "encode small" }, () => {
  textFrame(small, true);
});
Deno.bench("encode: TextEncoder + frame, masked", { group: "encode small" }, () => {
  frame(0x1, new TextEncoder().encode(small), { mask: true });
});

Deno.bench(
  "encode: 1 MiB binary, header only (server, zero-copy)",
  { group: "encode 1 MiB" },
  () => {
    frameHeader(0x2, big.length);
  },
);
Deno.bench("encode: 1 MiB binary, header + copy (server)", { group: "encode 1 MiB" }, () => {
  frame(0x2, big);
});
Deno.bench("encode: 1 MiB binary, masked (client)", { group: "encode 1 MiB" }, () => {
  frame(0x2, big, { mask: true });
});

const scratch = new Uint8Array(MiB + 3);
Deno.bench("mask: 1 MiB, aligned", { group: "mask" }, () => {
  mask(scratch.subarray(0, MiB), key);
});
Deno.bench("mask: 1 MiB, unaligned", { group: "mask" }, () => {
  mask(scratch.subarray(3, MiB + 3), key);
});
Deno.bench("mask: 1 MiB, byte loop (reference)", { group: "mask" }, () => {
  const d = scratch.subarray(0, MiB);
  for (let i = 0; i < d.length; i++) d[i] ^= key[i & 3];
});

Deno.bench("decode: 1000 small text frames (client)", { group: "decode small" }, () => {
  const { r, count } = receiver("client");
  r.push(smallFrames);
  if (count() !== 1000) throw new Error("lost messages");
});
Deno.bench("decode: 1000 small masked text frames (server)", { group: "decode small" }, () => {
  const { r, count } = receiver("server");
  r.push(smallMasked.slice()); // unmasked in place: a fresh copy each run
  if (count() !== 1000) throw new Error("lost messages");
});

Deno.bench("decode: 1 MiB binary frame (client)", { group: "decode 1 MiB" }, () => {
  const { r } = receiver("client");
  r.push(bigFrame);
});
Deno.bench(
  "decode: 1 MiB binary frame in 64 KiB chunks (client)",
  { group: "decode 1 MiB" },
  () => {
    const { r } = receiver("client");
    for (let off = 0; off < bigFrame.length; off += 65536) {
      r.push(
        bigFrame.subarray(off, off + 65536),
      );
    }
  },
);
const bigMaskedCopy = bigMaskedFrame.slice();
Deno.bench("decode: 1 MiB masked binary frame (server)", { group: "decode 1 MiB" }, () => {
  const { r } = receiver("server");
  bigMaskedCopy.set(bigMaskedFrame);
  r.push(bigMaskedCopy);
});

const fatal = new TextDecoder("utf-8", { fatal: true });
const mixed = new TextEncoder().encode("héllo wörld €𝄞 ".repeat(MiB / 20));
Deno.bench("utf-8: validate 1 MiB ASCII (_utf8.ts)", { group: "utf8 ascii" }, () => {
  isValidUtf8(big);
});
Deno.bench("utf-8: TextDecoder fatal 1 MiB ASCII", { group: "utf8 ascii" }, () => {
  fatal.decode(big);
});
Deno.bench("utf-8: validate 1 MiB mixed (_utf8.ts)", { group: "utf8 mixed" }, () => {
  isValidUtf8(mixed);
});
Deno.bench("utf-8: TextDecoder fatal 1 MiB mixed", { group: "utf8 mixed" }, () => {
  fatal.decode(mixed);
});
