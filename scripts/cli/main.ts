import { describeError } from "./errors.js";
import { createContext, type Context } from "./context.js";
import { UsageError } from "./units.js";
import { providerCommand } from "./commands/provider.js";
import { statusCommand } from "./commands/status.js";
import { disputeCommand } from "./commands/dispute.js";
import { marketCommand } from "./commands/market.js";
import { keystoreCommand } from "./commands/keystore.js";
import { deployCommand } from "./commands/deploy.js";
import { whyNoBidCommand } from "./commands/why-no-bid.js";
import { verifyCommand } from "./commands/verify.js";

const HELP = `troupe — the Troupe market from the command line

provider:  troupe provider register|offer|agent|verifier|unbond|withdraw|status …
consumer:  troupe deploy <module.wasm> [--input <file>] [--max-price <tokens>] [--max-fuel <fuel>] [--tiers cloud,edge,iot] [--region <n>] [--deadline <duration>]
           troupe status <id> | troupe dispute <id> | troupe why-no-bid <id> [--provider <address>]
anyone:    troupe verify <agreement> | troupe market
keys:      troupe keystore create <file>   (encrypts the key in TROUPE_KEY with TROUPE_KEYSTORE_PASSWORD)

Keys come from the environment: PROVIDER_KEY, CONSUMER_KEY, … or TROUPE_KEY (a private key), or
<ROLE>_KEYSTORE + <ROLE>_KEYSTORE_PASSWORD (an encrypted keystore file). Never pass keys as arguments.
RPC_URL, EXPLORER_URL and TROUPE_DEPLOYMENT (default .troupe/deployment.json) say where the market is.`;

type Command = (ctx: Context, argv: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  provider: providerCommand,
  deploy: deployCommand,
  "why-no-bid": whyNoBidCommand,
  verify: verifyCommand,
  status: statusCommand,
  dispute: disputeCommand,
  market: marketCommand,
};

/** Runs one command; returns the exit code (0 ok, 1 failed, 2 bad usage). Errors are one line on stderr. */
export async function main(argv: string[], print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    print(HELP);
    return name ? 0 : 2;
  }
  let ctx: Context | undefined;
  try {
    if (name === "keystore") {
      await keystoreCommand(rest, print);
      return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}" (troupe help lists them)`);
    ctx = await createContext(print);
    await command(ctx, rest);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`troupe ${name}: ${usage ? (error as Error).message : describeError(error)}`);
    return usage ? 2 : 1;
  } finally {
    ctx?.provider.destroy();
  }
}
