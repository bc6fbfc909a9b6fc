// Response header fields without a `Headers` object where one is not needed: building one
// costs more than the rest of a small response's head (undici's on Node above all).

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value `Headers` would keep as it is: bytes only, no CR/LF/NUL, no outer whitespace. */
const PLAIN_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;

/**
 * The fields of `init` as `[name, value]` pairs with lower-case names: a plain record's own
 * fields as they are when each name is a token and each value needs no normalising, and
 * otherwise (and for arrays and `Headers`) what a `Headers` made of it gives, which also
 * rejects invalid names and values.
 */
export function fieldPairs(init: HeadersInit | undefined): Iterable<[string, string]> {
  if (init === undefined) return [];
  if (init instanceof Headers || Array.isArray(init) || !isPlainRecord(init)) {
    return init instanceof Headers ? init : new Headers(init);
  }
  const pairs: [string, string][] = [];
  for (const name of Object.keys(init)) {
    const value = String(init[name]);
    if (!TOKEN.test(name) || !PLAIN_VALUE.test(value)) return new Headers(init);
    pairs.push([name.toLowerCase(), value]);
  }
  return pairs;
}

function isPlainRecord(init: HeadersInit): init is Record<string, string> {
  const proto = Object.getPrototypeOf(init);
  return proto === Object.prototype || proto === null;
}
