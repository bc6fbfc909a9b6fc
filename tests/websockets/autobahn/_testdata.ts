/**
 * Payloads for the compression cases (12.x, 13.x). Autobahn ships five files (a JSON file,
 * a bitmap, Goethe's Faust, an HTML file, a PDF); this suite makes five stand-ins of the
 * same kinds, generated from a seeded generator, so nothing is downloaded or copied:
 * repetitive JSON, a smooth noisy grey-scale bitmap, German-looking prose with umlauts,
 * an HTML table, and a PDF-like mix of text objects and incompressible streams.
 */

const SIZE = 192 * 1024;
const encoder = new TextEncoder();

/** A small deterministic generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function pick<T>(r: () => number, list: T[]): T {
  return list[Math.floor(r() * list.length)];
}

function textOf(make: (r: () => number) => string, seed: number): Uint8Array {
  const r = random(seed);
  let s = "";
  while (s.length < SIZE) s += make(r);
  return encoder.encode(s.slice(0, SIZE));
}

const WORDS = [
  "alpha",
  "beta",
  "gamma",
  "delta",
  "omega",
  "sigma",
  "kappa",
  "zeta",
  "theta",
  "lambda",
];
const SYLLABLES = [
  "ge",
  "schen",
  "un",
  "ver",
  "lich",
  "keit",
  "ü",
  "ber",
  "mö",
  "gen",
  "nä",
  "her",
  "zu",
  "ßen",
  "ein",
  "der",
  "ich",
  "und",
  "Fau",
  "st",
];

function json(r: () => number): string {
  return JSON.stringify({
    id: Math.floor(r() * 1e6),
    name: `${pick(r, WORDS)}-${pick(r, WORDS)}`,
    tags: [pick(r, WORDS), pick(r, WORDS), pick(r, WORDS)],
    score: Math.round(r() * 10000) / 100,
    active: r() < 0.5,
    location: { lat: Math.round(r() * 18000) / 100 - 90, lon: Math.round(r() * 36000) / 100 - 180 },
  }) + ",\n";
}

function prose(r: () => number): string {
  const words = Array.from({ length: 4 + Math.floor(r() * 8) }, () => {
    let w = "";
    for (let i = 1 + Math.floor(r() * 3); i > 0; i--) w += pick(r, SYLLABLES);
    return w;
  });
  const line = words.join(" ");
  return line[0].toUpperCase() + line.slice(1) + (r() < 0.3 ? "!\n" : ",\n");
}

function html(r: () => number): string {
  return `<tr class="${pick(r, WORDS)}"><td>${Math.floor(r() * 1e5)}</td><td><a href="/${
    pick(r, WORDS)
  }/${Math.floor(r() * 1e3)}">${pick(r, WORDS)} ${pick(r, WORDS)}</a></td><td>${
    (r() * 100).toFixed(2)
  }</td></tr>\n`;
}

function bitmap(seed: number): Uint8Array {
  const r = random(seed);
  const out = new Uint8Array(SIZE);
  out.set(encoder.encode("BM6\u0000\u0004\u0000\u0000\u0000\u0000\u0000"), 0);
  for (let i = 54; i < SIZE; i++) {
    const x = i % 512, y = Math.floor(i / 512);
    out[i] = (128 + 60 * Math.sin(x / 40) * Math.cos(y / 30) + r() * 24) & 0xff;
  }
  return out;
}

function pdfLike(seed: number): Uint8Array {
  const r = random(seed);
  const parts: Uint8Array[] = [];
  let size = 0, n = 1;
  while (size < SIZE) {
    const text = encoder.encode(
      `${n} 0 obj\n<< /Type /${pick(r, WORDS)} /Length ${n * 7} >>\nstream\n`,
    );
    const noise = new Uint8Array(256 + Math.floor(r() * 2048)).map(() => Math.floor(r() * 256));
    parts.push(text, noise, encoder.encode("\nendstream\nendobj\n"));
    size += text.length + noise.length + 18;
    n++;
  }
  const out = new Uint8Array(SIZE);
  let at = 0;
  for (const p of parts) {
    if (at >= SIZE) break;
    out.set(p.subarray(0, SIZE - at), at);
    at += p.length;
  }
  return out;
}

/** One payload source. */
export interface TestData {
  name: string;
  description: string;
  binary: boolean;
  bytes: Uint8Array;
}

let cache: TestData[] | null = null;

/** The five sources, in Autobahn's order (12.1 to 12.5); 13.x uses the first. */
export function testData(): TestData[] {
  return cache ??= [
    {
      name: "json",
      description: "Repetitive JSON records (utf8)",
      binary: false,
      bytes: textOf(json, 1),
    },
    {
      name: "bitmap",
      description: "Grey-scale bitmap with noise (binary)",
      binary: true,
      bytes: bitmap(2),
    },
    {
      name: "prose",
      description: "German-looking prose (binary)",
      binary: true,
      bytes: textOf(prose, 3),
    },
    { name: "html", description: "HTML table (utf8)", binary: false, bytes: textOf(html, 4) },
    {
      name: "pdf",
      description: "PDF-like mix of text and noise (binary)",
      binary: true,
      bytes: pdfLike(5),
    },
  ];
}
