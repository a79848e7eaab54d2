import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";

/** How to start one actor of the local market. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  log: WriteStream;
  exited: Promise<number | null>;
}

/**
 * The local market's child processes: each actor is its own process with its own log file,
 * started, killed and restarted by name. Nothing here coordinates the actors: they only meet on
 * the chain.
 */
export class ProcessGroup {
  private readonly running = new Map<string, Running>();
  private readonly specs = new Map<string, ProcessSpec>();
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly onExit: (name: string, code: number | null) => void = () => {},
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: ProcessSpec): ChildProcess {
    if (this.running.has(spec.name)) throw new Error(`${spec.name} is running already`);
    this.specs.set(spec.name, spec);
    const log = createWriteStream(join(this.logDir, `${spec.name}.log`), { flags: "a" });
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a kill reaches its children too
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | null>((resolve) => {
      child.on("exit", (code) => {
        const current = this.running.get(spec.name);
        if (current?.child === child) this.running.delete(spec.name);
        if (!this.stopping) this.onExit(spec.name, code);
        resolve(code);
      });
    });
    this.running.set(spec.name, { spec, child, log, exited });
    return child;
  }

  /** How an actor was (last) started, running or not. */
  specOf(name: string): ProcessSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`${name} was never started`);
    return spec;
  }

  /** The log file of an actor. */
  logOf(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  /** Waits until an actor's log shows `pattern` (how an actor without a health endpoint says it is ready). */
  async waitForLog(name: string, pattern: RegExp, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    const file = this.logOf(name);
    while (Date.now() < until) {
      if (existsSync(file) && pattern.test(readFileSync(file, "utf8"))) return;
      if (!this.running.has(name)) throw new Error(`${name} exited before it was ready (see ${file})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} did not print ${pattern} within ${timeoutMs / 1000}s (see ${file})`);
  }

  has(name: string): boolean {
    return this.running.has(name);
  }

  /** Kills one actor (SIGKILL by default: a crash) and waits until it is gone. */
  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<ProcessSpec> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    signalGroup(r.child, signal);
    await r.exited;
    return r.spec;
  }

  /** Kills an actor and starts it again with the same command and environment. */
  async restart(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const spec = await this.kill(name, signal);
    this.start(spec);
  }

  /** Stops every actor: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()];
    for (const r of all) signalGroup(r.child, "SIGTERM");
    const timer = setTimeout(() => all.forEach((r) => signalGroup(r.child, "SIGKILL")), graceMs);
    await Promise.all(all.map((r) => r.exited));
    clearTimeout(timer);
    for (const r of all) r.log.end();
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
