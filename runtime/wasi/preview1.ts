import { CLOCK, COSTS } from "../wasm/cost-table.js";
import { Errno, WasiError } from "./errno.js";
import { MemFs, parent, type MemFile } from "./memfs.js";
import { WASI_FUNCTIONS } from "./names.js";
import { SeededStream } from "./random.js";

/** Thrown by proc_exit to unwind the guest; carries the exit code. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

export interface WasiOptions {
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  files: Record<string, Uint8Array>;
  seed: Uint8Array;
  stdoutCap: number;
  stderrCap: number;
  fsCapBytes: number;
  /** Charges fuel for a host call; a no-op for unmetered runs. */
  charge: (fuel: number) => void;
  /** Fuel used so far: the virtual clocks run on it. */
  fuelUsed: () => bigint;
}

type Fd =
  | { kind: "stdin"; pos: number }
  | { kind: "out"; stream: 1 | 2 }
  | { kind: "dir"; path: string; preopen: boolean }
  | { kind: "file"; path: string; file: MemFile; pos: number; append: boolean; read: boolean; write: boolean };

const FILETYPE = { directory: 3, regular: 4, character: 2 } as const;
const ALL_RIGHTS = 0x1fffffffn;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const RIGHT_FD_READ = 1n << 1n;
const RIGHT_FD_WRITE = 1n << 6n;

/** A deterministic WASI preview 1 over an in-memory tree, stdio buffers and virtual clocks. */
export class Wasi {
  readonly fs: MemFs;
  private readonly fds = new Map<number, Fd>();
  private nextFd = 4;
  private readonly random: SeededStream;
  private readonly out: [Uint8Array[], Uint8Array[]] = [[], []];
  private readonly outSize: [number, number] = [0, 0];
  /** Which streams hit their cap (for the job's detail). */
  readonly truncated = { stdout: false, stderr: false };
  private memory?: WebAssembly.Memory;

  constructor(private readonly o: WasiOptions) {
    this.fs = new MemFs(o.files, o.fsCapBytes);
    this.random = new SeededStream(o.seed);
    this.fds.set(0, { kind: "stdin", pos: 0 });
    this.fds.set(1, { kind: "out", stream: 1 });
    this.fds.set(2, { kind: "out", stream: 2 });
    this.fds.set(3, { kind: "dir", path: "", preopen: true });
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  stdout(): Uint8Array {
    return Buffer.concat(this.out[0]);
  }

  stderr(): Uint8Array {
    return Buffer.concat(this.out[1]);
  }

  /** Contents of a file in the tree, if it exists. */
  readFile(path: string): Uint8Array | undefined {
    const f = this.fs.files.get(path);
    return f ? f.data.slice(0, f.size) : undefined;
  }

  private view(): DataView {
    if (!this.memory) throw new WasiError(Errno.NOSYS);
    return new DataView(this.memory.buffer);
  }

  private bytes(ptr: number, len: number): Uint8Array {
    if (!this.memory) throw new WasiError(Errno.NOSYS);
    const buf = this.memory.buffer;
    if (ptr + len > buf.byteLength) throw new RangeError("out of bounds");
    return new Uint8Array(buf, ptr, len);
  }

  private string(ptr: number, len: number): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes(ptr, len));
  }

  private fd(n: number): Fd {
    const f = this.fds.get(n);
    if (!f) throw new WasiError(Errno.BADF);
    return f;
  }

  private dirFd(n: number): Extract<Fd, { kind: "dir" }> {
    const f = this.fd(n);
    if (f.kind !== "dir") throw new WasiError(Errno.NOTDIR);
    return f;
  }

  private iovecs(ptr: number, count: number): Uint8Array[] {
    const v = this.view();
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) out.push(this.bytes(v.getUint32(ptr + i * 8, true), v.getUint32(ptr + i * 8 + 4, true)));
    return out;
  }

  private writeStrings(items: string[], ptrs: number, buf: number): void {
    const v = this.view();
    let at = buf;
    items.forEach((s, i) => {
      const b = Buffer.from(s + "\0", "utf8");
      v.setUint32(ptrs + i * 4, at, true);
      this.bytes(at, b.length).set(b);
      at += b.length;
    });
  }

  private sizes(items: string[], countPtr: number, sizePtr: number): void {
    const v = this.view();
    v.setUint32(countPtr, items.length, true);
    v.setUint32(sizePtr, items.reduce((a, s) => a + Buffer.byteLength(s) + 1, 0), true);
  }

  private envStrings(): string[] {
    return Object.keys(this.o.env)
      .sort()
      .map((k) => `${k}=${this.o.env[k]}`);
  }

  private filestat(ptr: number, type: number, size: number): void {
    const v = this.view();
    this.bytes(ptr, 64).fill(0);
    v.setBigUint64(ptr + 8, 1n, true);
    v.setUint8(ptr + 16, type);
    v.setBigUint64(ptr + 24, 1n, true);
    v.setBigUint64(ptr + 32, BigInt(size), true);
  }

  /** A directory's entries in name order (so listings are deterministic), with "." and "..". */
  private listDir(dir: string): [string, number][] {
    const prefix = dir === "" ? "" : dir + "/";
    const children: [string, number][] = [];
    for (const d of this.fs.dirs) if (d !== dir && parent(d) === dir) children.push([d.slice(prefix.length), FILETYPE.directory]);
    for (const f of this.fs.files.keys()) if (parent(f) === dir) children.push([f.slice(prefix.length), FILETYPE.regular]);
    children.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return [[".", FILETYPE.directory], ["..", FILETYPE.directory], ...children];
  }

  private readInto(data: Uint8Array, size: number, pos: number, iovs: Uint8Array[]): number {
    let n = 0;
    for (const iov of iovs) {
      const k = Math.max(0, Math.min(iov.length, size - pos - n));
      iov.set(data.subarray(pos + n, pos + n + k));
      n += k;
      if (k < iov.length) break;
    }
    return n;
  }

  private readonly impl: Record<string, (...a: never[]) => number | void> = {
    args_get: (argv: number, buf: number) => this.writeStrings(this.o.args, argv, buf),
    args_sizes_get: (c: number, s: number) => this.sizes(this.o.args, c, s),
    environ_get: (envp: number, buf: number) => this.writeStrings(this.envStrings(), envp, buf),
    environ_sizes_get: (c: number, s: number) => this.sizes(this.envStrings(), c, s),
    clock_res_get: (_id: number, ptr: number) => this.view().setBigUint64(ptr, CLOCK.nsPerFuel, true),
    clock_time_get: (id: number, _precision: bigint, ptr: number) => {
      if (id > 3) throw new WasiError(Errno.INVAL);
      const elapsed = this.o.fuelUsed() * CLOCK.nsPerFuel;
      this.view().setBigUint64(ptr, id === 0 ? CLOCK.epochNs + elapsed : elapsed, true);
    },
    random_get: (ptr: number, len: number) => {
      this.o.charge(len);
      this.random.fill(this.bytes(ptr, len));
    },
    proc_exit: (code: number) => {
      throw new ExitSignal(code >>> 0);
    },
    sched_yield: () => {},
    fd_prestat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      if (f.kind !== "dir" || !f.preopen) throw new WasiError(Errno.BADF);
      const v = this.view();
      v.setUint8(ptr, 0);
      v.setUint32(ptr + 4, 1, true);
    },
    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      const f = this.fd(fd);
      if (f.kind !== "dir" || !f.preopen) throw new WasiError(Errno.BADF);
      if (len < 1) throw new WasiError(Errno.NAMETOOLONG);
      this.bytes(ptr, 1)[0] = 0x2f;
    },
    fd_fdstat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      const v = this.view();
      this.bytes(ptr, 24).fill(0);
      const type = f.kind === "dir" ? FILETYPE.directory : f.kind === "file" ? FILETYPE.regular : FILETYPE.character;
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, f.kind === "file" && f.append ? 1 : 0, true);
      v.setBigUint64(ptr + 8, ALL_RIGHTS, true);
      v.setBigUint64(ptr + 16, ALL_RIGHTS, true);
    },
    fd_fdstat_set_flags: (fd: number) => {
      this.fd(fd);
    },
    fd_filestat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      if (f.kind === "file") this.filestat(ptr, FILETYPE.regular, f.file.size);
      else if (f.kind === "dir") this.filestat(ptr, FILETYPE.directory, 0);
      else this.filestat(ptr, FILETYPE.character, 0);
    },
    fd_filestat_set_size: (fd: number, size: bigint) => {
      const f = this.fd(fd);
      if (f.kind !== "file" || !f.write) throw new WasiError(Errno.BADF);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.FBIG);
      this.fs.resize(f.file, Number(size));
    },
    path_filestat_get: (fd: number, _flags: number, p: number, len: number, ptr: number) => {
      const path = this.fs.resolve(this.dirFd(fd).path, this.string(p, len));
      const file = this.fs.files.get(path);
      if (file) this.filestat(ptr, FILETYPE.regular, file.size);
      else if (this.fs.isDir(path)) this.filestat(ptr, FILETYPE.directory, 0);
      else throw new WasiError(Errno.NOENT);
    },
    path_open: (
      fd: number,
      _dirflags: number,
      p: number,
      len: number,
      oflags: number,
      rights: bigint,
      _inheriting: bigint,
      fdflags: number,
      out: number,
    ) => {
      const path = this.fs.resolve(this.dirFd(fd).path, this.string(p, len));
      let opened: Fd;
      if (this.fs.isDir(path)) {
        if (oflags & (OFLAGS.CREAT | OFLAGS.TRUNC)) throw new WasiError(oflags & OFLAGS.EXCL ? Errno.EXIST : Errno.ISDIR);
        opened = { kind: "dir", path, preopen: false };
      } else {
        if (oflags & OFLAGS.DIRECTORY) throw new WasiError(this.fs.files.has(path) ? Errno.NOTDIR : Errno.NOENT);
        let file = this.fs.files.get(path);
        if (file && oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL) throw new WasiError(Errno.EXIST);
        if (!file) {
          if (!(oflags & OFLAGS.CREAT)) throw new WasiError(Errno.NOENT);
          if (!this.fs.isDir(parent(path))) throw new WasiError(Errno.NOENT);
          file = this.fs.create(path);
        }
        const write = (rights & RIGHT_FD_WRITE) !== 0n;
        if (oflags & OFLAGS.TRUNC) this.fs.resize(file, 0);
        opened = { kind: "file", path, file, pos: 0, append: (fdflags & 1) !== 0, read: (rights & RIGHT_FD_READ) !== 0n, write };
      }
      if (this.fds.size >= 1024) throw new WasiError(24);
      const n = this.nextFd++;
      this.fds.set(n, opened);
      this.view().setUint32(out, n, true);
    },
    fd_readdir: (fd: number, buf: number, len: number, cookie: bigint, out: number) => {
      const dir = this.dirFd(fd).path;
      const entries = this.listDir(dir);
      const v = this.view();
      const dest = this.bytes(buf, len);
      let used = 0;
      for (let i = Number(cookie); i < entries.length && used < len; i++) {
        const [name, type] = entries[i]!;
        const nameBytes = Buffer.from(name, "utf8");
        const header = new Uint8Array(24);
        const h = new DataView(header.buffer);
        h.setBigUint64(0, BigInt(i + 1), true); // d_next: the cookie of the next entry
        h.setBigUint64(8, BigInt(i + 1), true); // d_ino
        h.setUint32(16, nameBytes.length, true);
        h.setUint8(20, type);
        // The last entry may be cut short; the guest then retries with a larger buffer.
        const entry = Buffer.concat([header, nameBytes]);
        const n = Math.min(entry.length, len - used);
        dest.set(entry.subarray(0, n), used);
        used += n;
      }
      this.o.charge(used);
      v.setUint32(out, used, true);
    },
    path_rename: (fd: number, p: number, len: number, toFd: number, q: number, qlen: number) => {
      const from = this.fs.resolve(this.dirFd(fd).path, this.string(p, len));
      // Open descriptors hold the file itself, so they keep working after the rename.
      this.fs.rename(from, this.fs.resolve(this.dirFd(toFd).path, this.string(q, qlen)));
    },
    // Every subscription is ready at once: clocks are virtual, so a sleep takes no time (and no fuel
    // beyond the call), and reads from the in-memory tree never block.
    poll_oneoff: (subs: number, events: number, count: number, out: number) => {
      const v = this.view();
      if (count === 0) throw new WasiError(Errno.INVAL);
      this.bytes(events, count * 32).fill(0);
      for (let i = 0; i < count; i++) {
        const s = subs + i * 48;
        const e = events + i * 32;
        const tag = v.getUint8(s + 8);
        v.setBigUint64(e, v.getBigUint64(s, true), true);
        v.setUint8(e + 10, tag);
        if (tag === 1 || tag === 2) {
          const f = this.fds.get(v.getUint32(s + 16, true));
          if (!f) v.setUint16(e + 8, Errno.BADF, true);
          else if (tag === 1 && f.kind === "stdin") v.setBigUint64(e + 16, BigInt(this.o.stdin.length - f.pos), true);
          else if (tag === 1 && f.kind === "file") v.setBigUint64(e + 16, BigInt(Math.max(0, f.file.size - f.pos)), true);
        } else if (tag !== 0) v.setUint16(e + 8, Errno.INVAL, true);
      }
      v.setUint32(out, count, true);
    },
    path_create_directory: (fd: number, p: number, len: number) => {
      this.fs.mkdir(this.fs.resolve(this.dirFd(fd).path, this.string(p, len)));
    },
    path_unlink_file: (fd: number, p: number, len: number) => {
      this.fs.unlink(this.fs.resolve(this.dirFd(fd).path, this.string(p, len)));
    },
    path_remove_directory: (fd: number, p: number, len: number) => {
      this.fs.rmdir(this.fs.resolve(this.dirFd(fd).path, this.string(p, len)));
    },
    fd_close: (fd: number) => {
      const f = this.fd(fd);
      if (f.kind === "dir" && f.preopen) throw new WasiError(Errno.NOTCAPABLE);
      this.fds.delete(fd);
    },
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
      const f = this.fd(fd);
      if (f.kind !== "file") throw new WasiError(Errno.SPIPE);
      const base = whence === 0 ? 0n : whence === 1 ? BigInt(f.pos) : whence === 2 ? BigInt(f.file.size) : -1n;
      if (base < 0n) throw new WasiError(Errno.INVAL);
      const next = base + offset;
      if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.INVAL);
      f.pos = Number(next);
      this.view().setBigUint64(out, next, true);
    },
    fd_tell: (fd: number, out: number) => {
      const f = this.fd(fd);
      if (f.kind !== "file") throw new WasiError(Errno.SPIPE);
      this.view().setBigUint64(out, BigInt(f.pos), true);
    },
    fd_read: (fd: number, iovs: number, count: number, out: number) => {
      const f = this.fd(fd);
      const vecs = this.iovecs(iovs, count);
      let n: number;
      if (f.kind === "stdin") {
        n = this.readInto(this.o.stdin, this.o.stdin.length, f.pos, vecs);
        f.pos += n;
      } else if (f.kind === "file") {
        if (!f.read) throw new WasiError(Errno.BADF);
        n = this.readInto(f.file.data, f.file.size, f.pos, vecs);
        f.pos += n;
      } else throw new WasiError(f.kind === "dir" ? Errno.ISDIR : Errno.BADF);
      this.o.charge(n);
      this.view().setUint32(out, n, true);
    },
    fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const f = this.fd(fd);
      if (f.kind !== "file" || !f.read) throw new WasiError(Errno.BADF);
      const n = this.readInto(f.file.data, f.file.size, Number(offset), this.iovecs(iovs, count));
      this.o.charge(n);
      this.view().setUint32(out, n, true);
    },
    fd_write: (fd: number, iovs: number, count: number, out: number) => {
      const f = this.fd(fd);
      const vecs = this.iovecs(iovs, count);
      const total = vecs.reduce((a, b) => a + b.length, 0);
      this.o.charge(total);
      let n = 0;
      if (f.kind === "out") {
        const i = f.stream - 1;
        const cap = i === 0 ? this.o.stdoutCap : this.o.stderrCap;
        for (const v of vecs) {
          const k = Math.min(v.length, cap - this.outSize[i]!);
          if (k > 0) {
            this.out[i]!.push(v.slice(0, k));
            this.outSize[i]! += k;
            n += k;
          }
          if (k < v.length) {
            this.truncated[i === 0 ? "stdout" : "stderr"] = true;
            if (n === 0) throw new WasiError(Errno.FBIG);
            break;
          }
        }
      } else if (f.kind === "file") {
        if (!f.write) throw new WasiError(Errno.BADF);
        if (f.append) f.pos = f.file.size;
        for (const v of vecs) {
          this.fs.write(f.file, f.pos, v);
          f.pos += v.length;
          n += v.length;
        }
      } else throw new WasiError(Errno.BADF);
      this.view().setUint32(out, n, true);
    },
  };

  /** The import object's `wasi_snapshot_preview1` namespace: every preview 1 name. */
  imports(): Record<string, (...a: never[]) => number> {
    const ns: Record<string, (...a: never[]) => number> = {};
    for (const name of WASI_FUNCTIONS) {
      const fn = this.impl[name];
      ns[name] = (...args: never[]) => {
        this.o.charge(COSTS.hostCallBase);
        if (!fn) return Errno.NOSYS;
        try {
          fn(...args);
          return Errno.SUCCESS;
        } catch (e) {
          if (e instanceof WasiError) return e.errno;
          if (e instanceof RangeError) return 21; // EFAULT: a guest pointer outside its memory
          throw e;
        }
      };
    }
    return ns;
  }
}
