import { CLOCK, COSTS } from "../wasm/cost-table.js";
import { Errno, WasiError } from "./errno.js";
import { GuestMemory } from "./guest-memory.js";
import { MemFs, type DirNode, type FileNode, type Node } from "./memfs.js";
import { WASI_FUNCTIONS } from "./names.js";
import { SeededStream } from "./random.js";
import { DIR_BASE, DIR_INHERITING, FILE_BASE, Right, STDIO_BASE } from "./rights.js";

/** Thrown by proc_exit to unwind the guest; carries the exit code. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

export interface WasiOptions {
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  files: Record<string, Uint8Array>;
  /** Directories that exist (empty) even without files in them. */
  dirs?: readonly string[];
  seed: Uint8Array;
  stdoutCap: number;
  stderrCap: number;
  fsCapBytes: number;
  /** Charges fuel for a host call (non-negative); throws when the job runs out. A no-op for unmetered runs. */
  charge: (fuel: number) => void;
  /** Fuel used so far: the virtual clocks run on it. */
  fuelUsed: () => bigint;
}

const FILETYPE = { unknown: 0, character: 2, directory: 3, regular: 4, symlink: 7 } as const;
const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FST = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
const LOOKUP_FOLLOW = 1;
const EVENT = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
const MAX_FDS = 1024;
const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

interface FdBase {
  rights: bigint;
  inheriting: bigint;
  flags: number;
}
type Fd =
  | (FdBase & { kind: "stdin"; pos: number; ino: bigint })
  | (FdBase & { kind: "out"; stream: 1 | 2; ino: bigint })
  | (FdBase & { kind: "dir"; node: DirNode; preopen?: string })
  | (FdBase & { kind: "file"; node: FileNode; pos: number });

/**
 * A deterministic WASI preview 1 over an in-memory tree, stdio buffers and virtual clocks, with the
 * errno and rights semantics of wasmtime (see runtime/wasi/README.md). Every function of the preview 1
 * witx is implemented; lengths and pointers are unsigned and checked against memory before anything is
 * charged or done.
 */
export class Wasi {
  readonly fs: MemFs;
  private readonly fds = new Map<number, Fd>();
  private readonly random: SeededStream;
  private readonly out: [Uint8Array[], Uint8Array[]] = [[], []];
  private readonly outSize: [number, number] = [0, 0];
  /** Which streams hit their cap (for the job's detail). */
  readonly truncated = { stdout: false, stderr: false };
  private mem = new GuestMemory();
  /** Virtual nanoseconds slept in poll_oneoff, added to fuel-derived time. */
  private slept = 0n;

  constructor(private readonly o: WasiOptions) {
    this.fs = new MemFs(o.files, o.fsCapBytes, o.dirs ?? [], 4n, () => this.realtime());
    this.random = new SeededStream(o.seed);
    this.fds.set(0, { kind: "stdin", pos: 0, ino: 1n, rights: STDIO_BASE, inheriting: 0n, flags: 0 });
    this.fds.set(1, { kind: "out", stream: 1, ino: 2n, rights: STDIO_BASE, inheriting: 0n, flags: FDFLAGS.APPEND });
    this.fds.set(2, { kind: "out", stream: 2, ino: 3n, rights: STDIO_BASE, inheriting: 0n, flags: FDFLAGS.APPEND });
    // fd 3 is the whole tree ("/"); each top-level directory is also preopened under its own name.
    this.fds.set(3, { kind: "dir", node: this.fs.root, preopen: "/", rights: DIR_BASE, inheriting: DIR_INHERITING, flags: 0 });
    let fd = 4;
    for (const [name, node] of [...this.fs.root.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      if (node.kind === "dir") this.fds.set(fd++, { kind: "dir", node, preopen: name, rights: DIR_BASE, inheriting: DIR_INHERITING, flags: 0 });
  }

  bind(memory: WebAssembly.Memory): void {
    this.mem = new GuestMemory(memory);
  }

  stdout(): Uint8Array {
    return Buffer.concat(this.out[0]);
  }

  stderr(): Uint8Array {
    return Buffer.concat(this.out[1]);
  }

  /** Contents of a regular file in the tree, if it exists. */
  readFile(path: string): Uint8Array | undefined {
    const n = this.fs.lookup(path);
    return n?.kind === "file" ? n.data.slice(0, n.size) : undefined;
  }

  private monotonic(): bigint {
    return this.o.fuelUsed() * CLOCK.nsPerFuel + this.slept;
  }

  private realtime(): bigint {
    return CLOCK.epochNs + this.monotonic();
  }

  private clockNow(id: number): bigint {
    if (id === 0) return this.realtime();
    if (id === 1) return this.monotonic();
    // Process and thread CPU time: the fuel spent, not the time slept.
    if (id === 2 || id === 3) return this.o.fuelUsed() * CLOCK.nsPerFuel;
    throw new WasiError(Errno.INVAL);
  }

  private fd(n: number): Fd {
    const f = this.fds.get(n >>> 0);
    if (!f) throw new WasiError(Errno.BADF);
    return f;
  }

  private dirFd(n: number, right?: bigint): Extract<Fd, { kind: "dir" }> {
    const f = this.fd(n);
    if (f.kind !== "dir") throw new WasiError(Errno.NOTDIR);
    if (right !== undefined && (f.rights & right) === 0n) throw new WasiError(Errno.NOTCAPABLE);
    return f;
  }

  private path(ptr: number, len: number): string {
    const bytes = this.mem.read(ptr, len);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new WasiError(Errno.ILSEQ);
    }
  }

  private allocFd(f: Fd): number {
    if (this.fds.size >= MAX_FDS) throw new WasiError(Errno.MFILE);
    let n = 3;
    while (this.fds.has(n)) n++;
    this.fds.set(n, f);
    return n;
  }

  private filetype(node: Node): number {
    return node.kind === "dir" ? FILETYPE.directory : node.kind === "file" ? FILETYPE.regular : FILETYPE.symlink;
  }

  private writeFilestat(ptr: number, node: Node | undefined, stdioIno?: bigint): void {
    const v = this.mem.view(ptr, 64);
    new Uint8Array(v.buffer, ptr, 64).fill(0);
    if (!node) {
      v.setBigUint64(ptr + 8, stdioIno ?? 0n, true);
      v.setUint8(ptr + 16, FILETYPE.character);
      v.setBigUint64(ptr + 24, 1n, true);
      return;
    }
    v.setBigUint64(ptr, 1n, true);
    v.setBigUint64(ptr + 8, node.ino, true);
    v.setUint8(ptr + 16, this.filetype(node));
    v.setBigUint64(ptr + 24, BigInt(this.fs.nlink(node)), true);
    v.setBigUint64(ptr + 32, BigInt(this.fs.size(node)), true);
    v.setBigUint64(ptr + 40, node.atim, true);
    v.setBigUint64(ptr + 48, node.mtim, true);
    v.setBigUint64(ptr + 56, node.ctim, true);
  }

  private setTimes(node: Node, atim: bigint, mtim: bigint, flags: number): void {
    if (flags & ~0xf) throw new WasiError(Errno.INVAL);
    if ((flags & FST.ATIM && flags & FST.ATIM_NOW) || (flags & FST.MTIM && flags & FST.MTIM_NOW)) throw new WasiError(Errno.INVAL);
    const now = this.realtime();
    if (flags & FST.ATIM) node.atim = BigInt.asUintN(64, atim);
    if (flags & FST.ATIM_NOW) node.atim = now;
    if (flags & FST.MTIM) node.mtim = BigInt.asUintN(64, mtim);
    if (flags & FST.MTIM_NOW) node.mtim = now;
    node.ctim = now;
  }

  /** Reads iovecs (buf u32, len u32) after checking the array and every buffer against memory. */
  private iovecs(ptr: number, count: number): Uint8Array[] {
    const n = count >>> 0;
    const v = this.mem.view(ptr, n * 8);
    const out: Uint8Array[] = [];
    const base = ptr >>> 0;
    for (let i = 0; i < n; i++) out.push(this.mem.bytes(v.getUint32(base + i * 8, true), v.getUint32(base + i * 8 + 4, true)));
    return out;
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

  private strings(items: string[]): Buffer[] {
    return items.map((s) => Buffer.from(s + "\0", "utf8"));
  }

  private writeStrings(items: string[], ptrs: number, buf: number): void {
    const bs = this.strings(items);
    const total = bs.reduce((a, b) => a + b.length, 0);
    const v = this.mem.view(ptrs, items.length * 4);
    const dest = this.mem.bytes(buf, total);
    this.o.charge(total);
    let at = 0;
    bs.forEach((b, i) => {
      v.setUint32((ptrs >>> 0) + i * 4, ((buf >>> 0) + at) >>> 0, true);
      dest.set(b, at);
      at += b.length;
    });
  }

  private sizes(items: string[], countPtr: number, sizePtr: number): void {
    const c = this.mem.view(countPtr, 4);
    const s = this.mem.view(sizePtr, 4);
    c.setUint32(countPtr >>> 0, items.length, true);
    s.setUint32(sizePtr >>> 0, this.strings(items).reduce((a, b) => a + b.length, 0), true);
  }

  private envStrings(): string[] {
    return Object.keys(this.o.env)
      .sort()
      .map((k) => `${k}=${this.o.env[k]}`);
  }

  private out32(ptr: number, value: number): void {
    this.mem.view(ptr, 4).setUint32(ptr >>> 0, value >>> 0, true);
  }

  private out64(ptr: number, value: bigint): void {
    this.mem.view(ptr, 8).setBigUint64(ptr >>> 0, value, true);
  }

  private fileFd(n: number): Extract<Fd, { kind: "file" }> {
    const f = this.fd(n);
    if (f.kind === "dir") throw new WasiError(Errno.ISDIR);
    if (f.kind !== "file") throw new WasiError(Errno.SPIPE);
    return f;
  }

  private writeOut(stream: 1 | 2, vecs: Uint8Array[]): number {
    const i = stream - 1;
    const cap = i === 0 ? this.o.stdoutCap : this.o.stderrCap;
    let n = 0;
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
    return n;
  }

  private readonly impl: Record<string, (...a: never[]) => number | void> = {
    args_get: (argv: number, buf: number) => this.writeStrings(this.o.args, argv, buf),
    args_sizes_get: (c: number, s: number) => this.sizes(this.o.args, c, s),
    environ_get: (envp: number, buf: number) => this.writeStrings(this.envStrings(), envp, buf),
    environ_sizes_get: (c: number, s: number) => this.sizes(this.envStrings(), c, s),
    clock_res_get: (id: number, ptr: number) => {
      this.clockNow(id >>> 0);
      this.out64(ptr, CLOCK.nsPerFuel);
    },
    clock_time_get: (id: number, _precision: bigint, ptr: number) => {
      this.mem.view(ptr, 8);
      this.out64(ptr, this.clockNow(id >>> 0) & U64_MAX);
    },
    random_get: (ptr: number, len: number) => {
      const dest = this.mem.bytes(ptr, len);
      this.o.charge(dest.length);
      this.random.fill(dest);
    },
    proc_exit: (code: number) => {
      throw new ExitSignal(code >>> 0);
    },
    // Signals do not exist in the sandbox.
    proc_raise: (sig: number) => {
      if (sig >>> 0 > 30) throw new WasiError(Errno.INVAL);
      throw new WasiError(Errno.NOTSUP);
    },
    sched_yield: () => {},

    fd_prestat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      if (f.kind !== "dir" || f.preopen === undefined) throw new WasiError(Errno.BADF);
      const v = this.mem.view(ptr, 8);
      v.setUint32(ptr >>> 0, 0, true);
      v.setUint32((ptr >>> 0) + 4, Buffer.byteLength(f.preopen), true);
    },
    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      const f = this.fd(fd);
      if (f.kind !== "dir" || f.preopen === undefined) throw new WasiError(Errno.BADF);
      const name = Buffer.from(f.preopen, "utf8");
      const dest = this.mem.bytes(ptr, len);
      if (dest.length < name.length) throw new WasiError(Errno.NAMETOOLONG);
      dest.set(name);
    },
    fd_fdstat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      const v = this.mem.view(ptr, 24);
      const p = ptr >>> 0;
      new Uint8Array(v.buffer, p, 24).fill(0);
      v.setUint8(p, f.kind === "dir" ? FILETYPE.directory : f.kind === "file" ? FILETYPE.regular : FILETYPE.character);
      v.setUint16(p + 2, f.flags, true);
      v.setBigUint64(p + 8, f.rights, true);
      v.setBigUint64(p + 16, f.inheriting, true);
    },
    fd_fdstat_set_flags: (fd: number, flags: number) => {
      const f = this.fd(fd);
      if (flags & ~0x1f) throw new WasiError(Errno.INVAL);
      if ((f.rights & Right.FD_FDSTAT_SET_FLAGS) === 0n) throw new WasiError(Errno.NOTCAPABLE);
      f.flags = flags & 0x1f;
    },
    fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
      const f = this.fd(fd);
      const b = BigInt.asUintN(64, base);
      const i = BigInt.asUintN(64, inheriting);
      // Rights can only be dropped, never gained.
      if ((b & ~f.rights) !== 0n || (i & ~f.inheriting) !== 0n) throw new WasiError(Errno.NOTCAPABLE);
      f.rights = b;
      f.inheriting = i;
    },
    fd_filestat_get: (fd: number, ptr: number) => {
      const f = this.fd(fd);
      this.mem.view(ptr, 64);
      if (f.kind === "file" || f.kind === "dir") this.writeFilestat(ptr >>> 0, f.node);
      else this.writeFilestat(ptr >>> 0, undefined, f.ino);
    },
    fd_filestat_set_size: (fd: number, size: bigint) => {
      const f = this.fileFd(fd);
      if ((f.rights & Right.FD_FILESTAT_SET_SIZE) === 0n) throw new WasiError(Errno.BADF);
      const s = BigInt.asUintN(64, size);
      if (s > I64_MAX) throw new WasiError(Errno.INVAL);
      if (s > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.FBIG);
      this.fs.resize(f.node, Number(s));
      this.fs.touch(f.node);
    },
    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const f = this.fd(fd);
      if (f.kind !== "file" && f.kind !== "dir") throw new WasiError(Errno.BADF);
      this.setTimes(f.node, atim, mtim, flags);
    },
    fd_advise: (fd: number, offset: bigint, len: bigint, advice: number) => {
      const f = this.fd(fd);
      if (advice >>> 0 > 5) throw new WasiError(Errno.INVAL);
      if (f.kind === "dir") throw new WasiError(Errno.BADF);
      if (f.kind !== "file") throw new WasiError(Errno.SPIPE);
      if (offset < 0n || len < 0n) throw new WasiError(Errno.INVAL);
    },
    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      const f = this.fileFd(fd);
      if ((f.rights & Right.FD_WRITE) === 0n) throw new WasiError(Errno.BADF);
      const end = BigInt.asUintN(64, offset) + BigInt.asUintN(64, len);
      if (offset < 0n || len <= 0n) throw new WasiError(Errno.INVAL);
      if (end > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.FBIG);
      if (Number(end) > f.node.size) this.fs.resize(f.node, Number(end));
    },
    fd_close: (fd: number) => {
      this.fd(fd);
      this.fds.delete(fd >>> 0);
    },
    fd_datasync: (fd: number) => this.sync(fd),
    fd_sync: (fd: number) => this.sync(fd),
    fd_renumber: (from: number, to: number) => {
      const f = this.fd(from);
      this.fd(to);
      if (from >>> 0 === to >>> 0) return;
      this.fds.set(to >>> 0, f);
      this.fds.delete(from >>> 0);
    },
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
      const f = this.fileFd(fd);
      this.mem.view(out, 8);
      const w = whence >>> 0;
      if (w > 2) throw new WasiError(Errno.INVAL);
      const base = w === 0 ? 0n : w === 1 ? BigInt(f.pos) : BigInt(f.node.size);
      const next = base + BigInt.asIntN(64, offset);
      if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.INVAL);
      f.pos = Number(next);
      this.out64(out, next);
    },
    fd_tell: (fd: number, out: number) => {
      const f = this.fileFd(fd);
      this.out64(out, BigInt(f.pos));
    },
    fd_read: (fd: number, iovs: number, count: number, out: number) => {
      const f = this.fd(fd);
      this.mem.view(out, 4);
      const vecs = this.iovecs(iovs, count);
      let n: number;
      if (f.kind === "stdin") {
        n = this.readInto(this.o.stdin, this.o.stdin.length, f.pos, vecs);
        f.pos += n;
      } else if (f.kind === "file") {
        if ((f.rights & Right.FD_READ) === 0n) throw new WasiError(Errno.BADF);
        n = this.readInto(f.node.data, f.node.size, f.pos, vecs);
        f.pos += n;
      } else throw new WasiError(f.kind === "dir" ? Errno.ISDIR : Errno.BADF);
      this.o.charge(n);
      this.out32(out, n);
    },
    fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const f = this.fileFd(fd);
      if ((f.rights & Right.FD_READ) === 0n) throw new WasiError(Errno.BADF);
      this.mem.view(out, 4);
      const vecs = this.iovecs(iovs, count);
      const off = BigInt.asUintN(64, offset);
      const n = off >= BigInt(f.node.size) ? 0 : this.readInto(f.node.data, f.node.size, Number(off), vecs);
      this.o.charge(n);
      this.out32(out, n);
    },
    fd_write: (fd: number, iovs: number, count: number, out: number) => {
      const f = this.fd(fd);
      this.mem.view(out, 4);
      const vecs = this.iovecs(iovs, count);
      this.o.charge(vecs.reduce((a, b) => a + b.length, 0));
      let n = 0;
      if (f.kind === "out") n = this.writeOut(f.stream, vecs);
      else if (f.kind === "file") {
        if ((f.rights & Right.FD_WRITE) === 0n) throw new WasiError(Errno.BADF);
        if (f.flags & FDFLAGS.APPEND) f.pos = f.node.size;
        for (const v of vecs) {
          this.fs.write(f.node, f.pos, v);
          f.pos += v.length;
          n += v.length;
        }
      } else throw new WasiError(f.kind === "dir" ? Errno.ISDIR : Errno.BADF);
      this.out32(out, n);
    },
    fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const f = this.fileFd(fd);
      if ((f.rights & Right.FD_WRITE) === 0n) throw new WasiError(Errno.BADF);
      this.mem.view(out, 4);
      const vecs = this.iovecs(iovs, count);
      const total = vecs.reduce((a, b) => a + b.length, 0);
      const off = BigInt.asUintN(64, offset);
      if (off + BigInt(total) > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.FBIG);
      this.o.charge(total);
      let pos = Number(off);
      for (const v of vecs) {
        this.fs.write(f.node, pos, v);
        pos += v.length;
      }
      this.out32(out, total);
    },
    fd_readdir: (fd: number, buf: number, len: number, cookie: bigint, out: number) => {
      const f = this.fd(fd);
      if (f.kind !== "dir") throw new WasiError(Errno.NOTDIR);
      const dest = this.mem.bytes(buf, len);
      this.mem.view(out, 4);
      const entries: [string, Node][] = [
        [".", f.node],
        ["..", f.node.parent],
        ...[...f.node.entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      ];
      let used = 0;
      const start = BigInt.asUintN(64, cookie);
      for (let i = start; i < BigInt(entries.length) && used < dest.length; i++) {
        const [name, node] = entries[Number(i)]!;
        const nameBytes = Buffer.from(name, "utf8");
        const entry = new Uint8Array(24 + nameBytes.length);
        const h = new DataView(entry.buffer);
        h.setBigUint64(0, i + 1n, true); // d_next: the cookie of the next entry
        h.setBigUint64(8, node.ino, true);
        h.setUint32(16, nameBytes.length, true);
        h.setUint8(20, this.filetype(node));
        entry.set(nameBytes, 24);
        // The last entry may be cut short; the guest then retries with a larger buffer.
        const n = Math.min(entry.length, dest.length - used);
        dest.set(entry.subarray(0, n), used);
        used += n;
      }
      this.o.charge(used);
      this.out32(out, used);
    },

    path_create_directory: (fd: number, p: number, len: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_CREATE_DIRECTORY).node, this.path(p, len), false);
      if (r.node) throw new WasiError(Errno.EXIST);
      this.fs.newDir(r.dir, r.name);
    },
    path_filestat_get: (fd: number, flags: number, p: number, len: number, ptr: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_FILESTAT_GET).node, this.path(p, len), (flags & LOOKUP_FOLLOW) !== 0);
      this.mem.view(ptr, 64);
      if (!r.node) throw new WasiError(Errno.NOENT);
      if (r.trailingSlash && r.node.kind !== "dir") throw new WasiError(Errno.NOTDIR);
      this.writeFilestat(ptr >>> 0, r.node);
    },
    path_filestat_set_times: (fd: number, flags: number, p: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_FILESTAT_SET_TIMES).node, this.path(p, len), (flags & LOOKUP_FOLLOW) !== 0);
      if (!r.node) throw new WasiError(Errno.NOENT);
      if (r.trailingSlash && r.node.kind !== "dir") throw new WasiError(Errno.NOTDIR);
      this.setTimes(r.node, atim, mtim, fst);
    },
    path_link: (oldFd: number, oldFlags: number, op: number, olen: number, newFd: number, np: number, nlen: number) => {
      const src = this.fs.resolve(this.dirFd(oldFd, Right.PATH_LINK_SOURCE).node, this.path(op, olen), (oldFlags & LOOKUP_FOLLOW) !== 0);
      const dst = this.fs.resolve(this.dirFd(newFd, Right.PATH_LINK_TARGET).node, this.path(np, nlen), false);
      if (!src.node) throw new WasiError(Errno.NOENT);
      if (src.node.kind === "dir") throw new WasiError(Errno.PERM);
      if (src.trailingSlash) throw new WasiError(Errno.NOTDIR);
      if (dst.node) throw new WasiError(Errno.EXIST);
      if (dst.trailingSlash) throw new WasiError(Errno.NOENT);
      this.fs.link(dst.dir, dst.name, src.node);
      src.node.ctim = this.realtime();
    },
    path_open: (
      fd: number,
      dirflags: number,
      p: number,
      len: number,
      oflags: number,
      base: bigint,
      inheriting: bigint,
      fdflags: number,
      out: number,
    ) => {
      const dir = this.dirFd(fd, Right.PATH_OPEN);
      const path = this.path(p, len);
      this.mem.view(out, 4);
      if (oflags & ~0xf || fdflags & ~0x1f) throw new WasiError(Errno.INVAL);
      if (oflags & OFLAGS.CREAT && oflags & OFLAGS.DIRECTORY) throw new WasiError(Errno.INVAL);
      const wantBase = BigInt.asUintN(64, base);
      const wantInheriting = BigInt.asUintN(64, inheriting);
      // O_CREAT|O_EXCL never follows a final symlink; otherwise the lookup flag decides.
      const follow = (dirflags & LOOKUP_FOLLOW) !== 0 && !(oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL);
      const r = this.fs.resolve(dir.node, path, follow);
      let node = r.node;
      if (node && oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL) throw new WasiError(Errno.EXIST);
      if (!node) {
        if (!(oflags & OFLAGS.CREAT)) throw new WasiError(Errno.NOENT);
        if (r.trailingSlash) throw new WasiError(Errno.ISDIR);
        if ((dir.rights & Right.PATH_CREATE_FILE) === 0n) throw new WasiError(Errno.NOTCAPABLE);
        const f = this.fs.newFile();
        this.fs.link(r.dir, r.name, f);
        node = f;
      }
      if (node.kind === "symlink") throw new WasiError(oflags & OFLAGS.DIRECTORY ? Errno.NOTDIR : Errno.LOOP);
      if (node.kind === "dir") {
        if (oflags & (OFLAGS.CREAT | OFLAGS.TRUNC)) throw new WasiError(Errno.ISDIR);
        if (wantBase & Right.FD_WRITE) throw new WasiError(Errno.ISDIR);
        const rights = wantBase & dir.inheriting & DIR_BASE;
        const inh = wantInheriting & dir.inheriting;
        this.out32(out, this.allocFd({ kind: "dir", node, rights, inheriting: inh, flags: fdflags & 0x1f }));
        return;
      }
      if (oflags & OFLAGS.DIRECTORY || r.trailingSlash) throw new WasiError(Errno.NOTDIR);
      if (oflags & OFLAGS.TRUNC) {
        if ((dir.rights & Right.PATH_FILESTAT_SET_SIZE) === 0n) throw new WasiError(Errno.PERM);
        this.fs.resize(node, 0);
        this.fs.touch(node);
      }
      const rights = wantBase & dir.inheriting & FILE_BASE;
      const inh = wantInheriting & dir.inheriting;
      this.out32(out, this.allocFd({ kind: "file", node, pos: 0, rights, inheriting: inh, flags: fdflags & 0x1f }));
    },
    path_readlink: (fd: number, p: number, len: number, buf: number, bufLen: number, out: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_READLINK).node, this.path(p, len), false);
      const dest = this.mem.bytes(buf, bufLen);
      this.mem.view(out, 4);
      if (!r.node) throw new WasiError(Errno.NOENT);
      if (r.node.kind !== "symlink" || r.trailingSlash) throw new WasiError(Errno.INVAL);
      const target = Buffer.from(r.node.target, "utf8");
      const n = Math.min(target.length, dest.length);
      dest.set(target.subarray(0, n));
      this.o.charge(n);
      this.out32(out, n);
    },
    path_remove_directory: (fd: number, p: number, len: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_REMOVE_DIRECTORY).node, this.path(p, len), false);
      if (r.name === ".") throw new WasiError(Errno.INVAL);
      if (!r.node) throw new WasiError(Errno.NOENT);
      if (r.node.kind !== "dir") throw new WasiError(Errno.NOTDIR);
      if (r.node.entries.size > 0) throw new WasiError(Errno.NOTEMPTY);
      this.fs.unlinkEntry(r.dir, r.name);
    },
    path_rename: (fd: number, op: number, olen: number, newFd: number, np: number, nlen: number) => {
      const src = this.fs.resolve(this.dirFd(fd, Right.PATH_RENAME_SOURCE).node, this.path(op, olen), false);
      const dst = this.fs.resolve(this.dirFd(newFd, Right.PATH_RENAME_TARGET).node, this.path(np, nlen), false);
      this.rename(src, dst);
    },
    path_symlink: (op: number, olen: number, fd: number, np: number, nlen: number) => {
      const target = this.path(op, olen);
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_SYMLINK).node, this.path(np, nlen), false);
      if (r.node) throw new WasiError(Errno.EXIST);
      if (r.trailingSlash) throw new WasiError(Errno.NOENT);
      if (target === "") throw new WasiError(Errno.NOENT);
      if (target.includes("\0")) throw new WasiError(Errno.INVAL);
      this.fs.newSymlink(r.dir, r.name, target);
    },
    path_unlink_file: (fd: number, p: number, len: number) => {
      const r = this.fs.resolve(this.dirFd(fd, Right.PATH_UNLINK_FILE).node, this.path(p, len), false);
      if (!r.node) throw new WasiError(Errno.NOENT);
      if (r.node.kind === "dir") throw new WasiError(Errno.ISDIR);
      if (r.trailingSlash) throw new WasiError(Errno.NOTDIR);
      this.fs.unlinkEntry(r.dir, r.name);
    },

    poll_oneoff: (subs: number, events: number, count: number, out: number) => this.poll(subs, events, count, out),

    // The sandbox has no sockets: a descriptor is either invalid or not a socket.
    sock_accept: (fd: number, flags: number, out: number) => {
      this.fd(fd);
      this.mem.view(out, 4);
      if (flags & ~FDFLAGS.NONBLOCK) throw new WasiError(Errno.INVAL);
      throw new WasiError(Errno.NOTSOCK);
    },
    sock_recv: (fd: number, iovs: number, count: number, _flags: number, nread: number, oflags: number) => {
      this.fd(fd);
      this.iovecs(iovs, count);
      this.mem.view(nread, 4);
      this.mem.view(oflags, 2);
      throw new WasiError(Errno.NOTSOCK);
    },
    sock_send: (fd: number, iovs: number, count: number, _flags: number, nsent: number) => {
      this.fd(fd);
      this.iovecs(iovs, count);
      this.mem.view(nsent, 4);
      throw new WasiError(Errno.NOTSOCK);
    },
    sock_shutdown: (fd: number, how: number) => {
      this.fd(fd);
      if (how >>> 0 === 0 || how >>> 0 > 3) throw new WasiError(Errno.INVAL);
      throw new WasiError(Errno.NOTSOCK);
    },
  };

  private sync(fd: number): void {
    const f = this.fd(fd);
    if (f.kind !== "file" && f.kind !== "dir") throw new WasiError(Errno.INVAL);
  }

  private rename(src: ReturnType<MemFs["resolve"]>, dst: ReturnType<MemFs["resolve"]>): void {
    if (src.name === "." || dst.name === ".") throw new WasiError(Errno.INVAL);
    const node = src.node;
    if (!node) throw new WasiError(Errno.NOENT);
    if (node.kind !== "dir" && (src.trailingSlash || dst.trailingSlash)) throw new WasiError(Errno.NOTDIR);
    const target = dst.node;
    if (target === node) return;
    if (node.kind === "dir") {
      // A directory cannot move into itself or below itself.
      for (let d = dst.dir; ; d = d.parent) {
        if (d === node) throw new WasiError(Errno.INVAL);
        if (d.parent === d) break;
      }
      if (target && target.kind !== "dir") throw new WasiError(Errno.NOTDIR);
      if (target && target.kind === "dir" && target.entries.size > 0) throw new WasiError(Errno.NOTEMPTY);
    } else if (target?.kind === "dir") throw new WasiError(Errno.ISDIR);
    if (target) this.fs.unlinkEntry(dst.dir, dst.name);
    this.fs.move(src.dir, src.name, dst.dir, dst.name);
    node.ctim = this.realtime();
  }

  /**
   * poll_oneoff against the virtual clock: descriptors of the in-memory tree and stdio never block, so
   * they are ready at once; when only clocks are subscribed, virtual time jumps to the earliest deadline
   * (a sleep costs no fuel beyond the call, and makes time pass for the clocks).
   */
  private poll(subs: number, events: number, count: number, out: number): void {
    const n = count >>> 0;
    if (n === 0) throw new WasiError(Errno.INVAL);
    const sv = this.mem.view(subs, n * 48);
    const ev = this.mem.view(events, n * 32);
    this.mem.view(out, 4);
    const s0 = subs >>> 0;
    type Ready = { userdata: bigint; type: number; error: number; nbytes: bigint };
    const fdEvents: Ready[] = [];
    const clocks: { userdata: bigint; deadline: bigint; id: number; error: number }[] = [];
    for (let i = 0; i < n; i++) {
      const s = s0 + i * 48;
      const userdata = sv.getBigUint64(s, true);
      const tag = sv.getUint8(s + 8);
      if (tag === EVENT.CLOCK) {
        const id = sv.getUint32(s + 16, true);
        const timeout = sv.getBigUint64(s + 24, true);
        const flags = sv.getUint16(s + 40, true);
        let now: bigint;
        try {
          now = this.clockNow(id);
        } catch {
          clocks.push({ userdata, deadline: 0n, id, error: Errno.INVAL });
          continue;
        }
        const deadline = flags & 1 ? timeout : now + timeout;
        clocks.push({ userdata, deadline, id, error: 0 });
      } else if (tag === EVENT.FD_READ || tag === EVENT.FD_WRITE) {
        const f = this.fd(sv.getUint32(s + 16, true));
        let nbytes = 0n;
        let error = 0;
        if (tag === EVENT.FD_READ) {
          if (f.kind === "stdin") nbytes = BigInt(this.o.stdin.length - f.pos);
          else if (f.kind === "file") nbytes = BigInt(Math.max(0, f.node.size - f.pos));
          else error = f.kind === "dir" ? Errno.ISDIR : Errno.BADF;
        } else if (f.kind === "dir") error = Errno.ISDIR;
        else if (f.kind === "stdin") error = Errno.BADF;
        fdEvents.push({ userdata, type: tag, error, nbytes });
      } else throw new WasiError(Errno.INVAL);
    }
    const ready: Ready[] = [...fdEvents];
    const due = (c: (typeof clocks)[number]): boolean => c.error !== 0 || c.deadline <= this.clockNow(c.id === 0 ? 0 : 1);
    if (ready.length === 0 && !clocks.some(due)) {
      // Nothing is ready: sleep (in virtual time) until the earliest deadline.
      let wait: bigint | undefined;
      for (const c of clocks) {
        const left = c.deadline - this.clockNow(c.id === 0 ? 0 : 1);
        if (wait === undefined || left < wait) wait = left;
      }
      if (wait !== undefined && wait > 0n) this.slept = (this.slept + wait) & U64_MAX;
    }
    for (const c of clocks) if (due(c)) ready.push({ userdata: c.userdata, type: EVENT.CLOCK, error: c.error, nbytes: 0n });
    const e0 = events >>> 0;
    new Uint8Array(ev.buffer, e0, n * 32).fill(0);
    ready.forEach((r, i) => {
      const e = e0 + i * 32;
      ev.setBigUint64(e, r.userdata, true);
      ev.setUint16(e + 8, r.error, true);
      ev.setUint8(e + 10, r.type);
      ev.setBigUint64(e + 16, r.nbytes, true);
    });
    this.out32(out, ready.length);
  }

  /** The import object's `wasi_snapshot_preview1` namespace: every preview 1 name. */
  imports(): Record<string, (...a: never[]) => number> {
    const ns: Record<string, (...a: never[]) => number> = {};
    for (const name of WASI_FUNCTIONS) {
      const fn = this.impl[name];
      if (!fn) throw new Error(`WASI function ${name} has no implementation`);
      ns[name] = (...args: never[]) => {
        this.o.charge(COSTS.hostCallBase);
        try {
          fn(...args);
          return Errno.SUCCESS;
        } catch (e) {
          if (e instanceof WasiError) return e.errno;
          throw e;
        }
      };
    }
    return ns;
  }
}
