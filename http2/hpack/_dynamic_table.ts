/**
 * The HPACK dynamic table (RFC 7541 Section 2.3.2 and Section 4): a FIFO of
 * (name, value) entries, newest first, bounded by a size in octets.
 *
 * @module
 */

/** The per-entry overhead RFC 7541 Section 4.1 adds to an entry's octet length. */
export const ENTRY_OVERHEAD = 32;

/**
 * Called for each entry the table evicts, oldest first.
 *
 * @param name The evicted entry's name.
 * @param value The evicted entry's value.
 * @param seq The entry's insertion number (see {@linkcode DynamicTable.inserted}).
 */
export type EvictionListener = (name: string, value: string, seq: number) => void;

/**
 * A ring buffer of entries. Names and values are ByteStrings (one char per octet), so
 * an entry's size is `name.length + value.length + 32`.
 */
export class DynamicTable {
  #names: string[] = new Array<string>(16).fill("");
  #values: string[] = new Array<string>(16).fill("");
  #mask = 15;
  /** Slot of the newest entry. */
  #newest = -1;
  #length = 0;
  #size = 0;
  #maxSize: number;
  #inserted = 0;
  #onEvict: EvictionListener | undefined;

  /**
   * Makes an empty table.
   *
   * @param maxSize The largest size, in octets, the table may reach.
   * @param onEvict Told about each entry the table evicts.
   */
  constructor(maxSize: number, onEvict?: EvictionListener) {
    this.#maxSize = maxSize;
    this.#onEvict = onEvict;
  }

  /** The number of entries. */
  get length(): number {
    return this.#length;
  }

  /** The sum of the entries' sizes, in octets. */
  get size(): number {
    return this.#size;
  }

  /** The most the size may reach, in octets. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /**
   * How many entries were ever added. The entry added when this was `s` has insertion
   * number `s`, and relative index `inserted - 1 - s` while it is in the table.
   */
  get inserted(): number {
    return this.#inserted;
  }

  /**
   * The name of an entry.
   *
   * @param i Relative index: 0 is the newest entry; must be below `length`.
   * @returns The entry's name.
   */
  name(i: number): string {
    return this.#names[(this.#newest - i) & this.#mask];
  }

  /**
   * The value of an entry.
   *
   * @param i Relative index: 0 is the newest entry; must be below `length`.
   * @returns The entry's value.
   */
  value(i: number): string {
    return this.#values[(this.#newest - i) & this.#mask];
  }

  /**
   * Adds an entry as the newest, first evicting old entries until it fits. An entry
   * larger than `maxSize` empties the table and is not added (RFC 7541 Section 4.4).
   *
   * @param name The entry's name.
   * @param value The entry's value.
   * @returns Whether the entry was added.
   */
  add(name: string, value: string): boolean {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#maxSize) {
      this.#evictDownTo(0);
      return false;
    }
    this.#evictDownTo(this.#maxSize - size);
    if (this.#length > this.#mask) this.#grow();
    const slot = (this.#newest + 1) & this.#mask;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#newest = slot;
    this.#length++;
    this.#size += size;
    this.#inserted++;
    return true;
  }

  /**
   * Changes the maximum size, evicting entries until the table fits.
   *
   * @param maxSize The new maximum, in octets.
   */
  setMaxSize(maxSize: number): void {
    this.#maxSize = maxSize;
    this.#evictDownTo(maxSize);
  }

  #evictDownTo(target: number): void {
    while (this.#size > target) {
      const slot = (this.#newest - this.#length + 1) & this.#mask;
      const name = this.#names[slot];
      const value = this.#values[slot];
      this.#names[slot] = "";
      this.#values[slot] = "";
      this.#length--;
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      this.#onEvict?.(name, value, this.#inserted - this.#length - 1);
    }
  }

  #grow(): void {
    const capacity = (this.#mask + 1) * 2;
    const names = new Array<string>(capacity).fill("");
    const values = new Array<string>(capacity).fill("");
    for (let i = 0; i < this.#length; i++) {
      const from = (this.#newest - this.#length + 1 + i) & this.#mask;
      names[i] = this.#names[from];
      values[i] = this.#values[from];
    }
    this.#names = names;
    this.#values = values;
    this.#mask = capacity - 1;
    this.#newest = this.#length - 1;
  }
}
