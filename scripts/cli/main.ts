import { readFileSync } from "node:fs";
import type { Context } from "./context.js";
import { UsageError } from "./units.js";
import { OVERVIEW, helpFor } from "./help.js";

type Command = (ctx: Context, argv: string[]) => Promise<void>;

/**
 * Commands are loaded when run, so help and --version need neither the chain nor the compiled
 * contracts. `offline` commands get no chain context.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  provider: async () => (await import("./commands/provider.js")).providerCommand,
  deploy: async () => (await import("./commands/deploy.js")).deployCommand,
  "why-no-bid": async () => (await import("./commands/why-no-bid.js")).whyNoBidCommand,
  verify: async () => (await import("./commands/verify.js")).verifyCommand,
  status: async () => (await import("./commands/status.js")).statusCommand,
  dispute: async () => (await import("./commands/dispute.js")).disputeCommand,
  verifier: async () => (await import("./commands/verifier.js")).verifierCommand,
  market: async () => (await import("./commands/market.js")).marketCommand,
  token: async () => (await import("./commands/token.js")).tokenCommand,
  faucet: async () => (await import("./commands/token.js")).faucetCommand,
};
const OFFLINE: Record<string, () => Promise<(argv: string[], print: (line: string) => void) => Promise<void>>> = {
  keystore: async () => (await import("./commands/keystore.js")).keystoreCommand,
  keys: async () => (await import("./commands/keys.js")).keysCommand,
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Runs one command; returns the exit code (0 ok, 1 failed, 2 bad input). Errors are one line on stderr. */
export async function main(argv: string[], print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" && rest[0] ? helpFor(rest[0], rest[1]) : undefined;
    print(topic ?? OVERVIEW);
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    print(`troupe ${version()} (node ${process.version})`);
    return 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    const help = helpFor(name, rest[0]);
    if (help) {
      print(help);
      return 0;
    }
  }
  let ctx: Context | undefined;
  try {
    const offline = OFFLINE[name];
    if (offline) {
      await (await offline())(rest, print);
      return 0;
    }
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}" (troupe --help lists them)`);
    const command = await load();
    ctx = (await import("./context.js")).createContext(print);
    await command(ctx, rest);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const message = usage ? (error as Error).message : (await import("./errors.js")).describeError(error);
    const hint = usage && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? ` (troupe ${name} --help)` : "";
    console.error(`troupe ${name}: ${message}${hint}`);
    return usage ? 2 : 1;
  } finally {
    ctx?.close();
  }
}
