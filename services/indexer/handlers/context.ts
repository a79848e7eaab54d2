import type { EventArgs } from "../abi-decoder.js";
import type { EntityStore } from "../entity-store.js";

/** Where a log sits on the chain. */
export interface LogPosition {
  blockNumber: number;
  blockHash: string;
  timestamp: number;
  txHash: string;
  logIndex: number;
}

/** What a handler gets: the decoded event, its position and the entities. */
export interface EventContext {
  args: EventArgs;
  at: LogPosition;
  store: EntityStore;
}

export type Handler = (ctx: EventContext) => void;

/** Entity ids of addresses are lower-case hex, as in graph-node. */
export function addressId(value: unknown): string {
  return String(value).toLowerCase();
}

function arg(args: EventArgs, name: string): unknown {
  const value = args[name];
  if (value === undefined) throw new Error(`the event has no argument ${name}`);
  return value;
}

export function bigintArg(args: EventArgs, name: string): bigint {
  return BigInt(arg(args, name) as bigint);
}

export function numberArg(args: EventArgs, name: string): number {
  return Number(arg(args, name) as bigint);
}

export function stringArg(args: EventArgs, name: string): string {
  return String(arg(args, name));
}

export function boolArg(args: EventArgs, name: string): boolean {
  return Boolean(arg(args, name));
}
