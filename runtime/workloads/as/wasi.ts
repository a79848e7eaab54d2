// Minimal WASI bindings for the AssemblyScript workloads.
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, n: u32, written: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(code: u32): void;
@external("wasi_snapshot_preview1", "args_sizes_get")
declare function args_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "args_get")
declare function args_get(argv: usize, buf: usize): u16;

export function print(s: string): void {
  const bytes = String.UTF8.encode(s);
  const iov = new ArrayBuffer(8);
  const out = new ArrayBuffer(4);
  store<u32>(changetype<usize>(iov), changetype<usize>(bytes));
  store<u32>(changetype<usize>(iov) + 4, bytes.byteLength);
  fd_write(1, changetype<usize>(iov), 1, changetype<usize>(out));
}

/** argv[1] as an integer, or the default. */
export function scaleArg(dflt: i32): i32 {
  const sizes = new ArrayBuffer(8);
  args_sizes_get(changetype<usize>(sizes), changetype<usize>(sizes) + 4);
  const argc = load<u32>(changetype<usize>(sizes));
  if (argc < 2) return dflt;
  const ptrs = new ArrayBuffer(argc * 4);
  const buf = new ArrayBuffer(load<u32>(changetype<usize>(sizes) + 4));
  args_get(changetype<usize>(ptrs), changetype<usize>(buf));
  const p = load<u32>(changetype<usize>(ptrs) + 4);
  let n: i32 = 0;
  for (let i: u32 = 0; ; i++) {
    const c = load<u8>(p + i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

export function abortHandler(msg: string | null, file: string | null, line: u32, col: u32): void {
  proc_exit(134);
}
