import type { EventArgs } from "./abi-decoder.js";
import type { EntityStore } from "./entity-store.js";
import { isIgnoredEvent, type WatchedContract } from "./events.js";
import type { Checkpoint } from "./database.js";

/** The fields of an RPC log the indexer reads (ethers `Log` has them all). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  index: number;
}

/** The logs of one block, in log-index order. */
export interface BlockLogs {
  block: Checkpoint;
  logs: RawLog[];
}

export type Warn = (message: string) => void;

function describe(log: RawLog): string {
  return `log ${log.index} of tx ${log.transactionHash} in block ${log.blockNumber} from ${log.address}`;
}

/**
 * Decodes each log and runs its handler against the store. A log no watched contract explains,
 * or one whose handler rejects it, is skipped with a warning that names it; the rest go on.
 * Returns the number of logs applied.
 */
export function applyBlocks(
  store: EntityStore,
  contracts: Map<string, WatchedContract>,
  blocks: BlockLogs[],
  warn: Warn,
): number {
  let applied = 0;
  for (const { block, logs } of blocks) {
    store.beginBlock(block);
    for (const log of logs) {
      const contract = contracts.get(log.address.toLowerCase());
      if (!contract) {
        warn(`skipping ${describe(log)}: not a watched contract`);
        continue;
      }
      const decoder = contract.decoders.get((log.topics[0] ?? "").toLowerCase());
      if (!decoder) {
        warn(`skipping ${describe(log)}: topic ${log.topics[0] ?? "(none)"} is no ${contract.name} event`);
        continue;
      }
      const parsed = { name: decoder.name, args: {} as EventArgs };
      try {
        parsed.args = decoder.decode(log.topics, log.data);
      } catch (error) {
        warn(`skipping ${describe(log)}: cannot decode it as ${contract.name}.${decoder.name} (${(error as Error).message})`);
        continue;
      }
      const handler = contract.handlers[parsed.name];
      if (!handler) {
        if (!isIgnoredEvent(parsed.name)) warn(`skipping ${describe(log)}: no handler for ${contract.name}.${parsed.name}`);
        continue;
      }
      const at = {
        blockNumber: block.number,
        blockHash: block.hash,
        timestamp: block.timestamp,
        txHash: log.transactionHash.toLowerCase(),
        logIndex: log.index,
      };
      try {
        store.applyLog(() => handler({ args: parsed.args, at, store }));
        applied++;
      } catch (error) {
        warn(`skipping ${describe(log)} (${contract.name}.${parsed.name}): ${(error as Error).message}`);
      }
    }
  }
  return applied;
}
