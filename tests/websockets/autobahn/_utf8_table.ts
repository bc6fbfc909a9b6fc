/**
 * The UTF-8 sequences of cases 6.5 to 6.23 (from Markus Kuhn's UTF-8 decoder stress test,
 * as the Autobahn TestSuite picks them), each with whether it is valid UTF-8. Written as
 * hex; the rows Autobahn generates (prefixes, byte ranges, non-characters) are generated
 * here the same way.
 */

/** One subgroup: its title and its sequences. */
export interface Utf8Group {
  title: string;
  sequences: [valid: boolean, bytes: Uint8Array][];
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

const fatal = new TextDecoder("utf-8", { fatal: true });
function isValid(b: Uint8Array): boolean {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
}

const hello = (middle: string) => hex(`68656c6c6f ${middle} 776f726c64`); // "hello" .. "world"
const KOSME = hex("ceba e1bdb9 cf83 cebc ceb5");
const MISSING_LAST = [
  "c0",
  "e080",
  "f08080",
  "f8808080",
  "fc80808080",
  "df",
  "efbf",
  "f7bfbf",
  "fbbfbfbf",
  "fdbfbfbfbf",
];

function lonely(from: number, to: number): Uint8Array {
  const out: number[] = [];
  for (let b = from; b < to; b++) out.push(b, 0x20);
  return Uint8Array.from(out);
}

function nonCharacters(): Uint8Array[] {
  const out = [hex("efbfbe"), hex("efbfbf")];
  for (const z1 of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const z2 of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (z1 === 0xf4 && z2 !== 0x8f) continue; // above U+10FFFF
      if (z1 === 0xf0 && z2 === 0x8f) continue; // overlong
      for (const z3 of [0xbe, 0xbf]) out.push(Uint8Array.from([z1, z2, 0xbf, z3]));
    }
  }
  return out;
}

const valid = (...bs: Uint8Array[]) => bs.map((b): [boolean, Uint8Array] => [true, b]);
const invalid = (...bs: Uint8Array[]) => bs.map((b): [boolean, Uint8Array] => [false, b]);

/** Subgroups 6.5 to 6.23, in order. */
export const UTF8_GROUPS: Utf8Group[] = [
  {
    title: "Some valid UTF-8 sequences",
    sequences: valid(hello("24"), hello("c2a2"), hello("e282ac"), hello("f0a4ada2"), KOSME),
  },
  {
    title: "All prefixes of a valid UTF-8 string that contains multi-byte code points",
    sequences: Array.from({ length: KOSME.length }, (_, i) => {
      const prefix = KOSME.slice(0, i + 1);
      return [isValid(prefix), prefix];
    }),
  },
  {
    title: "First possible sequence of a certain length",
    sequences: valid(hex("00"), hex("c280"), hex("e0a080"), hex("f0908080")),
  },
  {
    title: "First possible sequence length 5/6 (invalid codepoints)",
    sequences: invalid(hex("f888808080"), hex("fc8480808080")),
  },
  {
    title: "Last possible sequence of a certain length",
    sequences: valid(hex("7f"), hex("dfbf"), hex("efbfbf"), hex("f48fbfbf")),
  },
  {
    title: "Last possible sequence length 4/5/6 (invalid codepoints)",
    sequences: invalid(hex("f7bfbfbf"), hex("fbbfbfbfbf"), hex("fdbfbfbfbfbf")),
  },
  {
    title: "Other boundary conditions",
    sequences: [
      ...valid(hex("ed9fbf"), hex("ee8080"), hex("efbfbd"), hex("f48fbfbf")),
      ...invalid(hex("f4908080")),
    ],
  },
  {
    title: "Unexpected continuation bytes",
    sequences: invalid(
      hex("80"),
      hex("bf"),
      hex("80bf"),
      hex("80bf80"),
      hex("80bf80bf"),
      hex("80bf80bf80"),
      hex("80bf80bf80bf"),
      Uint8Array.from({ length: 0xbf - 0x80 }, (_, i) => 0x80 + i),
    ),
  },
  {
    title: "Lonely start characters",
    sequences: invalid(
      lonely(0xc0, 0xdf),
      lonely(0xe0, 0xef),
      lonely(0xf0, 0xf7),
      lonely(0xf8, 0xfb),
      lonely(0xfc, 0xfd),
    ),
  },
  {
    title: "Sequences with last continuation byte missing",
    sequences: invalid(...MISSING_LAST.map(hex)),
  },
  {
    title: "Concatenation of incomplete sequences",
    sequences: invalid(hex(MISSING_LAST.join(""))),
  },
  {
    title: "Impossible bytes",
    sequences: invalid(hex("fe"), hex("ff"), hex("fefeffff")),
  },
  {
    title: "Examples of an overlong ASCII character",
    sequences: invalid(
      hex("c0af"),
      hex("e080af"),
      hex("f08080af"),
      hex("f8808080af"),
      hex("fc80808080af"),
    ),
  },
  {
    title: "Maximum overlong sequences",
    sequences: invalid(
      hex("c1bf"),
      hex("e09fbf"),
      hex("f08fbfbf"),
      hex("f887bfbfbf"),
      hex("fc83bfbfbfbf"),
    ),
  },
  {
    title: "Overlong representation of the NUL character",
    sequences: invalid(
      hex("c080"),
      hex("e08080"),
      hex("f0808080"),
      hex("f880808080"),
      hex("fc8080808080"),
    ),
  },
  {
    title: "Single UTF-16 surrogates",
    sequences: invalid(
      ...["eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"].map(hex),
    ),
  },
  {
    title: "Paired UTF-16 surrogates",
    sequences: invalid(
      ...[
        "eda080edb080",
        "eda080edbfbf",
        "edadbfedb080",
        "edadbfedbfbf",
        "edae80edb080",
        "edae80edbfbf",
        "edafbfedb080",
        "edafbfedbfbf",
      ].map(hex),
    ),
  },
  {
    title: "Non-character code points (valid UTF-8)",
    sequences: valid(...nonCharacters()),
  },
  {
    title: "Unicode specials (i.e. replacement char)",
    sequences: valid(
      ...["efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf"].map(hex),
    ),
  },
];
