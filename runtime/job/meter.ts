import { MemoryFlag, METER_EXPORTS, TrapStatus } from "../wasm/instrument.js";

/** Thrown by a host call that would take the job past its fuel: the job ends OutOfFuel. */
export class FuelExhausted extends Error {
  override name = "FuelExhausted";
  constructor() {
    super("out of fuel in a host call");
  }
}

/**
 * The metering state of one instrumented instance, as the host sees it: fuel (counts down from the
 * job's limit), the memory budget, the status and memory flags the helpers set, the logical stack depth.
 */
export class Meter {
  private readonly fuel: WebAssembly.Global;
  private readonly status: WebAssembly.Global;
  private readonly flags: WebAssembly.Global;
  private readonly depth: WebAssembly.Global;
  private readonly budget: WebAssembly.Global;

  constructor(
    exports: Record<string, unknown>,
    readonly limit: bigint,
    budgetBytes: number,
  ) {
    const g = (name: string): WebAssembly.Global => {
      const x = exports[name];
      if (!(x instanceof WebAssembly.Global)) throw new Error(`instrumented module lacks ${name}`);
      return x;
    };
    this.fuel = g(METER_EXPORTS.fuel);
    this.status = g(METER_EXPORTS.status);
    this.flags = g(METER_EXPORTS.memoryFlags);
    this.depth = g(METER_EXPORTS.depth);
    this.budget = g(METER_EXPORTS.budget);
    this.fuel.value = limit;
    this.budget.value = BigInt(budgetBytes);
  }

  /** Fuel left; negative once a block charged past the limit. */
  left(): bigint {
    return this.fuel.value as bigint;
  }

  used(): bigint {
    return this.limit - this.left();
  }

  /**
   * Charges a host call. Amounts are non-negative integers by construction (lengths are read unsigned
   * and checked against memory first); anything else is a host bug and must never reach the meter.
   */
  charge(fuel: number): void {
    if (!Number.isSafeInteger(fuel) || fuel < 0) throw new Error(`meter: refusing to charge ${fuel} fuel (must be a non-negative integer)`);
    const left = (this.fuel.value as bigint) - BigInt(fuel);
    this.fuel.value = left;
    if (left < 0n) {
      this.status.value = TrapStatus.OutOfFuel;
      throw new FuelExhausted();
    }
  }

  trapStatus(): number {
    return this.status.value as number;
  }

  limitReached(): boolean {
    return ((this.flags.value as number) & MemoryFlag.LimitReached) !== 0;
  }

  engineRefused(): boolean {
    return ((this.flags.value as number) & MemoryFlag.EngineRefused) !== 0;
  }

  /**
   * Calls into the instance. A trap unwinds past the frame exits that would have restored the logical
   * stack depth, so it is put back here (and the status cleared) for the instance to be called again.
   */
  call<T>(fn: () => T): T {
    const depth = this.depth.value as number;
    try {
      return fn();
    } finally {
      this.depth.value = depth;
    }
  }

  /** Clears the trap status before another call into a reused instance. */
  clearStatus(): void {
    this.status.value = TrapStatus.None;
  }
}
