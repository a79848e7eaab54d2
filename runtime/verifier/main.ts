/**
 * The verifier agent: a verifier staked in the market's VerifierCourt runs it. It watches the
 * court's cases, re-executes a disputed job when it is drawn onto the panel (or when the case
 * reaches the full court) with the same module, input and metering (runtime/verify.ts), commits
 * its sealed verdict and reveals it after the commit window, and keeps every case it can see
 * moving: it draws pending panels, counts rounds, appeals decisions that contradict its own
 * measurement where they would slash it, closes cases and claims its ballots. If the consumer's
 * content cannot be fetched (or has another hash) it votes "content unavailable".
 *
 * Environment: RPC_URL, VERIFIER_KEY (the verifier's own key: it stakes and votes), MARKET,
 * START_BLOCK (default 0), POLL_MS (default 2000), JOB_TIMEOUT_MS (default 60000),
 * DATA_DIR (sealed verdicts survive a restart; default .troupe/verifier), STAKE (tokens to stake at
 * start if the key has no stake yet), APPEAL (always | own-ballots, default own-ballots),
 * CONFIRMATIONS (blocks to stay behind the head when reading new cases; default 0).
 */
import { mkdirSync } from "node:fs";
import { Wallet, isAddress, isHexString, parseUnits, MaxUint256 } from "ethers";
import * as engine from "../job/index.js";
import { TroupeMarket__factory, TroupeToken__factory, VerifierCourt__factory } from "../../types/ethers-contracts/index.js";
import { loadJob, ContentUnavailable } from "../verify.js";
import { verifyUsage } from "../host/verification.js";
import { briefError } from "../host/rpc.js";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { GAS_LIMITS, senderFor } from "../../contracts/client/sender.js";
import { LogCursor } from "../../contracts/client/log-cursor.js";
import { BallotBook } from "./ballot-book.js";
import { ChainClock } from "./chain-clock.js";
import { CaseKeeper, UNAVAILABLE, type Claim } from "./case-keeper.js";

function env(name: string, check: (v: string) => boolean, fallback?: string): string {
  const value = process.env[name]?.trim() || fallback;
  if (value === undefined || !check(value)) {
    console.error(`verifier: ${name} ${value === undefined ? "is not set" : `is invalid: ${JSON.stringify(value)}`}`);
    process.exit(2);
  }
  return value;
}

const rpc = env("RPC_URL", (v) => /^https?:\/\//.test(v));
const key = env("VERIFIER_KEY", (v) => isHexString(v, 32));
const marketAddress = env("MARKET", isAddress);
const startBlock = Number(env("START_BLOCK", (v) => /^\d+$/.test(v), "0"));
const pollMs = Number(env("POLL_MS", (v) => /^\d+$/.test(v), "2000"));
const timeoutMs = Number(env("JOB_TIMEOUT_MS", (v) => /^\d+$/.test(v), "60000"));
const dataDir = env("DATA_DIR", (v) => v.length > 0, ".troupe/verifier");
const stake = env("STAKE", (v) => /^\d+(\.\d+)?$/.test(v), "0");
const appealAlways = env("APPEAL", (v) => v === "always" || v === "own-ballots", "own-ballots") === "always";
const confirmations = Number(env("CONFIRMATIONS", (v) => /^\d+$/.test(v), "0"));
const FETCH_ATTEMPTS = 3;

let stopping = false;
process.once("SIGTERM", () => (stopping = true));
process.once("SIGINT", () => (stopping = true));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Re-executes agreement `id`; content that cannot be fetched after a few tries is "unavailable". */
async function measure(id: bigint): Promise<Claim | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { job, meteringVersion } = await loadJob({ rpc, market: marketAddress, agreement: String(id), "from-block": String(startBlock) }, timeoutMs);
      if (meteringVersion !== engine.METERING_VERSION) {
        console.log(`verifier: agreement ${id} uses metering version ${meteringVersion}; this host runs ${engine.METERING_VERSION} and cannot judge it`);
        return undefined;
      }
      const verdict = await verifyUsage(engine, job, { fuelUsed: 0n, outputHash: "0x" + "00".repeat(32), meteringVersion });
      console.log(`verifier: agreement ${id}: measured ${verdict.measured.fuelUsed} fuel (${verdict.measured.detail || "exited"})`);
      return { fuelUsed: verdict.measured.fuelUsed, outputHash: verdict.measured.outputHash };
    } catch (error) {
      if (!(error instanceof ContentUnavailable)) throw error;
      if (attempt >= FETCH_ATTEMPTS) {
        console.log(`verifier: agreement ${id}: content unavailable (${error.message})`);
        return UNAVAILABLE;
      }
      await sleep(1000 * attempt);
    }
  }
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  const chainId = await probeChainId(rpc);
  const provider = pinnedProvider(rpc, chainId, pollMs);
  const wallet = new Wallet(key, provider);
  const market = TroupeMarket__factory.connect(marketAddress, provider);
  const court = VerifierCourt__factory.connect(await market.court(), wallet);
  const courtAddress = await court.getAddress();
  const token = TroupeToken__factory.connect(await market.token(), wallet);
  const sender = senderFor(wallet, { log: (line) => console.log(`verifier: ${line}`) });
  if ((await token.allowance(wallet.address, courtAddress)) < MaxUint256 / 2n) {
    await sender.sendAndWait(await token.approve.populateTransaction(courtAddress, MaxUint256), { gasLimit: GAS_LIMITS.approve, label: "approve the court" });
  }
  if ((await court.verifierOf(wallet.address)).stake === 0n && stake !== "0") {
    await sender.sendAndWait(await court.stake.populateTransaction(parseUnits(stake)), { gasLimit: GAS_LIMITS.court, label: "stake" });
    console.log(`verifier ${wallet.address} staked ${stake} tokens`);
  }
  const clock = new ChainClock(provider);
  const keeper = new CaseKeeper({
    court, sender, me: wallet.address, chainId, book: new BallotBook(dataDir), measure, appealAlways,
    chainTime: () => clock.now(),
    log: (line) => console.log(`verifier: ${line}`),
  });
  const open = new Set<bigint>();
  // New cases are read in block ranges behind the confirmation depth; a deeper reorganisation reads
  // the replaced blocks again (a case seen twice is one entry, and every step is judged on chain).
  const cases = new LogCursor({
    provider, startBlock, confirmations, maxRange: 2000,
    filter: { address: courtAddress, topics: [court.interface.getEvent("CaseOpened")!.topicHash] },
  });
  console.log(`verifier ${wallet.address} watching the court of market ${marketAddress} (chain ${chainId})`);
  while (!stopping) {
    try {
      await cases.poll(async (logs) => {
        for (const log of logs) open.add(court.interface.parseLog(log)!.args.id as bigint);
      }, (reorg) => console.log(`verifier: chain reorganised (was at block ${reorg.was}): reading again from block ${reorg.from}`));
      for (const id of [...open]) {
        try {
          if (!(await keeper.step(id))) open.delete(id);
        } catch (error) {
          console.log(`verifier: case ${id}: ${briefError(error)} (retrying)`);
        }
      }
    } catch (error) {
      console.log(`verifier: ${briefError(error)} (retrying)`);
    }
    await sleep(pollMs);
  }
  await engine.shutdownJobPool();
  provider.destroy();
}

main().catch((error: unknown) => {
  console.error(`verifier: ${briefError(error)}`);
  process.exit(1);
});
