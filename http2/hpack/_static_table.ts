/**
 * The HPACK static table (RFC 7541 Appendix A) and the lookups the encoder uses.
 *
 * Indices are 1-based as on the wire: index 1 is `:authority`, index 61 is
 * `www-authenticate`; dynamic table entries start at 62.
 *
 * @module
 */

/** The static table, in order; entry `i` has wire index `i + 1`. */
const ENTRIES: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], // 1
  [":method", "GET"], // 2
  [":method", "POST"], // 3
  [":path", "/"], // 4
  [":path", "/index.html"], // 5
  [":scheme", "http"], // 6
  [":scheme", "https"], // 7
  [":status", "200"], // 8
  [":status", "204"], // 9
  [":status", "206"], // 10
  [":status", "304"], // 11
  [":status", "400"], // 12
  [":status", "404"], // 13
  [":status", "500"], // 14
  ["accept-charset", ""], // 15
  ["accept-encoding", "gzip, deflate"], // 16
  ["accept-language", ""], // 17
  ["accept-ranges", ""], // 18
  ["accept", ""], // 19
  ["access-control-allow-origin", ""], // 20
  ["age", ""], // 21
  ["allow", ""], // 22
  ["authorization", ""], // 23
  ["cache-control", ""], // 24
  ["content-disposition", ""], // 25
  ["content-encoding", ""], // 26
  ["content-language", ""], // 27
  ["content-length", ""], // 28
  ["content-location", ""], // 29
  ["content-range", ""], // 30
  ["content-type", ""], // 31
  ["cookie", ""], // 32
  ["date", ""], // 33
  ["etag", ""], // 34
  ["expect", ""], // 35
  ["expires", ""], // 36
  ["from", ""], // 37
  ["host", ""], // 38
  ["if-match", ""], // 39
  ["if-modified-since", ""], // 40
  ["if-none-match", ""], // 41
  ["if-range", ""], // 42
  ["if-unmodified-since", ""], // 43
  ["last-modified", ""], // 44
  ["link", ""], // 45
  ["location", ""], // 46
  ["max-forwards", ""], // 47
  ["proxy-authenticate", ""], // 48
  ["proxy-authorization", ""], // 49
  ["range", ""], // 50
  ["referer", ""], // 51
  ["refresh", ""], // 52
  ["retry-after", ""], // 53
  ["server", ""], // 54
  ["set-cookie", ""], // 55
  ["strict-transport-security", ""], // 56
  ["transfer-encoding", ""], // 57
  ["user-agent", ""], // 58
  ["vary", ""], // 59
  ["via", ""], // 60
  ["www-authenticate", ""], // 61
];

/** The number of static entries (61). */
export const STATIC_TABLE_LENGTH = 61;

/** Names by wire index; slot 0 is unused. */
export const STATIC_NAMES: readonly string[] = ["", ...ENTRIES.map((e) => e[0])];

/** Values by wire index; slot 0 is unused. */
export const STATIC_VALUES: readonly string[] = ["", ...ENTRIES.map((e) => e[1])];

/** What the static table knows about one name. */
export interface StaticNameEntry {
  /** The lowest wire index with this name. */
  readonly index: number;
  /** Wire index of each (name, value) pair with this name, by value. */
  readonly values: ReadonlyMap<string, number>;
}

function buildLookup(): Map<string, StaticNameEntry> {
  const map = new Map<string, { index: number; values: Map<string, number> }>();
  for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
    const name = STATIC_NAMES[i];
    let entry = map.get(name);
    if (entry === undefined) {
      entry = { index: i, values: new Map() };
      map.set(name, entry);
    }
    if (!entry.values.has(STATIC_VALUES[i])) entry.values.set(STATIC_VALUES[i], i);
  }
  return map;
}

/** Name -> its static entries: one `get` answers both name and name+value lookups. */
export const STATIC_LOOKUP: ReadonlyMap<string, StaticNameEntry> = buildLookup();

/**
 * The wire index of `name` in the static table, or 0 if it is not there.
 *
 * @param name A lowercase field name.
 * @returns The lowest static index with that name, or 0.
 */
export function staticNameIndex(name: string): number {
  return STATIC_LOOKUP.get(name)?.index ?? 0;
}

/**
 * The wire index of the exact pair (`name`, `value`) in the static table, or 0.
 *
 * @param name A lowercase field name.
 * @param value The field value.
 * @returns The static index of that pair, or 0.
 */
export function staticFieldIndex(name: string, value: string): number {
  return STATIC_LOOKUP.get(name)?.values.get(value) ?? 0;
}
