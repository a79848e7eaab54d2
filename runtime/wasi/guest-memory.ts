import { Errno, WasiError } from "./errno.js";

/**
 * The guest's linear memory as host functions see it. Pointers and lengths arrive as signed i32s; they
 * are read as unsigned and checked against the memory's current size before anything is read,
 * written or charged (EFAULT otherwise), so a negative length can never become a negative charge.
 */
export class GuestMemory {
  constructor(private readonly memory?: WebAssembly.Memory) {}

  private buffer(): ArrayBuffer {
    // A module without a memory has nothing a pointer could name.
    if (!this.memory) throw new WasiError(Errno.FAULT);
    return this.memory.buffer;
  }

  private check(ptr: number, len: number): [ArrayBuffer, number, number] {
    const buf = this.buffer();
    const p = ptr >>> 0;
    // A negative length is an i32 from the guest: read it unsigned. A computed size stays as it is.
    const n = len < 0 ? len >>> 0 : len;
    if (!Number.isSafeInteger(n)) throw new WasiError(Errno.FAULT);
    if (!(p + n <= buf.byteLength)) throw new WasiError(Errno.FAULT);
    return [buf, p, n];
  }

  /** A live view of guest bytes [ptr, ptr + len). */
  bytes(ptr: number, len: number): Uint8Array {
    const [buf, p, n] = this.check(ptr, len);
    return new Uint8Array(buf, p, n);
  }

  /** A copy of guest bytes. */
  read(ptr: number, len: number): Uint8Array {
    return this.bytes(ptr, len).slice();
  }

  /** A DataView over the whole memory, after checking that [ptr, ptr + len) is inside it. */
  view(ptr: number, len: number): DataView {
    const [buf] = this.check(ptr, len);
    return new DataView(buf);
  }
}
