import { Errno, WasiError } from "./errno.js";

/** A regular file in the in-memory tree; `data` may have spare capacity beyond `size`. */
export interface MemFile {
  data: Uint8Array;
  size: number;
}

/**
 * The only file system a job sees: a tree the request provides, held in memory. Paths are
 * normalised segment by segment and can never leave the root, so there is nothing to escape to.
 */
export class MemFs {
  readonly files = new Map<string, MemFile>();
  readonly dirs = new Set<string>([""]);
  private used = 0;

  constructor(
    initial: Record<string, Uint8Array>,
    private readonly capBytes: number,
  ) {
    for (const [path, data] of Object.entries(initial)) {
      const p = normalizeBundlePath(path);
      this.files.set(p, { data: data.slice(), size: data.length });
      this.used += data.length;
      for (let d = parent(p); d !== ""; d = parent(d)) this.dirs.add(d);
    }
  }

  /** Resolves `path` relative to directory `base`; absolute paths and `..` above the root are not capable. */
  resolve(base: string, path: string): string {
    if (path.startsWith("/")) throw new WasiError(Errno.NOTCAPABLE);
    if (path.length > 4096) throw new WasiError(Errno.NAMETOOLONG);
    const parts = base === "" ? [] : base.split("/");
    for (const seg of path.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        if (parts.length === 0) throw new WasiError(Errno.NOTCAPABLE);
        parts.pop();
      } else parts.push(seg);
    }
    return parts.join("/");
  }

  isDir(path: string): boolean {
    return this.dirs.has(path);
  }

  create(path: string): MemFile {
    if (!this.dirs.has(parent(path))) throw new WasiError(Errno.NOENT);
    if (this.dirs.has(path)) throw new WasiError(Errno.ISDIR);
    const f: MemFile = { data: new Uint8Array(0), size: 0 };
    this.files.set(path, f);
    return f;
  }

  mkdir(path: string): void {
    if (this.dirs.has(path) || this.files.has(path)) throw new WasiError(Errno.EXIST);
    if (!this.dirs.has(parent(path))) throw new WasiError(Errno.NOENT);
    this.dirs.add(path);
  }

  unlink(path: string): void {
    const f = this.files.get(path);
    if (!f) throw new WasiError(this.dirs.has(path) ? Errno.ISDIR : Errno.NOENT);
    this.used -= f.size;
    this.files.delete(path);
  }

  rmdir(path: string): void {
    if (path === "" || !this.dirs.has(path)) throw new WasiError(Errno.NOENT);
    const prefix = path + "/";
    for (const k of [...this.files.keys(), ...this.dirs]) if (k.startsWith(prefix)) throw new WasiError(Errno.NOTEMPTY);
    this.dirs.delete(path);
  }

  /** Renames a file (replacing a file at the destination) or an empty directory. */
  rename(from: string, to: string): void {
    if (!this.dirs.has(parent(to))) throw new WasiError(Errno.NOENT);
    const f = this.files.get(from);
    if (f) {
      if (this.dirs.has(to)) throw new WasiError(Errno.ISDIR);
      const old = this.files.get(to);
      if (old && old !== f) this.used -= old.size;
      this.files.delete(from);
      this.files.set(to, f);
      return;
    }
    if (!this.dirs.has(from) || from === "") throw new WasiError(Errno.NOENT);
    if (this.files.has(to) || this.dirs.has(to)) throw new WasiError(Errno.EXIST);
    const prefix = from + "/";
    for (const k of [...this.files.keys(), ...this.dirs]) if (k.startsWith(prefix)) throw new WasiError(Errno.NOTEMPTY);
    this.dirs.delete(from);
    this.dirs.add(to);
  }

  /** Sets a file's size (truncate or zero-extend), within the tree's byte cap. */
  resize(f: MemFile, size: number): void {
    if (size > f.size && this.used + (size - f.size) > this.capBytes) throw new WasiError(Errno.NOSPC);
    if (size > f.data.length) {
      const next = new Uint8Array(Math.max(size, f.data.length * 2, 64));
      next.set(f.data.subarray(0, f.size));
      f.data = next;
    } else if (size < f.size) f.data.fill(0, size, f.size);
    this.used += size - f.size;
    f.size = size;
  }

  write(f: MemFile, pos: number, bytes: Uint8Array): void {
    if (pos + bytes.length > f.size) this.resize(f, pos + bytes.length);
    f.data.set(bytes, pos);
  }
}

export function parent(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Checks a path from an input bundle: relative, no empty, `.` or `..` segments. */
export function normalizeBundlePath(path: string): string {
  if (path === "" || path.startsWith("/") || path.endsWith("/"))
    throw new Error(`bundle path "${path}" must be relative, non-empty and not end in /`);
  for (const seg of path.split("/"))
    if (seg === "" || seg === "." || seg === "..") throw new Error(`bundle path "${path}" has an empty, . or .. segment`);
  return path;
}
