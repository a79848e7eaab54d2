import { Worker } from "node:worker_threads";
import type { WorkerConfig, WorkerReply } from "./query-worker.js";

/** An answer from the pool (or its refusal), ready to send: `body` is the response's UTF-8 bytes. */
export interface PoolAnswer {
  status: number;
  body: Buffer;
  cacheable: boolean;
}

export interface PoolOptions extends Omit<WorkerConfig, "claim"> {
  /** Worker threads (each runs one query at a time). */
  size: number;
  /** Queries one client may have waiting or running. */
  maxPerClient: number;
  /** Queries waiting in all. */
  maxQueued: number;
  /** How long a query may wait for a worker. */
  maxWaitMs: number;
}

interface Job {
  id: number;
  client: Client;
  body: string;
  queuedAt: number;
  resolve: (answer: PoolAnswer) => void;
}

interface Client {
  key: string;
  queue: Job[];
  running: number;
  /** Worker time this client has used, in ms (its virtual clock, for fair queueing). */
  used: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** The job the worker runs (or starts next). */
  job?: Job;
  startedAt?: number;
  timer?: NodeJS.Timeout;
  /** A job sent ahead, which the worker starts as soon as `job` is done (unless another worker took it back). */
  next?: Job;
  /** Shared with the worker: the id of the job it may still claim (0: none), so a job sent ahead can be taken back. */
  claim: Int32Array;
}

function errorBody(message: string, code: string): Buffer {
  return Buffer.from(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

const WORKER_URL = new URL("./query-worker-entry.mjs", import.meta.url);

/** How long a job sent ahead may wait behind a worker's running query before it goes back to the queue. */
const AHEAD_WAIT_MS = 3;

/**
 * Runs queries on worker threads, fairly between clients, and cancels the slow ones.
 *
 * - Fair: the next query to run is the oldest of the client that has used the least worker time
 *   (start-time fair queueing), so a client looping expensive queries waits behind the others
 *   instead of taking every worker.
 * - Bounded: a query running past the time limit has its worker ended (and replaced), and gets an
 *   error; a client with too many queries in flight, or a full queue, is refused at once.
 * - Pipelined: when every worker is busy, each is sent the next query ahead, so it starts it as
 *   soon as it is done instead of waiting for this thread to hear of it and answer (on a loaded
 *   machine that round trip is longer than a common query). A worker that becomes free takes back
 *   a query still waiting behind another one, so nothing waits behind a long query while a worker
 *   is free.
 */
export class QueryPool {
  private readonly slots: Slot[] = [];
  private readonly clients = new Map<string, Client>();
  private queued = 0;
  private nextId = 1;
  /** The virtual time of the last dispatched query: where returning clients start. */
  private clock = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const { dbPath, schemaSource, limits } = this.options;
    const claim = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_URL, { workerData: { dbPath, schemaSource, limits, claim } satisfies WorkerConfig });
    const slot: Slot = { worker, ready: Promise.resolve(), claim };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m.ready) {
          worker.off("error", reject);
          resolve();
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
    worker.on("message", (m: WorkerReply | { ready: true }) => {
      if ("id" in m) this.finish(slot, m);
    });
    worker.on("error", (error) => this.fail(slot, `the query worker failed: ${error.message}`));
    worker.on("exit", () => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot);
    });
    return slot;
  }

  /** Waits until every worker has opened the index. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  private client(key: string): Client {
    let c = this.clients.get(key);
    if (!c) {
      c = { key, queue: [], running: 0, used: this.clock };
      this.clients.set(key, c);
    }
    return c;
  }

  run(clientKey: string, body: string): Promise<PoolAnswer> {
    if (this.closed) return Promise.resolve({ status: 503, body: errorBody("the explorer is shutting down", "SHUTTING_DOWN"), cacheable: false });
    const client = this.client(clientKey);
    if (client.queue.length + client.running >= this.options.maxPerClient) {
      return Promise.resolve({
        status: 429,
        body: errorBody(`too many queries from ${clientKey} in flight (${this.options.maxPerClient}): wait for answers before sending more`, "TOO_MANY_REQUESTS"),
        cacheable: false,
      });
    }
    if (this.queued >= this.options.maxQueued) {
      return Promise.resolve({ status: 503, body: errorBody("the explorer is busy (its query queue is full): retry in a moment", "SERVER_BUSY"), cacheable: false });
    }
    // A client that was idle resumes at the current virtual time: past idleness earns no credit.
    if (client.queue.length === 0 && client.running === 0) client.used = Math.max(client.used, this.clock);
    return new Promise((resolve) => {
      client.queue.push({ id: this.newId(), client, body, queuedAt: performance.now(), resolve });
      this.queued++;
      this.dispatch();
    });
  }

  private newId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fff_ffff) + 1; // the claim cell is an Int32; 0 means none
    return id;
  }

  private pick(): Job | undefined {
    let best: Client | undefined;
    for (const c of this.clients.values()) {
      if (c.queue.length && (!best || c.used < best.used)) best = c;
    }
    if (!best) return undefined;
    this.queued--;
    return best.queue.shift();
  }

  /** The next job to run, counted as its client's; answers that waited too long are refused rather than run for a client that gave up. */
  private take(): Job | undefined {
    let job = this.pick();
    while (job && performance.now() - job.queuedAt > this.options.maxWaitMs) {
      job.resolve({ status: 503, body: errorBody(`the explorer is busy: the query waited ${this.options.maxWaitMs} ms for a worker; retry in a moment`, "SERVER_BUSY"), cacheable: false });
      job = this.pick();
    }
    if (!job) return undefined;
    this.clock = Math.max(this.clock, job.client.used);
    job.client.running++;
    return job;
  }

  private send(slot: Slot, job: Job): void {
    Atomics.store(slot.claim, 0, job.id);
    slot.worker.postMessage({ id: job.id, body: job.body });
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    slot.startedAt = performance.now();
    slot.timer = setTimeout(() => this.timeout(slot), this.options.limits.timeoutMs + 250);
  }

  /** A job sent ahead to another worker that has not started it yet, taken back for `free`. */
  private takeBack(free: Slot): Job | undefined {
    for (const slot of this.slots) {
      const job = slot.next;
      if (slot === free || !job) continue;
      if (Atomics.compareExchange(slot.claim, 0, job.id, 0) === job.id) {
        slot.next = undefined;
        return job;
      }
    }
    return undefined;
  }

  /** Whether the slot's query has run long enough that a job sent ahead should not wait behind it. */
  private stuck(slot: Slot, now: number): boolean {
    return slot.job !== undefined && now - slot.startedAt! > AHEAD_WAIT_MS;
  }

  private dispatch(): void {
    const now = performance.now();
    // Jobs sent ahead to a worker busy with a long query go back to the front of the queue.
    for (const slot of this.slots) {
      const job = slot.next;
      if (job && this.stuck(slot, now) && Atomics.compareExchange(slot.claim, 0, job.id, 0) === job.id) this.requeueNext(slot);
    }
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.takeBack(slot) ?? this.take();
      if (!job) return;
      this.start(slot, job);
      this.send(slot, job);
    }
    // Every worker is busy: send each one job ahead (once it has claimed the one it runs).
    for (const slot of this.slots) {
      if (slot.next || this.stuck(slot, now) || Atomics.load(slot.claim, 0) !== 0) continue;
      const job = this.take();
      if (!job) return;
      slot.next = job;
      this.send(slot, job);
    }
  }

  private release(slot: Slot): Job | undefined {
    const job = slot.job;
    if (!job) return undefined;
    clearTimeout(slot.timer);
    job.client.running--;
    job.client.used += performance.now() - slot.startedAt!;
    slot.job = undefined;
    if (job.client.queue.length === 0 && job.client.running === 0 && this.clients.size > 1000) this.clients.delete(job.client.key);
    return job;
  }

  /** The job sent ahead to a worker that is gone goes back to the front of its client's queue. */
  private requeueNext(slot: Slot): void {
    const job = slot.next;
    if (!job) return;
    slot.next = undefined;
    job.client.running--;
    job.client.queue.unshift(job);
    this.queued++;
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    if (slot.job?.id !== reply.id) return;
    const job = this.release(slot)!;
    const { buffer, byteOffset, byteLength } = reply.body;
    job.resolve({ status: reply.status, body: Buffer.from(buffer, byteOffset, byteLength), cacheable: reply.cacheable });
    const next = slot.next;
    if (next) {
      slot.next = undefined;
      this.start(slot, next); // the worker has started it, or will on reading its queue
    }
    this.dispatch();
  }

  private fail(slot: Slot, message: string): void {
    const job = this.release(slot);
    this.requeueNext(slot);
    job?.resolve({ status: 500, body: errorBody(message, "INTERNAL"), cacheable: false });
  }

  /** The query ran past the limit: end its worker (the only way to stop a running statement) and answer. */
  private timeout(slot: Slot): void {
    const job = this.release(slot);
    if (!job) return;
    this.requeueNext(slot);
    job.resolve({
      status: 200,
      body: errorBody(
        `the query took longer than the limit of ${this.options.limits.timeoutMs} ms and was cancelled: ask for fewer entities, use simpler filters, or nest less`,
        "QUERY_TIMEOUT",
      ),
      cacheable: false,
    });
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    this.fail(slot, "the query worker stopped");
    void slot.worker.terminate();
    this.slots[index] = this.spawn();
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) this.requeueNext(slot);
    for (const c of this.clients.values()) {
      for (const job of c.queue) job.resolve({ status: 503, body: errorBody("the explorer is shutting down", "SHUTTING_DOWN"), cacheable: false });
      c.queue = [];
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
