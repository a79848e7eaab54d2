/** Thrown for bytes that are not a well-formed WebAssembly module; the message names the problem. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** A cursor over module bytes with the LEB128 decoders the binary format uses. */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new DecodeError(`unexpected end of data at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (i === 4 && b > 0x0f) throw new DecodeError(`u32 LEB128 too large at byte ${this.pos - 1}`);
        return result >>> 0;
      }
      shift += 7;
    }
    throw new DecodeError(`u32 LEB128 too long at byte ${this.pos}`);
  }

  /** Skips a signed LEB128 of at most `maxBytes` bytes (s32: 5, s33: 5, s64: 10). */
  skipSigned(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) if ((this.u8() & 0x80) === 0) return;
    throw new DecodeError(`signed LEB128 too long at byte ${this.pos}`);
  }

  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    let i = 0;
    do {
      if (i++ >= 5) throw new DecodeError(`s33 LEB128 too long at byte ${this.pos}`);
      b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new DecodeError(`length ${n} at byte ${this.pos} runs past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    this.take(n);
  }

  name(): string {
    const bytes = this.take(this.u32());
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }
}
