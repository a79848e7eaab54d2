/**
 * Federated learning in the live agent. On each tick: once the agent's own retraining produced a
 * new model, it publishes the weights (never its outcomes) as a content-addressed file and
 * announces the hash on the update board (the `ModelUpdates` contract); on a schedule it reads
 * its peers' latest announcements, fetches each file, checks it hashes to what was announced,
 * and merges them with its own model (federated.ts: validated, outliers rejected, clipped,
 * trimmed, weighted by samples). The merged model replaces the live one in one assignment.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { keccak256, toUtf8Bytes } from "ethers";
import type { ExplanationStore } from "./explanations.js";
import { aggregate, type AggregateOptions, type WeightUpdate } from "./federated.js";
import { MatchModel, type ModelFile } from "./model.js";
import type { OnlineTrainer } from "./online-trainer.js";
import type { PublishedUpdate, UpdateBoard } from "./update-board.js";

export interface FederationOptions {
  board: UpdateBoard;
  /** where this agent's updates are stored (an ExplanationStore of kind "model-updates") */
  store: ExplanationStore;
  /** the provider the agent publishes for */
  provider: string;
  trainer: OnlineTrainer;
  /** merge the peers' updates this often, in ms */
  mergeEveryMs: number;
  /** the URL the store is served under (its files are then announced as `<baseUrl>/model-updates/<hash>`); default file:// */
  baseUrl?: string;
  aggregate?: Partial<AggregateOptions>;
  /** largest update file fetched, in bytes */
  maxBytes?: number;
  log?: (message: string) => void;
}

/** Reads an announced update and checks it is the file the hash names. */
export async function fetchUpdate(u: Pick<PublishedUpdate, "uri" | "contentHash">, maxBytes = 4 << 20): Promise<ModelFile> {
  let text: string;
  if (u.uri.startsWith("file:")) {
    text = await readFile(fileURLToPath(u.uri), "utf8");
  } else if (/^https?:\/\//.test(u.uri)) {
    const res = await fetch(u.uri, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${u.uri}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    throw new Error(`unsupported update URI ${u.uri}`);
  }
  if (text.length > maxBytes) throw new Error(`${u.uri} is ${text.length} bytes, more than ${maxBytes}`);
  const hash = keccak256(toUtf8Bytes(text));
  if (hash !== u.contentHash.toLowerCase()) throw new Error(`${u.uri} hashes to ${hash}, the board announced ${u.contentHash}`);
  return JSON.parse(text) as ModelFile;
}

export class Federation {
  private cursor = 0;
  private publishedGeneration = 0;
  private round = 0;
  private lastMergeAt = -Infinity;
  /** the latest announcement per peer provider */
  private readonly latest = new Map<string, PublishedUpdate>();
  private readonly fetched = new Map<string, ModelFile>();
  private readonly o: FederationOptions;
  /** merges done, and what the last one accepted and rejected */
  merges = 0;
  lastMerge: { accepted: string[]; rejected: { from: string; reason: string }[] } | undefined;

  constructor(options: FederationOptions) {
    this.o = options;
  }

  private get log() {
    return this.o.log ?? (() => {});
  }

  /** Publishes the agent's model if its own training moved it since the last publication. */
  async publishIfNew(): Promise<string | undefined> {
    const t = this.o.trainer;
    if (t.generation <= this.publishedGeneration || t.samples === 0) return undefined;
    const hash = this.o.store.put(t.model.file);
    const uri = this.o.baseUrl ? `${this.o.baseUrl}/${this.o.store.kind}/${hash}` : pathToFileURL(this.o.store.pathOf(hash)).href;
    this.round++;
    await this.o.board.publish({ provider: this.o.provider, contentHash: hash, uri, samples: t.samples, round: this.round });
    this.publishedGeneration = t.generation;
    this.log(`published model update ${hash} (round ${this.round}, ${t.samples} outcomes)`);
    return hash;
  }

  /** Merges the peers' latest updates into the live model; returns whether the model changed. */
  async merge(): Promise<boolean> {
    const { updates, next } = await this.o.board.since(this.cursor);
    this.cursor = next;
    const own = this.o.provider.toLowerCase();
    for (const u of updates) {
      if (u.provider === own) continue;
      const seen = this.latest.get(u.provider);
      if (!seen || u.round > seen.round || (u.round === seen.round && u.position > seen.position)) this.latest.set(u.provider, u);
    }
    const peers: WeightUpdate[] = [];
    const rejected: { from: string; reason: string }[] = [];
    for (const u of this.latest.values()) {
      let file = this.fetched.get(u.contentHash);
      if (!file) {
        try {
          file = await fetchUpdate(u, this.o.maxBytes);
          this.fetched.set(u.contentHash, file);
        } catch (error) {
          rejected.push({ from: u.provider, reason: (error as Error).message });
          continue;
        }
      }
      peers.push({ from: u.provider, samples: u.samples, file });
    }
    if (peers.length === 0) {
      this.lastMerge = { accepted: [], rejected };
      return false;
    }
    const mine = this.o.trainer.model.file;
    const result = aggregate(mine, [{ from: own, samples: Math.max(1, this.o.trainer.samples), file: mine }, ...peers], this.o.aggregate);
    rejected.push(...result.rejected);
    this.lastMerge = { accepted: result.accepted, rejected };
    for (const r of rejected) this.log(`model update of ${r.from} rejected: ${r.reason}`);
    if (result.accepted.length < 2) return false;
    if (!this.o.trainer.adopt(MatchModel.fromFile({ ...result.file, trainedOn: mine.trainedOn }))) {
      // A retraining that started meanwhile would overwrite the merge: try again on the next tick.
      this.lastMergeAt = -Infinity;
      return false;
    }
    this.merges++;
    this.log(`merged the model with ${result.accepted.length - 1} peers' updates`);
    return true;
  }

  /** One scheduled step: publish what is new, and merge when the schedule says so. */
  async tick(nowMs = performance.now()): Promise<void> {
    await this.publishIfNew();
    if (nowMs - this.lastMergeAt < this.o.mergeEveryMs) return;
    this.lastMergeAt = nowMs;
    await this.merge();
  }
}
