import type { Result } from "ethers";
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
  args: Result;
  at: LogPosition;
  store: EntityStore;
}

export type Handler = (ctx: EventContext) => void;

/** Entity ids of addresses are lower-case hex, as in graph-node. */
export function addressId(value: unknown): string {
  return String(value).toLowerCase();
}

export function bigintArg(args: Result, name: string): bigint {
  return BigInt(args.getValue(name) as bigint);
}

export function numberArg(args: Result, name: string): number {
  return Number(args.getValue(name) as bigint);
}

export function stringArg(args: Result, name: string): string {
  return String(args.getValue(name));
}

export function boolArg(args: Result, name: string): boolean {
  return Boolean(args.getValue(name));
}
