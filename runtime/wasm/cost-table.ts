/**
 * The metering version names this exact cost table, instrumentation scheme, memory accounting and
 * NaN canonicalisation (runtime/wasm/METERING.md). Every usage report carries it; a verifier must use
 * the same version to get the same fuel. Bump it on any change here or in how instructions are
 * grouped into metered blocks.
 *
 * Version 1: the first scheme (signed host-call lengths, flat table costs, tables not counted).
 * Version 2: unsigned, bounds-checked host-call lengths charged after the check; bulk memory charged
 * only when in bounds; table.grow/fill/copy/init charged per element; tables, data and element segments
 * count against the job's memory limit; SIMD float results and scalars entering SIMD lanes
 * canonicalised; virtual time advances when poll_oneoff sleeps.
 */
export const METERING_VERSION = 2;

/**
 * The versions this host can run. Only the current one: a request fixes its version from the ones
 * hosts advertise, and an older scheme is not kept runnable (it could be minted, see version 2).
 */
export const SUPPORTED_METERING_VERSIONS: readonly number[] = [METERING_VERSION];

/** Static and dynamic fuel costs, in fuel units. */
export const COSTS = {
  /** Most instructions. `block`, `loop`, `end` and `nop` are free. */
  instruction: 1,
  division: 4,
  branchTable: 2,
  call: 5,
  callIndirect: 8,
  /** table.fill / table.copy / table.init: a base, then per element written. */
  tableBulkBase: 5,
  tableBulkPerElement: 1,
  /** table.grow: a base, then per new element (allocated and initialised). */
  tableGrowBase: 10,
  tableGrowPerElement: 4,
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

/** What counts against a job's memory limit (bytes), before and while it runs. */
export const MEMORY_ACCOUNTING = {
  pageBytes: 65536,
  /** A funcref/externref table entry as V8 holds it (the reference plus its dispatch-table entry). */
  tableEntryBytes: 32,
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
