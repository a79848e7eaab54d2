import { AbiCoder, Interface, keccak256, type EventFragment, type InterfaceAbi } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";
import type { BlockInput, RawLog } from "../../services/indexer/mapping/subgraph-runner.js";

/**
 * A synthetic market as raw event logs, block by block: what the chain would emit for `agreements`
 * deployments (posted, bid on twice, awarded, reported and settled; some breached, some disputed).
 * The logs are ABI-encoded like real ones, so the indexer decodes and handles them unchanged.
 */

export const ADDRESSES = {
  registry: "0x00000000000000000000000000000000000000a1",
  offers: "0x00000000000000000000000000000000000000a2",
  market: "0x00000000000000000000000000000000000000a3",
  court: "0x00000000000000000000000000000000000000a4",
  models: "0x00000000000000000000000000000000000000a5",
};

/** Encodes events like ethers' `encodeEventLog`, without hashing per call (generation is not what is measured). */
class LeanEncoder {
  private readonly events = new Map<string, EventFragment>();
  private readonly topics = new Map<string, string>();
  constructor(abi: InterfaceAbi) {
    new Interface(abi).forEachEvent((f) => {
      this.events.set(f.name, f);
      this.topics.set(f.name, f.topicHash); // a getter that hashes on every call
    });
  }

  encodeEventLog(name: string, values: unknown[]): { topics: string[]; data: string } {
    const f = this.events.get(name)!;
    const topics = [this.topics.get(name)!];
    const head: string[] = [];
    const tail: string[] = [];
    const plainCount = f.inputs.filter((p) => !p.indexed).length;
    f.inputs.forEach((p, i) => {
      const v = values[i];
      if (p.type === "string") {
        const bytes = Buffer.from(String(v), "utf8");
        head.push(((plainCount + tail.join("").length / 64) * 32).toString(16).padStart(64, "0"));
        const body = bytes.toString("hex");
        tail.push(bytes.length.toString(16).padStart(64, "0") + body.padEnd(Math.ceil(body.length / 64) * 64, "0"));
        return;
      }
      let w: string;
      if (p.type === "address") w = String(v).slice(2).toLowerCase().padStart(64, "0");
      else if (p.type === "bool") w = (v ? "1" : "0").padStart(64, "0");
      else if (p.type === "bytes32") w = String(v).slice(2).padEnd(64, "0");
      else w = BigInt(v as bigint).toString(16).padStart(64, "0");
      if (p.indexed) topics.push("0x" + w);
      else head.push(w);
    });
    return { topics, data: "0x" + head.join("") + tail.join("") };
  }
}

const registry = new LeanEncoder(abiOf("ProviderRegistry") as InterfaceAbi);
const offers = new LeanEncoder(abiOf("OfferBook") as InterfaceAbi);
const market = new LeanEncoder(abiOf("TroupeMarket") as InterfaceAbi);
const court = new LeanEncoder(abiOf("VerifierCourt") as InterfaceAbi);
const TOKEN = 10n ** 18n;
const ZERO32 = "0x" + "00".repeat(32);

const address = (n: number) => "0x" + n.toString(16).padStart(40, "0");
const hash = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const claimKey = (fuel: bigint, output: string) => keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "bytes32"], [fuel, output]));

/** A small deterministic PRNG, so every run ingests the same market. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface SyntheticMarket {
  providers: string[];
  /** Yields blocks of logs; `agreements` deployments spread over `days`. */
  blocks(): Generator<BlockInput>;
}

export function syntheticMarket(opts: { providers: number; agreements: number; days: number; perBlock: number; start: number }): SyntheticMarket {
  const providers = [...Array(opts.providers).keys()].map((i) => address(0x1000 + i));
  const consumers = [...Array(50).keys()].map((i) => address(0x9000 + i));
  const rand = random(42);
  const verifiers = [...Array(5).keys()].map((i) => address(0x7000 + i));
  const rep = providers.map(() => ({ open: 0, exposure: 0n }));

  function* blocks(): Generator<BlockInput> {
    let number = 1;
    let logIndex = 0;
    let logs: RawLog[] = [];
    const secondsPerAgreement = Math.max(1, Math.floor((opts.days * 86_400) / opts.agreements));
    let timestamp = opts.start;
    const emit = (addr: string, encoded: { topics: string[]; data: string }) => {
      logs.push({ address: addr, ...encoded, blockNumber: number, blockHash: hash(number), transactionHash: hash(1e9 + number * 1000 + logIndex), index: logIndex++ });
    };
    const cut = function* (): Generator<BlockInput> {
      if (logs.length === 0) return;
      yield { block: { number, hash: hash(number), parentHash: hash(number - 1), timestamp }, logs };
      number++;
      logIndex = 0;
      logs = [];
    };
    // IProviderRegistry.Outcome: 0 completed, 1 breached, 2 dispute won, 3 dispute lost.
    const opened = (i: number, reserve: bigint) => {
      const r = rep[i]!;
      r.open++;
      r.exposure += reserve;
      emit(ADDRESSES.registry, registry.encodeEventLog("AgreementOpened", [providers[i], reserve, r.exposure, r.open]));
    };
    const closed = (i: number, outcome: number, reserve: bigint, value: bigint) => {
      const r = rep[i]!;
      r.open--;
      r.exposure -= reserve;
      emit(ADDRESSES.registry, registry.encodeEventLog("AgreementClosed", [providers[i], outcome, value, r.exposure, r.open]));
    };

    emit(ADDRESSES.registry, registry.encodeEventLog("RegistryConfigured", [address(0xe0), 100n * TOKEN, 7 * 86_400, 10n * TOKEN, 1000]));
    providers.forEach((p, i) => {
      emit(ADDRESSES.registry, registry.encodeEventLog("ProviderRegistered", [p, p, i % 3, 1 + (i % 8), 1000n * TOKEN, `ipfs://provider-${i}`]));
      emit(ADDRESSES.offers, offers.encodeEventLog("OfferPublished", [i + 1, p, TOKEN / 100n + BigInt(i) * 10n ** 13n, TOKEN / 1000n, 10n ** 10n, 256, 1, 4, i % 3, opts.start + 400 * 86_400]));
    });
    verifiers.forEach((v) => emit(ADDRESSES.court, court.encodeEventLog("VerifierStaked", [v, 100n * TOKEN, 100n * TOKEN])));
    yield* cut();

    for (let id = 1; id <= opts.agreements; id++) {
      timestamp += secondsPerAgreement;
      const consumer = consumers[id % consumers.length]!;
      const maxFuel = 1_000_000_000n;
      const escrow = 5n * TOKEN / 100n * 1000n + TOKEN / 100n;
      emit(ADDRESSES.market, market.encodeEventLog("RequestPosted", [
        id, consumer, hash(id), "ipfs://workload", ZERO32, "", maxFuel, 5n * TOKEN / 100n, TOKEN / 100n, 64, 7, 1 + (id % 8), 3,
        timestamp + 60, 600, timestamp + 3600, 1, 0n, escrow,
      ]));
      const a = Math.floor(rand() * providers.length);
      const b = (a + 1 + Math.floor(rand() * (providers.length - 1))) % providers.length;
      const priceA = TOKEN / 100n + BigInt(Math.floor(rand() * 1000)) * 10n ** 13n;
      const priceB = TOKEN / 100n + BigInt(Math.floor(rand() * 1000)) * 10n ** 13n;
      // No value at risk: the expected cost is the total.
      const total = (p: bigint) => (maxFuel * p) / 1_000_000n + TOKEN / 1000n;
      emit(ADDRESSES.market, market.encodeEventLog("BidPlaced", [id, providers[a], a + 1, providers[a], priceA, TOKEN / 1000n, 1000, total(priceA), ZERO32]));
      emit(ADDRESSES.market, market.encodeEventLog("BidPlaced", [id, providers[b], b + 1, providers[b], priceB, TOKEN / 1000n, 1000, total(priceB), ZERO32]));
      if (id % 500 === 0) continue; // left open, with its bids
      const w = priceA <= priceB ? a : b;
      const price = priceA <= priceB ? priceA : priceB;
      const penalty = (maxFuel * price) / 1_000_000n + TOKEN / 1000n;
      const reserve = penalty + 10n * TOKEN;
      opened(w, reserve);
      emit(ADDRESSES.market, market.encodeEventLog("AgreementCreated", [id, providers[w], consumer, w + 1, price, TOKEN / 1000n, maxFuel, timestamp + 3600, penalty, 3600, false]));
      const fate = rand();
      if (fate < 0.04) {
        closed(w, 1, reserve, penalty);
        emit(ADDRESSES.registry, registry.encodeEventLog("Slashed", [providers[w], penalty, 1000n * TOKEN, 0n]));
        emit(ADDRESSES.market, market.encodeEventLog("AgreementBreached", [id, 5n * TOKEN, penalty]));
        continue;
      }
      const fuel = BigInt(100_000_000 + Math.floor(rand() * 800_000_000));
      emit(ADDRESSES.market, market.encodeEventLog("UsageReported", [id, providers[w], fuel, 20, 150, 0, 0, hash(id * 7), 1, id]));
      const payment = (fuel * price) / 1_000_000n + TOKEN / 1000n;
      if (fate < 0.06) {
        // A three-seat panel (no appeal): it upholds the report or finds another claim.
        const upheld = fate < 0.05;
        const reportKey = claimKey(fuel, hash(id * 7));
        const verdict = upheld ? { fuel, out: hash(id * 7) } : { fuel: 1n, out: hash(id) };
        const bond = 10n * TOKEN;
        emit(ADDRESSES.court, court.encodeEventLog("CaseOpened", [id, consumer, providers[w], reportKey, bond]));
        emit(ADDRESSES.court, court.encodeEventLog("RoundOpened", [id, 0, 3, number]));
        emit(ADDRESSES.market, market.encodeEventLog("DisputeOpened", [id, consumer, bond]));
        const panel = [0, 1, 2].map((k) => verifiers[(id + k) % verifiers.length]!);
        for (const v of panel) emit(ADDRESSES.court, court.encodeEventLog("VerifierDrawn", [id, 0, v]));
        emit(ADDRESSES.court, court.encodeEventLog("PanelDrawn", [id, 0, 3, timestamp + 100, timestamp + 200]));
        for (const v of panel) emit(ADDRESSES.court, court.encodeEventLog("VerdictCommitted", [id, 0, v, 1]));
        for (const v of panel) emit(ADDRESSES.court, court.encodeEventLog("VerdictRevealed", [id, 0, v, verdict.fuel, verdict.out, 1]));
        const key = claimKey(verdict.fuel, verdict.out);
        emit(ADDRESSES.court, court.encodeEventLog("RoundTallied", [id, 0, key, 3, 3, 3, timestamp + 300]));
        if (upheld) {
          closed(w, 2, reserve, payment);
          emit(ADDRESSES.market, market.encodeEventLog("DisputeResolved", [id, 1, payment, 1n, 0n, 0n]));
        } else {
          closed(w, 3, reserve, penalty);
          emit(ADDRESSES.registry, registry.encodeEventLog("Slashed", [providers[w], penalty + bond, 1000n * TOKEN, 0n]));
          emit(ADDRESSES.market, market.encodeEventLog("DisputeResolved", [id, 2, 0n, escrow + penalty, penalty, penalty + bond]));
        }
        emit(ADDRESSES.court, court.encodeEventLog("CaseClosed", [id, upheld ? 1 : 2, key, bond, 0n, bond / 2n, bond / 2n]));
        for (const v of panel) emit(ADDRESSES.court, court.encodeEventLog("BallotClaimed", [id, 0, v, true, bond / 6n]));
      } else {
        closed(w, 0, reserve, payment);
        emit(ADDRESSES.market, market.encodeEventLog("AgreementSettled", [id, payment, 1n, fate < 0.5]));
      }
      if (logs.length >= opts.perBlock) yield* cut();
    }
    yield* cut();
  }

  return { providers, blocks };
}
