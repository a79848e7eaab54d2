import type { Interface} from "ethers";
import { ZeroAddress, type ContractTransaction, type Log, type Provider, type Wallet } from "ethers";
import type { ContentLocation } from "./content.js";
import { publishContent } from "./content.js";
import type { DeploymentInfo, MarketContracts } from "./deployment.js";
import { hostEndpoint } from "./host-endpoint.js";
import { METERING_VERSION, encodeInputBundle, outputHash, type InputBundle } from "../../runtime/job/index.js";
import { outputCredential } from "./output-credentials.js";
import { signUsageAcceptance } from "../../contracts/client/signing.js";
import type { UsageReport, OutcomeCode } from "../../contracts/client/typed-data.js";
import { CLOSE_REASON_TEXT, CloseReason, Status, STATUS_NAMES } from "../../contracts/client/status.js";
import { totalFor } from "../../contracts/client/amounts.js";
import { GAS_LIMITS, senderFor } from "../../contracts/client/sender.js";
import { rawRpc } from "../../contracts/client/rpc.js";

/** What a consumer asks for. */
export interface DeploySpec {
  module: Uint8Array;
  input: InputBundle;
  maxFuel: bigint;
  maxPricePerMFuel: bigint;
  maxFee: bigint;
  minMemoryMiB: number;
  allowedTiers: number;
  region: number;
  maxLatencyClass: number;
  /** Seconds bids are taken for. */
  bidWindow: number;
  /** Seconds from now until the report is due at the latest. */
  deadlineIn: number;
  /**
   * Seconds the provider gets to report, counted from the award (default: what the deadline leaves
   * after the bid window and the time the award itself takes). An award so late that this would pass
   * the deadline refunds the escrow.
   */
  execTime?: number;
  /** What a failed job costs the consumer, in token wei; the award rule prices providers' failure rates by it (default: the escrow). */
  valueAtRisk?: bigint;
  /** The metering every report must use (default: this host software's version). */
  meteringVersion?: number;
  /** Accept the first bid at once instead of waiting for the window to close. */
  acceptFirstBid?: boolean;
  /**
   * Times a request that got no bid is posted again, with a window fitted to how long bids have
   * been taking in this market (default 0: the caller hears of it). Only when bids do arrive here,
   * only later than the window allowed; a request nobody can serve is not re-posted.
   */
  repostIfLate?: number;
  /**
   * The consumer's own agent (`--choose auto`), asked once in the window's last `chooseLeadSec`
   * seconds (default 2) with bids on the table: the bid it names is accepted early. Without it
   * the market's rule picks at the window's end.
   */
  choose?: (id: bigint, fromBlock: number) => Promise<{ provider: string; summary: string; explanationHash: string } | undefined>;
  chooseLeadSec?: number;
  /**
   * Show bids as they arrive, looking once a second while the window is open (default true). When
   * false the consumer sleeps until the window ends and reads the bids then: one look instead of one
   * a second, for a process that runs many deployments at once.
   */
  watchBids?: boolean;
}

/** Everything the flow needs. */
export interface ConsumerContext {
  deployment: DeploymentInfo;
  contracts: MarketContracts;
  consumer: Wallet;
  content: ContentLocation;
  chainId: bigint;
  /** How often to look at the chain and the host, in ms. */
  pollMs?: number;
}

export interface DeployResult {
  id: bigint;
  status: keyof typeof Status;
  provider?: string;
  report?: UsageReport;
  stdout?: Uint8Array;
  outputs?: Record<string, Uint8Array>;
  payment?: bigint;
  refund?: bigint;
  /** Why the deployment did not end settled and verified. */
  problem?: string;
  /** The request got no bid at all (the escrow came back when it expired). */
  noBid?: boolean;
  /** How many earlier requests of this deployment expired unbid and were posted again (repostIfLate). */
  reposts?: number;
  /** The bid window and deadline the request was posted with (seconds; measured latency may widen them), and its block. */
  posted?: { bidWindow: number; deadlineIn: number; block: number };
  /** Milliseconds from posting to award and to settlement. */
  timings: { awardMs?: number; settledMs?: number };
  /** The consumer's agent's choice and the hash of its stored explanation, if it chose. */
  choice?: { provider: string; summary: string; explanationHash: string };
}

/** A consumer's mistake found before anything was sent. */
export class DeployRefused extends Error {}

/** Checks a module before anything is spent on it. */
export function checkModule(bytes: Uint8Array, name: string): void {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new DeployRefused(`${name} is not a WebAssembly module (no \\0asm header)`);
  }
  if (!WebAssembly.validate(bytes)) throw new DeployRefused(`${name} is not a valid WebAssembly module`);
}

/** The escrow a request locks: maxFuel × maxPrice / 1e6 + maxFee. */
export function escrowOf(spec: Pick<DeploySpec, "maxFuel" | "maxPricePerMFuel" | "maxFee">): bigint {
  return totalFor(spec.maxFuel, spec.maxPricePerMFuel, spec.maxFee);
}

/**
 * Deploys a workload: publishes module and input, posts the request with escrow, follows bidding
 * and award, fetches the output from the winning host, checks it against the attested output
 * hash, co-signs the report, and waits for settlement. `progress` hears every step.
 */
export async function deployWorkload(ctx: ConsumerContext, spec: DeploySpec, progress: (line: string) => void): Promise<DeployResult> {
  let result = await deployOnce(ctx, spec, progress);
  for (let left = spec.repostIfLate ?? 0; left > 0 && result.noBid; left--) {
    const window = result.posted?.bidWindow ?? spec.bidWindow;
    // Bids are late here when this process has timed them at more than half a window, or when
    // providers bid on other requests meanwhile (in a burst, agents that bid fast on some requests
    // reach others only after their windows closed). A request nobody serves is posted again at most
    // `repostIfLate` times.
    const slow = pace.firstBidMs > window * 1000 * 0.5;
    if (!slow && !(await othersBidSince(ctx, result.posted?.block))) break; // nobody serves this request
    const wider = Math.max(2 * window, Math.ceil((3 * pace.firstBidMs) / 1000));
    progress(slow
      ? `no bid within ${window} s, and bids here have been taking ${(pace.firstBidMs / 1000).toFixed(1)} s: posting again with a ${wider} s window`
      : `no bid within ${window} s while providers bid on other requests: posting again with a ${wider} s window`);
    const reposts = (result.reposts ?? 0) + 1;
    result = { ...(await deployOnce(ctx, { ...spec, bidWindow: wider }, progress)), reposts };
  }
  return result;
}

/** Whether any bid (on any request) was placed since block `from`: the market is serving, if not in time. */
async function othersBidSince(ctx: ConsumerContext, from: number | undefined): Promise<boolean> {
  if (from === undefined) return false;
  const { market } = ctx.contracts;
  return (await market.queryFilter(market.filters.BidPlaced(), from)).length > 0;
}

async function deployOnce(ctx: ConsumerContext, spec: DeploySpec, progress: (line: string) => void): Promise<DeployResult> {
  checkModule(spec.module, "the module");
  const { market, token } = ctx.contracts;
  const escrow = escrowOf(spec);
  const balance = await token.balanceOf(ctx.consumer.address);
  if (balance < escrow) {
    throw new DeployRefused(`the escrow is ${fmt(escrow)} tokens but ${ctx.consumer.address} holds ${fmt(balance)}`);
  }
  const moduleRef = publishContent(ctx.content, spec.module);
  const inputRef = publishContent(ctx.content, encodeInputBundle(spec.input));
  const chainNow = async () => {
    // An automining chain stamps each block at least a second after the last, so under load its
    // clock runs ahead of the wall clock: windows and deadlines are counted on the chain's clock.
    const block = await ctx.consumer.provider!.getBlock("latest");
    return Math.max(Date.now() / 1000, block?.timestamp ?? 0);
  };
  const now = Math.floor(await chainNow());
  const sender = senderFor(ctx.consumer);
  // Windows and deadlines follow what the market measurably takes, not fixed seconds: a bid window
  // half as long again as bids have been taking to arrive (counted from before the post is mined,
  // so it holds the post's own inclusion too), twice what this key's transactions take to be
  // mined, and room for a slow chain before the deadline.
  const inclusionS = sender.inclusionMs / 1000;
  const blockS = await pace.blockInterval(ctx.consumer.provider!);
  const bidWindow = Math.max(
    spec.bidWindow, Math.ceil((1.5 * pace.firstBidMs) / 1000), Math.ceil(2 * inclusionS), Math.ceil(2 * blockS + 1),
  );
  // The award needs a transaction after the window: room for it before the provider's time starts,
  // twice as much as awards have been late here (a loaded machine or a busy chain delays them).
  const awardSlack = Math.ceil(Math.max(10, 3 * inclusionS, 3 * blockS, 2 * pace.awardLateS));
  const minExec = Math.ceil(10 * Math.max(inclusionS, pace.awardToSettleMs / 1000, 1));
  const execTime = Math.max(spec.execTime ?? 0, minExec, spec.deadlineIn - bidWindow - awardSlack);
  const deadlineIn = bidWindow + awardSlack + execTime;
  const params = {
    workloadHash: moduleRef.sha256, workloadURI: moduleRef.uri, inputHash: inputRef.sha256, inputURI: inputRef.uri,
    maxFuel: spec.maxFuel, maxPricePerMFuel: spec.maxPricePerMFuel, maxFee: spec.maxFee, minMemoryMiB: spec.minMemoryMiB,
    allowedTiers: spec.allowedTiers, region: spec.region, maxLatencyClass: spec.maxLatencyClass,
    bidWindow, execTime, deadline: now + deadlineIn,
    meteringVersion: spec.meteringVersion ?? METERING_VERSION, valueAtRisk: spec.valueAtRisk ?? escrow,
  };
  const asConsumer = market.connect(ctx.consumer);
  const marketAddress = ctx.deployment.addresses.market;
  // Transactions that may lose a race with another actor (someone else closed the auction) are
  // estimated first, so a lost race costs nothing; the post goes out right behind its approval.
  const send = async (label: string, tx: Promise<ContractTransaction>) => sender.sendAndWait(await tx, { label });
  if ((await token.allowance(ctx.consumer.address, marketAddress)) < escrow) {
    await sender.send(await token.connect(ctx.consumer).approve.populateTransaction(marketAddress, 2n ** 256n - 1n), { gasLimit: GAS_LIMITS.approve, label: "approve the market" });
  }
  const posted = Date.now();
  const receipt = await sender.sendAndWait(await asConsumer.postRequest.populateTransaction(params), { gasLimit: GAS_LIMITS.request, label: "post the request" });
  const id = parsed(market.interface, receipt?.logs ?? [], "RequestPosted")?.args.requestId as bigint;
  progress(`request ${id} posted: escrow ${fmt(escrow)}, bid window ${bidWindow} s, deadline in ${deadlineIn} s, module ${moduleRef.sha256.slice(0, 18)}…`);

  const pollMs = ctx.pollMs ?? 500;
  const fromBlock = receipt!.blockNumber;
  const result: DeployResult = { id, status: "Open", timings: {}, posted: { bidWindow, deadlineIn, block: fromBlock } };
  let seenBids = 0;
  let bidLogsFrom = fromBlock;
  let endpoint: string | undefined;
  let verified: { report: UsageReport } | undefined;
  let cosigned = false;
  let acceptedOnChain = false;
  let asked = false;
  let lastTrouble: string | undefined;
  const tellOnce = (line: string) => {
    if (line !== lastTrouble) progress(line);
    lastTrouble = line;
  };

  for (;;) {
    const r = await market.request(id);
    const status = Number(r.status);
    result.status = STATUS_NAMES[status]!;
    let wait = pollMs;
    if (status === Status.Open) {
      // The chain's clock never runs behind the wall clock: once the wall clock says the window is
      // over, it is, and the close goes out without a look at the chain's clock.
      const wallS = Date.now() / 1000;
      const nowS = wallS >= Number(r.bidWindowEnd) ? wallS : await chainNow();
      // The contract keeps only the best bid; the others are news in the logs.
      const bestSoFar = r.winner !== ZeroAddress;
      if (bestSoFar) {
        const head = await ctx.consumer.provider!.getBlockNumber();
        if (head >= bidLogsFrom) {
          for (const log of await market.queryFilter(market.filters.BidPlaced(id), bidLogsFrom, head)) {
            if (seenBids === 0) {
              // Watching, the first bid is timed as it is seen; read at the window's end, by its block's clock.
              const at = spec.watchBids === false ? (await log.getBlock()).timestamp * 1000 - now * 1000 : Date.now() - posted;
              pace.sawFirstBid(at);
            }
            seenBids++;
            progress(`bid from ${log.args.provider}: ${fmt(log.args.pricePerMFuel)}/Mfuel + ${fmt(log.args.fee)}, failure rate ${(Number(log.args.failureBps) / 100).toFixed(2)}%, expected cost ${fmt(log.args.expectedCost)}`);
          }
          bidLogsFrom = head + 1;
        }
      }
      const bids = bestSoFar ? Math.max(1, seenBids) : 0;
      const lead = spec.chooseLeadSec ?? 2;
      if (spec.choose && !asked && bids > 0 && nowS >= Number(r.bidWindowEnd) - lead && nowS < Number(r.bidWindowEnd)) {
        asked = true;
        const pick = await spec.choose(id, fromBlock).catch((error: Error) => void progress(`the consumer's agent failed (${error.message}): the rule picks`));
        if (pick) {
          result.choice = pick;
          progress(pick.summary);
          await tolerate(() => send("accept the bid the consumer's agent chose", asConsumer.acceptBid.populateTransaction(id, pick.provider)));
          continue;
        }
      }
      // A step that went through changed the request: it is read again at once.
      if (spec.acceptFirstBid && bids > 0 && nowS < Number(r.bidWindowEnd)) {
        if (await tolerate(() => send("accept the first bid", asConsumer.acceptBid.populateTransaction(id, r.winner)))) continue;
      } else if (nowS >= Number(r.bidWindowEnd)) {
        if (await tolerate(() => send("close the auction", asConsumer.closeAuction.populateTransaction(id)))) continue;
      } else if (!spec.acceptFirstBid) {
        // Until the window ends there is only news of bids to show: look once a second, and
        // be there when it ends.
        const until = Number(r.bidWindowEnd) - (spec.choose && !asked ? (spec.chooseLeadSec ?? 2) : 0) - nowS;
        wait = Math.max(pollMs, until * 1000);
        if (spec.watchBids !== false) wait = Math.min(1000, wait);
      }
    } else if (status === Status.Awarded || status === Status.Reported) {
      if (!result.provider) {
        result.provider = r.winner;
        result.timings.awardMs = Date.now() - posted;
        const [awardedAt, bid] = await Promise.all([chainNow(), market.bidOf(id, r.winner)]);
        if (!spec.choose && !spec.acceptFirstBid) pace.sawAwardLate(awardedAt - Number(r.bidWindowEnd));
        progress(`awarded to ${r.winner} at ${fmt(bid.pricePerMFuel)}/Mfuel + ${fmt(bid.fee)}`);
      }
      // Looked up until found, and again after the host failed to answer: its provider may have
      // published another endpoint meanwhile. A trouble is told once, not on every look.
      if (!verified && !endpoint) {
        endpoint = await hostEndpoint(ctx.contracts, r.winner, ctx.deployment.startBlock).catch((error: Error) => {
          tellOnce(`cannot find the host of ${r.winner}: ${error.message}`);
          return undefined;
        });
      }
      if (!verified && endpoint) {
        // One credential serves every poll and every agreement of this consumer at this host for an hour.
        const access = await outputCredential(ctx.consumer, ctx.chainId, ctx.deployment.addresses.market, r.winner);
        const fetched = await fetchVerified(ctx, endpoint, id, spec.input, access).catch((error: Error) => {
          if (!(error instanceof NotReady)) {
            tellOnce(`host ${endpoint}: ${error.message}`);
            endpoint = undefined;
          }
          return undefined;
        });
        if (fetched?.problem) {
          result.problem = fetched.problem;
          result.report = fetched.report;
          progress(`the output does NOT match the attested hash: ${fetched.problem}`);
          return result;
        }
        if (fetched) {
          verified = { report: fetched.report };
          Object.assign(result, { report: fetched.report, stdout: fetched.stdout, outputs: fetched.outputs });
          progress(`ran: ${fetched.report.fuelUsed} fuel, outcome ${fetched.report.outcome}, output verified ${fetched.report.outputHash.slice(0, 18)}…`);
        }
      }
      if (verified && !acceptedOnChain) {
        if (status === Status.Awarded && !cosigned) {
          const signature = await signUsageAcceptance(ctx.consumer, { chainId: ctx.chainId, market: marketAddress }, verified.report);
          const res = await fetch(`${endpoint}/agreements/${id}/acceptance`, {
            method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature }),
            signal: AbortSignal.timeout(10_000),
          }).catch((error: Error) => error);
          if (res instanceof Response && res.status === 202) {
            cosigned = true;
            progress("co-signed the report: the host settles it");
          } else {
            const why = res instanceof Response ? `HTTP ${res.status} ${(await res.text().catch(() => "")).slice(0, 200)}` : res.message;
            progress(`the host did not take the co-signature (${why}): the next look tries again, or accepts on chain`);
          }
        } else if (status === Status.Reported) {
          // Reported without the co-signature (the host sent it alone, even after a 202): the chain is what counts.
          await tolerate(() => send("accept the report", asConsumer.acceptReport.populateTransaction(id)));
          acceptedOnChain = true;
          progress("accepted the report on chain");
        }
      }
      // Once the report is co-signed only the settlement is awaited: a look every half block (a
      // second at most; on a chain that mines on demand, every poll) is enough.
      if (cosigned || acceptedOnChain) wait = Math.max(pollMs, Math.min(1000, blockS * 500));
      // The chain's clock is read only near the deadline (it never runs behind the wall clock).
      if (status === Status.Awarded && Date.now() / 1000 > Number(r.deadline) - 60 && (await chainNow()) > Number(r.deadline) + 1) {
        await tolerate(() => send("claim the breach", asConsumer.claimBreach.populateTransaction(id)));
      }
    } else {
      if (status === Status.Settled) {
        const [settled] = await market.queryFilter(market.filters.AgreementSettled(id), fromBlock);
        const [resolved] = settled ? [] : await market.queryFilter(market.filters.DisputeResolved(id), fromBlock);
        result.payment = settled?.args.providerPayment ?? resolved?.args.providerPayment;
        result.refund = settled?.args.consumerRefund ?? resolved?.args.consumerRefund;
        result.timings.settledMs = Date.now() - posted;
        if (result.timings.awardMs !== undefined) pace.sawSettled(result.timings.settledMs - result.timings.awardMs);
        progress(`settled: provider paid ${fmt(result.payment ?? 0n)}, refund ${fmt(result.refund ?? 0n)}`);
        if (!verified) result.problem = "settled without the consumer having verified the output";
      } else if (status === Status.Disputed) {
        await sleep(pollMs);
        continue;
      } else if (status === Status.Expired || status === Status.Cancelled) {
        const [closed] = await market.queryFilter(market.filters.RequestClosed(id), fromBlock);
        const reason = closed ? Number(closed.args.reason) : CloseReason.NoBid;
        result.refund = closed?.args.refund ?? escrow;
        result.noBid = reason === CloseReason.NoBid;
        result.problem = `${CLOSE_REASON_TEXT[reason] ?? `the request ended ${STATUS_NAMES[status]}`}; escrow of ${fmt(result.refund)} refunded`;
        progress(result.problem);
      } else {
        result.problem = `the request ended ${STATUS_NAMES[status]}`;
        progress(result.problem);
      }
      return result;
    }
    await sleep(wait);
  }
}

class NotReady extends Error {}

/** How long one request to the host waits for the report (the host holds it; 10 s at most). */
const REPORT_WAIT_S = 5;

interface Fetched {
  report: UsageReport;
  stdout: Uint8Array;
  outputs: Record<string, Uint8Array>;
  problem?: string;
}

/** Fetches the signed report and the outputs from the host and checks them against each other. */
async function fetchVerified(ctx: ConsumerContext, endpoint: string, id: bigint, input: InputBundle, auth: string): Promise<Fetched> {
  const get = async (path: string) => {
    const res = await fetch(`${endpoint}/agreements/${id}/${path}`, { headers: { authorization: auth }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) throw new NotReady(`not ready`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return res;
  };
  // The host holds the request until the report is written (up to REPORT_WAIT_S), so it is seen at once without polling.
  const answer = (await (await get(`report?wait=${REPORT_WAIT_S}`)).json()) as { report: Record<string, string | number> };
  const report = toUsageReport(answer.report);
  const stdout = new Uint8Array(await (await get("stdout")).arrayBuffer());
  const manifest = (await (await get("outputs")).json()) as { files: Record<string, unknown> };
  const outputs: Record<string, Uint8Array> = {};
  for (const name of Object.keys(manifest.files)) {
    outputs[name] = new Uint8Array(await (await get(`files/${encodeURIComponent(name)}`)).arrayBuffer());
  }
  const computed = outputHash(stdout, input.outputs, outputs);
  const problem = computed === report.outputHash ? undefined : `the host's output hashes to ${computed}, the report says ${report.outputHash}`;
  return { report, stdout, outputs, problem };
}

function toUsageReport(r: Record<string, string | number>): UsageReport {
  return {
    agreementId: BigInt(r.agreementId!), fuelUsed: BigInt(r.fuelUsed!), peakMemoryPages: Number(r.peakMemoryPages),
    wallMs: Number(r.wallMs), outcome: Number(r.outcome) as OutcomeCode, exitCode: Number(r.exitCode),
    outputHash: String(r.outputHash), meteringVersion: Number(r.meteringVersion), nonce: BigInt(r.nonce!),
  };
}

function parsed(iface: Interface, logs: readonly Log[], name: string) {
  for (const log of logs) {
    try {
      const p = iface.parseLog(log);
      if (p?.name === name) return p;
    } catch {
      // another contract's log
    }
  }
  return undefined;
}

/** Runs a step another actor may have taken first (someone else closed the auction); says whether it went through. */
async function tolerate(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch {
    // the next poll sees the new state
    return false;
  }
}

/**
 * What this process has measured of the market, across its deployments: how long bids take to
 * arrive after a request is mined, and how long an award takes to settle (moving averages, ms).
 */
const pace = {
  firstBidMs: 0,
  awardToSettleMs: 0,
  sawFirstBid(ms: number) {
    this.firstBidMs = this.firstBidMs === 0 ? ms : 0.8 * this.firstBidMs + 0.2 * ms;
  },
  /** Seconds awards at the window's end have come after it: the worst recently seen, decaying slowly. */
  awardLateS: 0,
  sawAwardLate(seconds: number) {
    this.awardLateS = Math.max(seconds, 0.9 * this.awardLateS);
  },
  sawSettled(ms: number) {
    this.awardToSettleMs = this.awardToSettleMs === 0 ? ms : 0.8 * this.awardToSettleMs + 0.2 * ms;
  },
  /**
   * Seconds between blocks, read at most every 30 s (a bid needs a block to land in). A local node
   * that mines each transaction at once says so (0: an idle automining chain's long gaps are no
   * cadence). Otherwise the larger of the mean over the last 10 blocks and the last interval, so a
   * chain that just slowed down (a node switched from automine to timed blocks) is not taken for a
   * fast one.
   */
  interval: undefined as { seconds: number; at: number } | undefined,
  async blockInterval(provider: Provider): Promise<number> {
    if (this.interval && Date.now() - this.interval.at < 30_000) return this.interval.seconds;
    let seconds = 0;
    if (!(await minesOnDemand(provider))) {
      const head = await provider.getBlock("latest");
      const [back, parent] = head && head.number >= 10
        ? await Promise.all([provider.getBlock(head.number - 10), provider.getBlock(head.number - 1)])
        : [undefined, undefined];
      if (head && back && parent) seconds = Math.max((head.timestamp - back.timestamp) / 10, head.timestamp - parent.timestamp);
    }
    this.interval = { seconds, at: Date.now() };
    return seconds;
  },
};

/** Whether the node mines every transaction as it arrives (Hardhat's or anvil's automine); false on a real network. */
async function minesOnDemand(provider: Provider): Promise<boolean> {
  const send = rawRpc(provider);
  if (!send) return false;
  for (const method of ["hardhat_getAutomine", "anvil_getAutomine"]) {
    try {
      return (await send(method, [])) === true;
    } catch {
      // not this node's method (or not a development node at all)
    }
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fmt(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const frac = (wei % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac.slice(0, 6)}` : `${whole}`;
}
