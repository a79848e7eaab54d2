import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The host daemon running as a real child process (`runtime/host/main.ts` under tsx). */
export interface HostProcess {
  child: ChildProcess;
  /** Everything it printed so far, line by line (stdout and stderr). */
  lines: string[];
  /** Resolves with the first line matching `pattern`, among those printed from line `from` on (default: all). */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Resolves with the exit code (or the signal) when the process ends. */
  exited: Promise<number | NodeJS.Signals>;
  /** SIGKILL: no handler runs, nothing is flushed (a crash). */
  kill(): Promise<void>;
  /** SIGTERM, then wait for a clean exit. */
  stop(): Promise<void>;
}

export function spawnHost(env: Record<string, string>): HostProcess {
  return spawnActor("runtime/host/main.ts", env);
}

/** Any of the runtime's actors (the host, the verifier agent) as a real child process under tsx. */
export function spawnActor(script: string, env: Record<string, string>): HostProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void; reject: (error: Error) => void }>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line === "") continue;
      lines.push(line);
      if (process.env.TROUPE_HOST_TEST_LOG) console.log(`    [host ${child.pid}] ${line}`);
      for (const w of waiters) {
        if (!w.pattern.test(line)) continue;
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const w of waiters) w.reject(new Error(`the host exited (${code ?? signal}) before printing ${w.pattern}; it printed:\n${lines.join("\n")}`));
      waiters.clear();
      resolve(code ?? signal!);
    }),
  );
  return {
    child,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 30_000, from = 0) {
      const seen = lines.slice(from).find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (line: string) => (clearTimeout(timer), resolve(line)),
          reject: (error: Error) => (clearTimeout(timer), reject(error)),
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`the host did not print ${pattern} within ${timeoutMs} ms; it printed:\n${lines.join("\n")}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
