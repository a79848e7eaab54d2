/** WASI preview 1 errno values the host returns. */
export const Errno = {
  SUCCESS: 0,
  BADF: 8,
  EXIST: 20,
  FBIG: 22,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;

/** Thrown by a host function to return an errno to the guest. */
export class WasiError extends Error {
  constructor(readonly errno: number) {
    super(`WASI errno ${errno}`);
  }
}
