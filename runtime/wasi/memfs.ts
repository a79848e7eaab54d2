import { Errno, WasiError } from "./errno.js";

/*
 * The only file system a job sees: a tree of inodes the request provides, held in memory. Every
 * inode has its own number (assigned in creation order, so numbering is deterministic), hard links
 * share an inode, symlinks hold a relative or absolute target. Path resolution is capability-based as
 * in wasmtime (cap-std): a lookup starts at a directory descriptor and can never leave it, through
 * "..", an absolute path or a symlink (EPERM).
 */

export interface Times {
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}
export interface FileNode extends Times {
  kind: "file";
  ino: bigint;
  nlink: number;
  /** May have spare capacity beyond `size`. */
  data: Uint8Array;
  size: number;
}
export interface DirNode extends Times {
  kind: "dir";
  ino: bigint;
  entries: Map<string, Node>;
  /** The directory it sits in (the root is its own parent). */
  parent: DirNode;
  /** Removed from the tree (an open descriptor may still hold it). */
  removed: boolean;
}
export interface SymlinkNode extends Times {
  kind: "symlink";
  ino: bigint;
  nlink: number;
  target: string;
}
export type Node = FileNode | DirNode | SymlinkNode;

/** The outcome of resolving a path: the directory holding the last component, its name, and the node (if any). */
export interface Resolved {
  dir: DirNode;
  name: string;
  node: Node | undefined;
  /** The path ended in "/" (the last component must then be a directory). */
  trailingSlash: boolean;
}

/** Metadata bytes an inode or a directory entry counts against the tree's cap. */
const INODE_BYTES = 128;
const MAX_SYMLINK_HOPS = 40;
const MAX_PATH = 4096;

export class MemFs {
  readonly root: DirNode;
  private nextIno: bigint;
  private used = 0;

  constructor(
    initial: Record<string, Uint8Array>,
    private readonly capBytes: number,
    emptyDirs: readonly string[] = [],
    firstIno = 1n,
    private readonly now: () => bigint = () => 0n,
  ) {
    this.nextIno = firstIno;
    const t = this.now();
    const root = { kind: "dir", ino: this.nextIno++, entries: new Map(), removed: false, atim: t, mtim: t, ctim: t } as unknown as DirNode;
    root.parent = root;
    this.root = root;
    for (const dir of [...emptyDirs].sort()) this.mkdirs(normalizeBundlePath(dir).split("/"));
    for (const path of Object.keys(initial).sort()) {
      const parts = normalizeBundlePath(path).split("/");
      const parent = this.mkdirs(parts.slice(0, -1));
      const name = parts[parts.length - 1]!;
      if (parent.entries.has(name)) throw new Error(`bundle path "${path}" is both a file and a directory`);
      const data = initial[path]!;
      const f = this.newFile();
      f.data = data.slice();
      f.size = data.length;
      this.link(parent, name, f);
      this.used += data.length;
    }
  }

  private mkdirs(parts: string[]): DirNode {
    let d = this.root;
    for (const p of parts) {
      const next = d.entries.get(p);
      if (next && next.kind !== "dir") throw new Error(`bundle path component "${p}" is both a file and a directory`);
      d = next ?? this.newDir(d, p);
    }
    return d;
  }

  private times(): Times {
    const t = this.now();
    return { atim: t, mtim: t, ctim: t };
  }

  private account(bytes: number): void {
    if (this.used + bytes > this.capBytes) throw new WasiError(Errno.NOSPC);
    this.used += bytes;
  }

  newFile(): FileNode {
    this.account(INODE_BYTES);
    return { kind: "file", ino: this.nextIno++, nlink: 0, data: new Uint8Array(0), size: 0, ...this.times() };
  }

  newDir(parent: DirNode, name: string): DirNode {
    this.account(INODE_BYTES);
    const d: DirNode = { kind: "dir", ino: this.nextIno++, entries: new Map(), parent, removed: false, ...this.times() };
    this.link(parent, name, d);
    return d;
  }

  newSymlink(parent: DirNode, name: string, target: string): SymlinkNode {
    this.account(INODE_BYTES + Buffer.byteLength(target));
    const s: SymlinkNode = { kind: "symlink", ino: this.nextIno++, nlink: 0, target, ...this.times() };
    this.link(parent, name, s);
    return s;
  }

  /** Adds a directory entry (the caller has checked the name is free). */
  link(dir: DirNode, name: string, node: Node): void {
    if (dir.removed) throw new WasiError(Errno.NOENT);
    this.account(Buffer.byteLength(name) + 16);
    dir.entries.set(name, node);
    if (node.kind !== "dir") node.nlink++;
    else node.parent = dir;
    this.touch(dir);
  }

  /** Removes a directory entry; the inode lives on while a descriptor holds it. */
  unlinkEntry(dir: DirNode, name: string): void {
    const node = dir.entries.get(name);
    if (!node) throw new WasiError(Errno.NOENT);
    dir.entries.delete(name);
    this.used -= Buffer.byteLength(name) + 16;
    if (node.kind === "dir") {
      node.removed = true;
      this.used -= INODE_BYTES;
    } else if (--node.nlink === 0) {
      this.used -= INODE_BYTES + (node.kind === "file" ? node.size : Buffer.byteLength(node.target));
      if (node.kind === "file") node.size = 0;
    }
    this.touch(dir);
  }

  /** Moves a directory entry (rename): the inode and its link count stay as they are. */
  move(from: DirNode, fromName: string, to: DirNode, toName: string): void {
    const node = from.entries.get(fromName);
    if (!node) throw new WasiError(Errno.NOENT);
    if (to.removed) throw new WasiError(Errno.NOENT);
    this.account(Buffer.byteLength(toName) - Buffer.byteLength(fromName));
    from.entries.delete(fromName);
    to.entries.set(toName, node);
    if (node.kind === "dir") node.parent = to;
    this.touch(from);
    this.touch(to);
  }

  touch(node: Node): void {
    const t = this.now();
    node.mtim = t;
    node.ctim = t;
  }

  /** Number of links: a directory has "." and its entry in the parent, plus each subdirectory's "..". */
  nlink(node: Node): number {
    if (node.kind !== "dir") return node.nlink;
    let n = 2;
    for (const c of node.entries.values()) if (c.kind === "dir") n++;
    return n;
  }

  size(node: Node): number {
    return node.kind === "file" ? node.size : node.kind === "symlink" ? Buffer.byteLength(node.target) : 4096;
  }

  /**
   * Resolves `path` from the directory `base`. Intermediate symlinks are always followed, the last one
   * only when `followLast`. Nothing may leave `base`: ".." above it, absolute paths and symlinks that
   * point outside are EPERM. A missing last component is not an error (node is undefined).
   */
  resolve(base: DirNode, path: string, followLast: boolean): Resolved {
    if (path.length === 0) throw new WasiError(Errno.NOENT);
    if (path.length > MAX_PATH) throw new WasiError(Errno.NAMETOOLONG);
    if (path.includes("\0")) throw new WasiError(Errno.INVAL);
    if (path.startsWith("/")) throw new WasiError(Errno.PERM);
    // The walk keeps the chain of directories from `base`, so ".." never goes above it.
    const stack: DirNode[] = [base];
    let parts = path.split("/");
    let trailingSlash = path.endsWith("/");
    let hops = 0;
    for (;;) {
      // Drop empty and "." components except that a trailing "/" must be remembered.
      const comps = parts.filter((p) => p !== "" && p !== ".");
      let i = 0;
      let restarted = false;
      for (; i < comps.length; i++) {
        const c = comps[i]!;
        const dir = stack[stack.length - 1]!;
        const last = i === comps.length - 1;
        if (Buffer.byteLength(c) > 255) throw new WasiError(Errno.NAMETOOLONG);
        if (c === "..") {
          if (stack.length === 1) throw new WasiError(Errno.PERM);
          stack.pop();
          continue;
        }
        const node = dir.entries.get(c);
        if (last) {
          if (node?.kind === "symlink" && (followLast || trailingSlash)) {
            ({ parts, restarted } = this.hop(node, comps, i, ++hops));
            // A link to "dir/" names a directory just as a trailing slash does.
            if (node.target.endsWith("/")) trailingSlash = true;
            break;
          }
          return { dir, name: c, node, trailingSlash };
        }
        if (!node) throw new WasiError(Errno.NOENT);
        if (node.kind === "symlink") {
          ({ parts, restarted } = this.hop(node, comps, i, ++hops));
          break;
        }
        if (node.kind !== "dir") throw new WasiError(Errno.NOTDIR);
        stack.push(node);
      }
      if (restarted) continue;
      // The path named a directory on the stack itself ("", ".", "a/..").
      const dir = stack[stack.length - 1]!;
      return { dir: dir.parent, name: ".", node: dir, trailingSlash: true };
    }
  }

  /** Splices a symlink's target in place of component i. */
  private hop(link: SymlinkNode, comps: string[], i: number, hops: number): { parts: string[]; restarted: boolean } {
    if (hops > MAX_SYMLINK_HOPS) throw new WasiError(Errno.LOOP);
    if (link.target.startsWith("/")) throw new WasiError(Errno.PERM);
    if (link.target === "") throw new WasiError(Errno.NOENT);
    // Components before i are already on the stack: the rest of the walk restarts from there.
    return { parts: [...link.target.split("/"), ...comps.slice(i + 1)], restarted: true };
  }

  /** Sets a file's size (truncate or zero-extend), within the tree's byte cap. */
  resize(f: FileNode, size: number): void {
    if (size > f.size) this.account(size - f.size);
    else this.used -= f.size - size;
    if (size > f.data.length) {
      const next = new Uint8Array(Math.max(size, Math.min(f.data.length * 2, size + (64 << 20)), 64));
      next.set(f.data.subarray(0, f.size));
      f.data = next;
    } else if (size < f.size) f.data.fill(0, size, f.size);
    f.size = size;
  }

  write(f: FileNode, pos: number, bytes: Uint8Array): void {
    if (pos + bytes.length > f.size) this.resize(f, pos + bytes.length);
    f.data.set(bytes, pos);
    this.touch(f);
  }

  /** The node at a bundle path (for reading outputs), following no symlinks. */
  lookup(path: string): Node | undefined {
    let node: Node = this.root;
    for (const p of path.split("/")) {
      if (node.kind !== "dir") return undefined;
      const next: Node | undefined = node.entries.get(p);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }
}

/** Checks a path from an input bundle: relative, no empty, `.` or `..` segments. */
export function normalizeBundlePath(path: string): string {
  if (path === "" || path.startsWith("/") || path.endsWith("/"))
    throw new Error(`bundle path "${path}" must be relative, non-empty and not end in /`);
  for (const seg of path.split("/"))
    if (seg === "" || seg === "." || seg === "..") throw new Error(`bundle path "${path}" has an empty, . or .. segment`);
  if (path.includes("\0")) throw new Error(`bundle path "${path}" contains a NUL byte`);
  return path;
}
