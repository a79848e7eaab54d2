/**
 * The verifier agent: a provider flagged as a verifier runs it beside its host. It watches the
 * market for disputes it may judge (it is a registered verifier and not a party), re-executes the
 * disputed job with the same module, input and metering (runtime/verify.ts), signs the Verdict
 * with its host key and relays it with DisputeResolution.submitVerdict.
 *
 * Environment: RPC_URL, VERIFIER_KEY (the provider's host key), VERIFIER (the provider's address),
 * MARKET, REGISTRY, START_BLOCK (default 0), POLL_MS (default 2000), JOB_TIMEOUT_MS (default 60000),
 * CONFIRMATIONS (blocks to stay behind the head when reading disputes; default 0).
 */
import { Wallet, isAddress, isHexString } from "ethers";
import * as engine from "../job/index.js";
import { ProviderRegistry__factory, TroupeMarket__factory } from "../../types/ethers-contracts/index.js";
import { fromChain } from "../verify.js";
import { signVerification, verifyUsage } from "../host/verification.js";
import { briefError } from "../host/rpc.js";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { GAS_LIMITS, senderFor, type Sender } from "../../contracts/client/sender.js";
import { LogCursor } from "../../contracts/client/log-cursor.js";

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
const verifier = env("VERIFIER", isAddress);
const marketAddress = env("MARKET", isAddress);
const registryAddress = env("REGISTRY", isAddress);
const startBlock = Number(env("START_BLOCK", (v) => /^\d+$/.test(v), "0"));
const pollMs = Number(env("POLL_MS", (v) => /^\d+$/.test(v), "2000"));
const timeoutMs = Number(env("JOB_TIMEOUT_MS", (v) => /^\d+$/.test(v), "60000"));
const confirmations = Number(env("CONFIRMATIONS", (v) => /^\d+$/.test(v), "0"));

let stopping = false;
process.once("SIGTERM", () => (stopping = true));
process.once("SIGINT", () => (stopping = true));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Judges one dispute; returns false when it should be tried again later. */
async function judge(market: ReturnType<typeof TroupeMarket__factory.connect>, sender: Sender, id: bigint, chainId: bigint): Promise<boolean> {
  const r = await market.request(id);
  if (Number(r.status) !== 4 /* Disputed */) return true;
  if ([r.winner, r.consumer].some((a) => a.toLowerCase() === verifier.toLowerCase())) return true;
  const d = await market.disputeOf(id);
  if ([...d.upholders, ...d.rejecters].some((a) => a.toLowerCase() === verifier.toLowerCase())) return true;
  const { job, claimed } = await fromChain({ rpc, market: marketAddress, agreement: String(id), "from-block": String(startBlock) }, timeoutMs);
  const verdict = await verifyUsage(engine, job, claimed);
  const signature = await signVerification(new Wallet(key), { chainId, market: marketAddress }, id, verdict);
  const m = verdict.measured;
  await sender.sendAndWait(await market.submitVerdict.populateTransaction(id, verifier, m.fuelUsed, m.outputHash, m.meteringVersion, signature), {
    gasLimit: GAS_LIMITS.verdict, label: `verdict on agreement ${id}`,
  });
  console.log(`verifier: agreement ${id}: ${verdict.matches ? "upheld" : "rejected"} the report (measured ${m.fuelUsed} fuel, claimed ${claimed.fuelUsed})`);
  return true;
}

async function main() {
  const chainId = await probeChainId(rpc);
  const provider = pinnedProvider(rpc, chainId, pollMs);
  const wallet = new Wallet(key, provider);
  const market = TroupeMarket__factory.connect(marketAddress, wallet);
  const registry = ProviderRegistry__factory.connect(registryAddress, provider);
  const sender = senderFor(wallet, { log: (line) => console.log(`verifier: ${line}`) });
  const pending = new Set<bigint>();
  // Disputes are read in block ranges behind the confirmation depth; a deeper reorganisation reads
  // the replaced blocks again (a dispute seen twice is judged once: `judge` checks the chain).
  const disputes = new LogCursor({
    provider, startBlock, confirmations, maxRange: 2000,
    filter: { address: marketAddress, topics: [market.interface.getEvent("DisputeOpened")!.topicHash] },
  });
  console.log(`verifier ${verifier} watching market ${marketAddress} (chain ${chainId})`);
  while (!stopping) {
    try {
      await disputes.poll(async (logs) => {
        for (const log of logs) pending.add(market.interface.parseLog(log)!.args.agreementId as bigint);
      }, (reorg) => console.log(`verifier: chain reorganised (was at block ${reorg.was}): reading again from block ${reorg.from}`));
      if (pending.size > 0 && (await registry.isVerifier(verifier))) {
        for (const id of [...pending]) {
          try {
            if (await judge(market, sender, id, chainId)) pending.delete(id);
          } catch (error) {
            console.log(`verifier: agreement ${id}: ${briefError(error)}`);
            if (Number((await market.request(id)).status) !== 4) pending.delete(id);
          }
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
