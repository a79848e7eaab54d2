/**
 * The metering version names this exact cost table and instrumentation scheme. Every usage report
 * carries it; a verifier must use the same version to get the same fuel. Bump it on any change here
 * or in how instructions are grouped into metered blocks.
 */
export const METERING_VERSION = 1;

/** Static and dynamic fuel costs, in fuel units. */
export const COSTS = {
  /** Most instructions. `block`, `loop`, `end` and `nop` are free. */
  instruction: 1,
  division: 4,
  branchTable: 2,
  call: 5,
  callIndirect: 8,
  tableBulk: 16,
  tableGrow: 64,
  memoryGrowBase: 10,
  /** A new page must be zeroed: 64 KiB. */
  memoryGrowPerPage: 1024,
  bulkMemoryBase: 5,
  /** memory.copy/fill/init cost 1 fuel per 8 bytes (bytes >> 3). */
  bulkMemoryBytesShift: 3,
  hostCallBase: 50,
  /** Host calls cost 1 fuel per byte they read or write. */
  hostCallPerByte: 1,
} as const;

/** Logical stack accounting: a frame costs overhead + params + locals + an operand-stack bound. */
export const STACK = {
  frameOverhead: 4,
  /** In 8-byte slots; the job's thread has a far larger native stack, so this is always hit first. */
  limitUnits: 1_000_000,
} as const;

/** Virtual clocks: nanoseconds that pass per fuel unit, from a fixed epoch (2024-01-01T00:00:00Z). */
export const CLOCK = {
  nsPerFuel: 1n,
  epochNs: 1_704_067_200_000_000_000n,
} as const;
