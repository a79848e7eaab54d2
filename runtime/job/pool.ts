import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { Outcome } from "../../contracts/client/typed-data.js";
import { METERING_VERSION } from "../wasm/cost-table.js";
import { outputHash } from "./output-hash.js";
import type { JobResult, JobSpec } from "./types.js";

/** A job process is replaced after this many jobs, and after any job that ended in a host fault. */
const MAX_JOBS_PER_PROCESS = 5000;

interface Member {
  proc: ChildProcess;
  jobs: number;
  key: string;
}

type Reply = { id: number; started?: true; result?: JobResult; error?: string; fault?: string };

/** A process that dies before it acknowledged the job never started it: the job is retried elsewhere. */
const RETRIES_BEFORE_START = 2;

const childUrl = new URL("./child.ts", import.meta.url);
const tsxLoader = import.meta.resolve("tsx");

/**
 * Job processes, reused between jobs: isolation holds because every job gets a fresh instance and
 * WASI state, and a process that saw a host fault (crash, V8 OOM, watchdog) is thrown away.
 */
class JobPool {
  private idle = new Map<string, Member[]>();
  private busy = 0;
  private waiting: (() => void)[] = [];
  private nextId = 1;
  private readonly all = new Set<Member>();

  constructor(private readonly max = Math.max(1, availableParallelism())) {}

  async run(spec: JobSpec, v8Flags: string[]): Promise<JobResult> {
    while (this.busy >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.busy++;
    const key = v8Flags.join(" ");
    try {
      for (let attempt = 0; ; attempt++) {
        const member = this.takeIdle(key) ?? this.spawn(key, v8Flags);
        const { result, healthy, started } = await this.send(member, spec);
        if (healthy && ++member.jobs < MAX_JOBS_PER_PROCESS) this.park(member);
        else this.discard(member);
        if (started || attempt >= RETRIES_BEFORE_START) return result;
      }
    } finally {
      this.busy--;
      this.waiting.shift()?.();
    }
  }

  /**
   * Starts idle job processes up to the pool's size, so the first jobs do not wait for a process
   * to start (loading the runtime and its job thread takes a second or more on a busy machine,
   * and a burst of awards would queue behind it).
   */
  warm(v8Flags: string[]): void {
    const key = v8Flags.join(" ");
    for (let n = this.all.size; n < this.max; n++) this.park(this.spawn(key, v8Flags));
  }

  /** An idle process for these flags that is still alive (one may die while idle). */
  private takeIdle(key: string): Member | undefined {
    const list = this.idle.get(key) ?? [];
    for (let m = list.pop(); m; m = list.pop()) {
      if (m.proc.connected && m.proc.exitCode === null && m.proc.signalCode === null) return m;
      this.discard(m);
    }
    return undefined;
  }

  private spawn(key: string, v8Flags: string[]): Member {
    const proc = fork(childUrl, [], {
      execArgv: ["--import", tsxLoader, ...v8Flags],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const member = { proc, jobs: 0, key };
    this.all.add(member);
    proc.on("exit", () => this.forget(member));
    // A failed send to a process that is already gone surfaces here; the job's own handler reports it.
    proc.on("error", () => this.forget(member));
    return member;
  }

  private park(m: Member): void {
    m.proc.unref();
    (m.proc.channel as { unref?: () => void } | undefined)?.unref?.();
    const list = this.idle.get(m.key) ?? [];
    list.push(m);
    this.idle.set(m.key, list);
  }

  private forget(m: Member): void {
    this.all.delete(m);
    const list = this.idle.get(m.key);
    if (list) this.idle.set(m.key, list.filter((x) => x !== m));
  }

  private discard(m: Member): void {
    this.forget(m);
    m.proc.kill("SIGKILL");
  }

  private send(m: Member, spec: JobSpec): Promise<{ result: JobResult; healthy: boolean; started: boolean }> {
    const id = this.nextId++;
    const { proc } = m;
    proc.ref();
    (proc.channel as { ref?: () => void } | undefined)?.ref?.();
    return new Promise((resolve) => {
      const sentAt = performance.now();
      let settled = false;
      let started = false;
      const done = (result: JobResult, healthy: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.off("message", onMessage);
        proc.off("exit", onExit);
        resolve({ result, healthy, started });
      };
      const fault = (why: string): JobResult => faultResult(spec, why, Math.round(performance.now() - sentAt));
      const onMessage = (r: Reply): void => {
        if (r.id !== id) return;
        if (r.started) {
          started = true;
          return;
        }
        if (r.result) done(r.result, r.result.hostFault === undefined);
        else done(fault(r.fault ?? `job process error: ${r.error}`), false);
      };
      const onExit = (code: number | null, signal: string | null): void =>
        done(fault(`job process died (${signal ?? `exit code ${code}`})`), false);
      const timer = setTimeout(() => {
        done(fault(`wall-clock watchdog fired after ${spec.limits.wallTimeoutMs} ms`), false);
      }, spec.limits.wallTimeoutMs);
      proc.on("message", onMessage);
      proc.on("exit", onExit);
      if (proc.exitCode !== null || proc.signalCode !== null || !proc.connected) {
        done(fault("job process was gone before the job started"), false);
        return;
      }
      proc.send({ id, spec }, (err) => {
        if (err) done(fault(`could not hand the job to its process: ${err.message}`), false);
      });
    });
  }

  shutdown(): void {
    for (const m of [...this.all]) this.discard(m);
  }
}

function faultResult(spec: JobSpec, hostFault: string, wallMs: number): JobResult {
  return {
    outcome: Outcome.Trap,
    exitCode: 0,
    fuelUsed: 0n,
    peakMemoryPages: 0,
    wallMs,
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
    outputs: {},
    outputHash: outputHash(new Uint8Array(), spec.input.outputs, {}),
    meteringVersion: METERING_VERSION,
    detail: hostFault,
    hostFault,
  };
}

let pool: JobPool | undefined;

export function jobPool(): JobPool {
  return (pool ??= new JobPool());
}

/** Starts the job processes before the first job needs them. */
export function warmJobPool(v8Flags: string[] = []): void {
  jobPool().warm(v8Flags);
}

/** Kills every job process (for tests and for a host that is shutting down). */
export function shutdownJobPool(): void {
  pool?.shutdown();
  pool = undefined;
}
