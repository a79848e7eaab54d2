/**
 * The ids an entity table may hold, as a scalable Bloom filter: `mayHold(id)` is false only for an
 * id the table certainly lacks, so the store skips the SQLite lookup that would find nothing (a new
 * entity's first `load` or `save`, most of a fresh index's lookups). A false "may" only costs that
 * lookup. The filter grows by adding a filter twice the size of the last whenever that one is full.
 */

const BITS_PER_ID = 10;
const PROBES = 7; // about 1% false "may" per filter at 10 bits an id

class Filter {
  private readonly bits: Uint32Array;
  private readonly size: number;
  count = 0;

  constructor(readonly capacity: number) {
    this.size = capacity * BITS_PER_ID;
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const at = bit % this.size;
      this.bits[at >>> 5]! |= 1 << (at & 31);
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < PROBES; i++) {
      const at = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      if ((this.bits[at >>> 5]! & (1 << (at & 31))) === 0) return false;
    }
    return true;
  }
}

export class IdFilter {
  private readonly filters: Filter[] = [];
  private h1 = 0;
  private h2 = 0;

  constructor(private readonly firstCapacity = 4096) {}

  /** Two independent 32-bit hashes of `id` (FNV-1a and a multiplicative one) into h1, h2. */
  private hash(id: string): void {
    let a = 0x811c9dc5;
    let b = 0x9e3779b9;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x85ebca6b) ^ (b >>> 13);
    }
    this.h1 = a >>> 0;
    this.h2 = (b | 1) >>> 0;
  }

  add(id: string): void {
    this.hash(id);
    let last = this.filters.at(-1);
    if (!last || last.count >= last.capacity) {
      last = new Filter(last ? last.capacity * 2 : this.firstCapacity);
      this.filters.push(last);
    }
    last.add(this.h1, this.h2);
  }

  mayHold(id: string): boolean {
    this.hash(id);
    for (const f of this.filters) if (f.has(this.h1, this.h2)) return true;
    return false;
  }
}
