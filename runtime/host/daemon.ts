import { join } from "node:path";
import { Wallet, verifyTypedData, type JsonRpcProvider } from "ethers";
import { ProviderRegistry__factory, TroupeMarket__factory, type TroupeMarket } from "../../types/ethers-contracts/index.js";
import { Status, STATUS_NAMES } from "../../contracts/client/status.js";
import { usageReportHash, type SigningContext } from "../../contracts/client/signing.js";
import { Outcome, USAGE_ACCEPTANCE_TYPES, marketDomain } from "../../contracts/client/typed-data.js";
import { readJsonFile, writeJsonAtomic } from "./atomic-file.js";
import { Backoff } from "./backoff.js";
import { ChainWatcher, type AgreementCreatedLog } from "./chain-watcher.js";
import type { CrashPoint, HostConfig } from "./config.js";
import { ContentStore } from "./content-store.js";
import type { JobEngine } from "./job-engine.js";
import { JobExecutor, type Unavailable } from "./job-executor.js";
import { encodeNote, unavailableNote } from "./unavailable-note.js";
import { JobQueue, type Job } from "./job-queue.js";
import { MarketReader } from "./market-reader.js";
import { Outbox, type OutboxEntry } from "./outbox.js";
import { OutputServer, type OutputSource } from "./output-server.js";
import { briefError } from "./rpc.js";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { Submitter, submissionPass, type SubmissionPass } from "./submitter.js";
import { WindowSettler } from "./window-settler.js";
import { senderFor } from "../../contracts/client/sender.js";
import { buildUsageReport, signReport } from "./usage-report.js";

export type Log = (line: string) => void;

/** Reports one outbox pass works on at once. */
const SUBMISSIONS_AT_ONCE = 16;

const defaultLog: Log = (line) => console.log(`${new Date().toISOString()} host ${line}`);

/** Which chain, market and provider a data directory belongs to: reusing it for another is refused. */
interface Identity {
  chainId: string;
  startBlockHash: string;
  market: string;
  provider: string;
}

/**
 * The provider's host: watches the chain for agreements awarded to its provider, runs each one,
 * writes the signed usage report to the outbox, submits it exactly once, and serves the outputs
 * to the consumer. Every step's state is on disk, so a crash or an RPC outage only delays it.
 */
export class HostDaemon {
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: () => void = () => {};
  private readonly backoff: Backoff;
  /**
   * Reports claimed by an outbox pass deciding or sending them, or by a co-signature being written,
   * each with the end of that claim: one holder at a time, so a report is never sent alone while its
   * co-signature is being written, nor the co-signature refused while a pass only looks at it.
   */
  private readonly sending = new Map<bigint, Promise<void>>();
  /** The jobs running now, by agreement. */
  private readonly running = new Map<bigint, Promise<void>>();
  /** The outbox pass under way, if any, and whether another was asked for meanwhile. */
  private submitting: Promise<void> | undefined;
  private submitAgain = false;
  /** A job run or outbox pass that failed (an RPC call, the disk): the next pass fails with it and backs off. */
  private backgroundFailure: unknown;
  private lastError: string | undefined;

  private constructor(
    readonly config: HostConfig,
    readonly chainId: bigint,
    private readonly provider: JsonRpcProvider,
    private readonly wallet: Wallet,
    private readonly market: TroupeMarket,
    private readonly jobs: JobQueue,
    private readonly outbox: Outbox,
    private readonly watcher: ChainWatcher,
    private readonly reader: MarketReader,
    private readonly engine: JobEngine,
    private readonly executor: JobExecutor,
    private readonly submitter: Submitter,
    private readonly settler: WindowSettler,
    private readonly server: OutputServer,
    /** The notes of unavailable content this host reported: a store of their own, served to anyone. */
    private readonly notes: ContentStore,
    private readonly log: Log,
    public readonly port: number,
  ) {
    this.backoff = new Backoff(Math.min(500, config.maxBackoffMs), config.maxBackoffMs);
  }

  /** Connects (retrying until the RPC endpoint answers), opens the stores and the output server, and starts the loop. */
  static async start(config: HostConfig, engine: JobEngine, log: Log = defaultLog): Promise<HostDaemon> {
    const { chainId, startBlockHash } = await waitForChain(config, log);
    checkIdentity(config, chainId, startBlockHash);
    const provider = pinnedProvider(config.rpcUrl, chainId, Math.min(config.pollIntervalMs, 1000));
    const wallet = new Wallet(config.hostKey, provider);
    const market = TroupeMarket__factory.connect(config.market, wallet);
    const store = new ContentStore(join(config.dataDir, "store"));
    const jobs = new JobQueue(join(config.dataDir, "jobs"));
    const outbox = new Outbox(join(config.dataDir, "outbox"));
    const reader = new MarketReader(market, provider, config.startBlock, config.logRange);
    const watcher = new ChainWatcher({
      market,
      provider,
      marketAddress: config.market,
      providerAddress: config.provider,
      startBlock: config.startBlock,
      checkpointFile: join(config.dataDir, "checkpoint.json"),
      maxRange: config.logRange,
      confirmations: config.confirmations,
    });
    const executor = new JobExecutor({
      engine,
      store,
      chainId,
      market: config.market,
      maxModuleBytes: config.maxModuleBytes,
      maxInputBytes: config.maxInputBytes,
      jobTimeoutMs: config.jobTimeoutMs,
      fetchTimeoutMs: config.fetchTimeoutMs,
      policy: config.fetchPolicy,
      fetchAttempts: config.fetchAttempts,
      fetchRetryMs: config.fetchRetryMs,
    });
    const notes = new ContentStore(join(config.dataDir, "notes"));
    // The submitter's hook and the server call back into the daemon, which is built last.
    const self: { daemon?: HostDaemon } = {};
    const sender = senderFor(wallet, { log });
    const submitter = new Submitter({
      market,
      provider,
      reader,
      outbox,
      sender,
      onSettled: () => self.daemon?.wake(),
      cosignWaitMs: config.cosignWaitMs,
      afterSend: (entry) => self.daemon!.crashPoint("after-send", entry.report.agreementId),
    });
    const settler = new WindowSettler({ market, reader, outbox, sender, log, onSettled: () => self.daemon?.wake() });
    const source: OutputSource = {
      chainId,
      market: config.market,
      provider: config.provider,
      consumerOf: (id) => jobs.get(id)?.agreement.consumer,
      entry: (id) => outbox.get(id),
      blob: (hash) => store.get(hash),
      note: (hash) => notes.get(hash),
      accept: (id, signature) => self.daemon!.accept(id, signature),
      health: () => self.daemon!.health(),
    };
    const server = new OutputServer(source);
    const port = await server.listen(config.port, config.bind);
    engine.warmJobPool?.();
    const daemon = new HostDaemon(config, chainId, provider, wallet, market, jobs, outbox, watcher, reader, engine, executor, submitter, settler, server, notes, log, port);
    self.daemon = daemon;
    watcher.onReorg = (reorg) => log(`chain reorganised below the confirmation depth (was at block ${reorg.was}): reading again from block ${reorg.from}`);
    log(`serving provider ${config.provider} on market ${config.market} (chain ${chainId}); outputs on http://${config.bind}:${port}`);
    await daemon.warnOnHostKeyMismatch();
    daemon.loopDone = daemon.loop();
    return daemon;
  }

  /** Stops polling, waits for the current step to finish, closes the server and the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    await this.loopDone;
    await Promise.allSettled([...this.running.values(), this.submitting]);
    await this.server.close();
    this.provider.destroy();
    this.engine.shutdownJobPool?.();
  }

  /** Asks the loop to run now instead of after the poll interval. */
  wake(): void {
    this.wakeUp();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let delay = this.config.pollIntervalMs;
      try {
        await this.tick();
        if (this.backoff.consecutiveFailures > 0) this.log(`reconnected after ${this.backoff.consecutiveFailures} failed attempts`);
        this.backoff.reset();
        this.lastError = undefined;
      } catch (error) {
        delay = this.backoff.fail();
        this.lastError = briefError(error);
        this.log(`chain step failed (${this.backoff.consecutiveFailures} in a row), retrying in ${delay} ms: ${this.lastError}`);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * One pass: find new agreements, start queued jobs, and start pushing the outbox to the chain.
   * Jobs and outbox passes run beside the passes over the chain (a finished one wakes the loop), so
   * an agreement awarded while others run or reports go out is found and started at once.
   */
  private async tick(): Promise<void> {
    const failure = this.backgroundFailure;
    this.backgroundFailure = undefined;
    if (failure !== undefined) throw failure;
    await this.watcher.catchUp((event) => this.onAgreementCreated(event));
    this.startQueued();
    this.startSubmitting();
  }

  /** Starts an outbox pass, or asks for another once the one under way ends. */
  private startSubmitting(): void {
    if (this.submitting) {
      this.submitAgain = true;
      return;
    }
    this.submitting = this.submitOutbox()
      .catch((error: unknown) => {
        this.backgroundFailure ??= error;
      })
      .finally(() => {
        this.submitting = undefined;
        if (this.submitAgain) {
          this.submitAgain = false;
          this.wake();
        }
      });
  }

  /**
   * Sends or reconciles every unconfirmed report, and settles the confirmed ones whose dispute
   * window has passed, several side by side: each is a status read and a send (the sender hands out
   * nonces in order), and one pass may hold a report per finished job.
   */
  private async submitOutbox(): Promise<void> {
    const pass = submissionPass(this.reader);
    // Claimed by a co-signature being written, or by an earlier pass still sending it.
    const free = (entry: OutboxEntry) => !this.sending.has(entry.report.agreementId);
    const steps = [
      ...this.outbox.unconfirmed().filter(free).map((entry) => ({ entry, what: "submission", run: () => this.submitOne(entry, pass) })),
      ...this.outbox.confirmed().filter(free).map((entry) => ({ entry, what: "settlement", run: () => this.settleOne(entry, pass) })),
    ];
    let failure: unknown;
    const worker = async () => {
      for (let step = steps.shift(); step; step = steps.shift()) {
        try {
          await step.run();
        } catch (error) {
          // One stuck report must not hold up the others; the pass still counts as failed.
          failure ??= error;
          this.log(`agreement ${step.entry.report.agreementId}: ${step.what} failed: ${briefError(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SUBMISSIONS_AT_ONCE, steps.length) }, worker));
    if (failure) throw failure;
  }

  /** Starts queued jobs, oldest agreement first, while fewer than MAX_CONCURRENT_JOBS run. */
  private startQueued(): void {
    for (const job of this.jobs.queued()) {
      if (this.stopped || this.running.size >= this.config.maxConcurrentJobs) return;
      const id = job.agreement.agreementId;
      if (this.running.has(id)) continue;
      const run = this.runOne(job)
        .catch((error: unknown) => {
          this.backgroundFailure ??= error;
        })
        .finally(() => {
          this.running.delete(id);
          this.wake();
        });
      this.running.set(id, run);
    }
  }

  private async onAgreementCreated(event: AgreementCreatedLog): Promise<void> {
    if (this.jobs.get(event.agreementId)) return;
    const agreement = await this.reader.agreementFrom(event);
    if (!(await this.jobs.enqueue(agreement))) return;
    this.log(`agreement ${agreement.agreementId} awarded (block ${agreement.blockNumber}): ${agreement.workloadURI}, fuel ${agreement.maxFuel}, ${agreement.memoryMiB} MiB`);
  }

  private async runOne(job: Job): Promise<void> {
    const { agreement } = job;
    const id = agreement.agreementId;
    if (this.outbox.get(id)) {
      await this.jobs.update(id, { state: "attested" });
      return;
    }
    const [status, now] = await Promise.all([this.reader.status(id), this.reader.chainTime()]);
    if (status !== Status.Awarded) return this.miss(id, `the agreement is ${STATUS_NAMES[status]}`);
    if (now >= agreement.deadline) return this.miss(id, `the deadline ${agreement.deadline} passed before it ran (chain time ${now})`);

    let result;
    try {
      result = await this.executor.run(agreement, (agreement.deadline - now) * 1000);
    } catch (error) {
      return this.fault(job, briefError(error));
    }
    if ("unavailable" in result) return this.reportUnavailable(job, result);
    if (result.hostFault !== undefined) return this.fault(job, `host fault: ${result.hostFault}`);

    let report;
    try {
      report = buildUsageReport(id, result, this.outbox.reserveNonce());
    } catch (error) {
      return this.fault(job, `unattestable result: ${briefError(error)}`);
    }
    const outputs = await this.executor.storeOutputs(result);
    const { signature } = await signReport(this.wallet, this.signingContext, report);
    await this.outbox.add({ report, signature, outputs });
    this.server.entryWritten(id);
    await this.jobs.update(id, { state: "attested", detail: result.detail });
    this.log(`agreement ${id} ran: outcome ${result.outcome}, exit ${result.exitCode}, fuel ${result.fuelUsed}, output ${report.outputHash}`);
    await this.crashPoint("after-outbox", id);
  }

  /**
   * The consumer's content could not be had: attest that (outcome 6, no fuel) with the sha-256 of
   * the note of what was missing as the output hash, instead of letting the agreement breach.
   */
  private async reportUnavailable(job: Job, result: Unavailable): Promise<void> {
    const { agreement } = job;
    const id = agreement.agreementId;
    const noteHash = "0x" + await this.notes.putAsync(encodeNote(unavailableNote(this.chainId, this.config.market, id, result.missing)));
    const meteringVersion = agreement.meteringVersion ?? Number((await this.market.request(id)).meteringVersion);
    const report = buildUsageReport(
      id,
      { outcome: Outcome.Unavailable, exitCode: 0, fuelUsed: 0n, peakMemoryPages: 0, wallMs: 0, outputHash: noteHash, meteringVersion },
      this.outbox.reserveNonce(),
    );
    const { signature } = await signReport(this.wallet, this.signingContext, report);
    await this.outbox.add({ report, signature, outputs: this.executor.emptyOutputs(), unavailable: { note: noteHash, attempts: result.attempts } });
    this.server.entryWritten(id);
    const last = result.attempts.at(-1);
    const detail = `content unavailable (${result.missing.map((m) => m.what).join(" and ")}) after ${result.attempts.length} failed fetches; last: ${last?.what} ${last?.error}`;
    await this.jobs.update(id, { state: "attested", detail });
    this.log(`agreement ${id}: ${detail}: reporting outcome 6 with note ${noteHash}`);
    await this.crashPoint("after-outbox", id);
  }

  private async submitOne(snapshot: OutboxEntry, pass: SubmissionPass): Promise<void> {
    const job = this.jobs.get(snapshot.report.agreementId);
    if (!job) throw new Error(`outbox entry ${snapshot.report.agreementId} has no job record`);
    await this.advance(snapshot, (entry) => this.submitter.submit(entry, job.agreement.deadline, pass));
  }

  private async settleOne(snapshot: OutboxEntry, pass: SubmissionPass): Promise<void> {
    await this.advance(snapshot, async (entry) => (entry.state === "confirmed" ? this.settler.step(entry, pass) : entry));
  }

  /** Moves one outbox entry on while holding its claim, and says so when that changed it. */
  private async advance(snapshot: OutboxEntry, move: (entry: OutboxEntry) => Promise<OutboxEntry>): Promise<void> {
    const id = snapshot.report.agreementId;
    // A co-signature being written claimed it after this pass listed it: that write decides how it is sent.
    if (this.sending.has(id)) return;
    await this.claimed(id, async () => {
      // Re-read after claiming it: a co-signature may have arrived since the pass listed the outbox.
      const entry = this.outbox.get(id) ?? snapshot;
      const after = await move(entry);
      if (after.state !== entry.state || after.txHash !== entry.txHash) this.log(`agreement ${id}: report ${after.state}${after.detail ? ` (${after.detail})` : ""}`);
    });
  }

  /** Runs `work` holding agreement `id`'s claim (see `sending`); the caller checked it was free. */
  private async claimed<T>(id: bigint, work: () => Promise<T>): Promise<T> {
    let release = () => {};
    this.sending.set(id, new Promise<void>((resolve) => (release = resolve)));
    try {
      return await work();
    } finally {
      this.sending.delete(id);
      release();
    }
  }

  private async miss(id: bigint, detail: string): Promise<void> {
    await this.jobs.update(id, { state: "missed", detail });
    this.log(`agreement ${id} not run: ${detail}`);
  }

  /** A run that says nothing about the workload: retry it a bounded number of times, never attest it. */
  private async fault(job: Job, detail: string): Promise<void> {
    const id = job.agreement.agreementId;
    const attempts = job.attempts + 1;
    const gaveUp = attempts >= this.config.maxJobAttempts;
    await this.jobs.update(id, { attempts, detail, state: gaveUp ? "failed" : "queued" });
    this.log(`agreement ${id}: attempt ${attempts}/${this.config.maxJobAttempts} failed, ${gaveUp ? "giving up" : "will retry"}: ${detail}`);
  }

  /** Takes the consumer's co-signature of the report; settles with reportAndSettle if not yet submitted. */
  private async accept(id: bigint, consumerSignature: string): Promise<{ status: number; message: string }> {
    const entry = this.outbox.get(id);
    const consumer = this.jobs.get(id)?.agreement.consumer;
    if (!entry || !consumer) return { status: 409, message: `agreement ${id} has no report yet: try again once it has run` };
    let signer: string;
    try {
      signer = verifyTypedData(
        marketDomain(this.chainId, this.config.market),
        USAGE_ACCEPTANCE_TYPES,
        { agreementId: id, reportHash: usageReportHash(entry.report) },
        consumerSignature,
      );
    } catch (error) {
      return { status: 400, message: `malformed signature: ${briefError(error)}` };
    }
    if (signer.toLowerCase() !== consumer.toLowerCase()) {
      return { status: 403, message: `the acceptance is signed by ${signer}, not by the agreement's consumer (or not for this report)` };
    }
    // A pass that holds the report may only be looking at it (it waits for this very co-signature):
    // wait for it to let go, then judge the report as it stands.
    for (let claim = this.sending.get(id); claim; claim = this.sending.get(id)) await claim;
    const current = this.outbox.get(id) ?? entry;
    if (current.state === "pending") {
      // Claimed while it is written, so no pass sends the report alone meanwhile.
      await this.claimed(id, () => this.outbox.update(id, { consumerSignature }));
      this.wake();
      return { status: 202, message: `accepted: the host settles agreement ${id} with reportAndSettle` };
    }
    if (current.state === "missed") return { status: 410, message: `agreement ${id} can no longer be reported (${current.detail ?? "missed"})` };
    return { status: 409, message: `the report of agreement ${id} is already on its way to the chain: call acceptReport(${id}) from the consumer's account` };
  }

  private health(): Record<string, unknown> {
    const count = <T extends { state: string }>(items: T[]) =>
      items.reduce<Record<string, number>>((acc, item) => ({ ...acc, [item.state]: (acc[item.state] ?? 0) + 1 }), {});
    return {
      ok: this.lastError === undefined,
      provider: this.config.provider,
      market: this.config.market,
      chainId: this.chainId,
      checkpoint: this.watcher.checkpoint,
      jobs: count(this.jobs.all()),
      outbox: count(this.outbox.all()),
      lastError: this.lastError ?? null,
    };
  }

  private get signingContext(): SigningContext {
    return { chainId: this.chainId, market: this.config.market };
  }

  /** Test hook: stop dead at a crash point (the test then SIGKILLs the process). */
  private async crashPoint(point: CrashPoint, id: bigint): Promise<void> {
    if (this.config.crashPoint !== point) return;
    this.log(`crash point ${point} reached for agreement ${id}`);
    await new Promise<never>(() => {});
  }

  private async warnOnHostKeyMismatch(): Promise<void> {
    try {
      const registry = ProviderRegistry__factory.connect(await this.market.registry(), this.provider);
      const registered = await registry.hostKeyOf(this.config.provider);
      if (registered.toLowerCase() !== this.wallet.address.toLowerCase()) {
        this.log(`warning: HOST_KEY is ${this.wallet.address} but the registry's host key for ${this.config.provider} is ${registered}: reports will be rejected`);
      }
    } catch (error) {
      this.log(`could not check the host key against the registry: ${briefError(error)}`);
    }
  }
}

/** The chain id and the hash of the market's start block, asking until the endpoint answers. */
async function waitForChain(config: HostConfig, log: Log): Promise<{ chainId: bigint; startBlockHash: string }> {
  const backoff = new Backoff(Math.min(500, config.maxBackoffMs), config.maxBackoffMs);
  for (;;) {
    try {
      const chainId = await probeChainId(config.rpcUrl);
      const provider = pinnedProvider(config.rpcUrl, chainId, 1000);
      try {
        // Dev chains share one genesis, so block 0 stands for the first block after it.
        const marker = Math.max(config.startBlock, 1);
        const block = await provider.getBlock(marker);
        if (!block?.hash) throw new Error(`block ${marker} (MARKET_START_BLOCK) is beyond the chain's head`);
        return { chainId, startBlockHash: block.hash };
      } finally {
        provider.destroy();
      }
    } catch (error) {
      const delay = backoff.fail();
      log(`RPC ${config.rpcUrl} not ready (${briefError(error)}), retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Binds the data directory to one chain (by its id and the market's start block, so a restarted
 * dev chain that reuses addresses is told apart), market and provider: a checkpoint or a job
 * record is never applied to another.
 */
function checkIdentity(config: HostConfig, chainId: bigint, startBlockHash: string): void {
  const file = join(config.dataDir, "identity.json");
  const mine: Identity = { chainId: chainId.toString(), startBlockHash, market: config.market, provider: config.provider };
  const stored = readJsonFile<Identity>(file);
  if (!stored) return writeJsonAtomic(file, mine);
  if (stored.chainId !== mine.chainId || stored.startBlockHash !== mine.startBlockHash) {
    throw new Error(
      `DATA_DIR ${config.dataDir} belongs to another chain (id ${stored.chainId}, start block ${stored.startBlockHash}; now id ${mine.chainId}, ${mine.startBlockHash}): use a fresh DATA_DIR`,
    );
  }
  if (stored.market !== mine.market || stored.provider !== mine.provider) {
    throw new Error(
      `DATA_DIR ${config.dataDir} belongs to provider ${stored.provider} on market ${stored.market}, not to provider ${mine.provider} on market ${mine.market}`,
    );
  }
}
