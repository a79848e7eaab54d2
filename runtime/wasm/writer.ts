/** Bytes the shortest unsigned LEB128 of `v` takes. */
export function u32Size(v: number): number {
  let n = v >>> 0;
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** A growable byte buffer with the LEB128 encoders the binary format uses. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  /** Bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): this {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Copies `src[from, to)` (nothing when `to <= from`); returns `to`, where the next copy starts. */
  copy(src: Uint8Array, from: number, to: number): number {
    const n = to - from;
    if (n <= 0) return to;
    if (this.length + n > this.buf.length) this.reserve(n);
    const buf = this.buf;
    if (n < 16) for (let k = 0; k < n; k++) buf[this.length + k] = src[from + k]!;
    else buf.set(src.subarray(from, to), this.length);
    this.length += n;
    return to;
  }

  u32(v: number): this {
    let n = v >>> 0;
    if (this.length + 5 > this.buf.length) this.reserve(5);
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.length++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.length++] = n;
    return this;
  }

  s32(v: number): this {
    let n = v | 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  s64(v: bigint): this {
    let n = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** A length-prefixed vector whose items the callback writes. */
  vec<T>(items: readonly T[], write: (w: ByteWriter, item: T) => void): this {
    this.u32(items.length);
    for (const it of items) write(this, it);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written so far, without copying (a view of the buffer: valid until `clear`). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Starts over, keeping the buffer (a scratch writer reused between modules). */
  clear(): this {
    this.length = 0;
    return this;
  }
}
