/**
 * Where agents announce their model updates: the `ModelUpdates` contract (CONTRACT-API.md) on
 * the chain, behind a small adapter so the federation logic does not care. `publish(provider,
 * contentHash, uri, samples, round)` is callable by the provider or an agent it authorised and
 * emits `ModelUpdatePublished(provider, agent, contentHash, uri, samples, round)`.
 * `InProcessBoard` keeps the same announcements in memory (tests, one-process simulations).
 */
import { Contract, type Provider, type Signer } from "ethers";
import { withRetry } from "./retry.js";

/** The contract's interface as the market's sketch names it; the merged Solidity is the truth. */
export const MODEL_UPDATES_ABI = [
  "function publish(address provider, bytes32 contentHash, string uri, uint64 samples, uint32 round)",
  "event ModelUpdatePublished(address indexed provider, address indexed agent, bytes32 contentHash, string uri, uint64 samples, uint32 round)",
] as const;

export interface UpdateAnnouncement {
  provider: string;
  contentHash: string;
  uri: string;
  samples: number;
  round: number;
}

export interface PublishedUpdate extends UpdateAnnouncement {
  /** who sent it (the provider or its agent) */
  agent: string;
  /** where it sits in the board's order (block number on chain, index in memory) */
  position: number;
}

export interface UpdateBoard {
  publish(u: UpdateAnnouncement): Promise<void>;
  /** Announcements from `from` on, and where to continue next time. */
  since(from: number): Promise<{ updates: PublishedUpdate[]; next: number }>;
}

/** The board in memory: the same contract in one process. */
export class InProcessBoard implements UpdateBoard {
  private readonly log: PublishedUpdate[] = [];

  /** A view of the board that publishes as `agent`. */
  as(agent: string): UpdateBoard {
    return {
      publish: async (u) => {
        this.log.push({ ...u, provider: u.provider.toLowerCase(), agent, position: this.log.length });
      },
      since: (from) => this.since(from),
    };
  }

  publish(u: UpdateAnnouncement): Promise<void> {
    return this.as("anonymous").publish(u);
  }

  async since(from: number): Promise<{ updates: PublishedUpdate[]; next: number }> {
    return { updates: this.log.slice(from), next: this.log.length };
  }
}

/** The board on chain: `ModelUpdates` at `address`. */
export class ChainBoard implements UpdateBoard {
  private readonly contract: Contract;

  constructor(
    address: string,
    private readonly provider: Provider,
    private readonly signer?: Signer,
  ) {
    this.contract = new Contract(address, MODEL_UPDATES_ABI, signer ?? provider);
  }

  async publish(u: UpdateAnnouncement): Promise<void> {
    if (!this.signer) throw new Error("publishing a model update needs the agent's key");
    const publish = this.contract.getFunction("publish");
    await (await publish(u.provider, u.contentHash, u.uri, u.samples, u.round)).wait();
  }

  async since(from: number): Promise<{ updates: PublishedUpdate[]; next: number }> {
    const latest = await withRetry(() => this.provider.getBlockNumber(), { label: "getBlockNumber" });
    if (latest < from) return { updates: [], next: from };
    const logs = await withRetry(() => this.contract.queryFilter(this.contract.filters.ModelUpdatePublished!(), from, latest), {
      label: "ModelUpdatePublished logs",
    });
    const updates: PublishedUpdate[] = [];
    for (const log of logs) {
      if (!("args" in log)) continue;
      const a = log.args;
      updates.push({
        provider: String(a.provider).toLowerCase(),
        agent: String(a.agent).toLowerCase(),
        contentHash: String(a.contentHash),
        uri: String(a.uri),
        samples: Number(a.samples),
        round: Number(a.round),
        position: log.blockNumber,
      });
    }
    return { updates, next: latest + 1 };
  }
}
