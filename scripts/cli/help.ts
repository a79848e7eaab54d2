/**
 * The CLI's help texts, kept apart from the commands so `troupe --help` (and every
 * `troupe <command> --help`) works offline and before the contracts are built.
 */
export const OVERVIEW = `troupe — the Troupe market from the command line

usage: troupe <command> [options]      troupe <command> --help shows a command's options and defaults

consumer:  deploy <module.wasm> …     post a request, follow it to a verified, settled output
           status <id>                a request / agreement and its timeline
           dispute <id>               dispute a report within its window (posts the bond)
           dispute status|appeal <id> the case in the verifier court; appeal its last decision
           why-no-bid <id>            why the providers' matchmakers did (not) bid
provider:  provider register|offer|agent|host-key-proof|unbond|withdraw|status …
verifier:  verifier stake|leave|withdraw|status|run   stake in the court and judge disputes
anyone:    verify <agreement>         re-execute and compare the attested fuel and output hash
           market                     a summary through the explorer
tokens:    token balance|transfer …   the market's ERC-20
           faucet <address>           local chains only: tokens and ether for a new key
keys:      keys [consumer|provider|deployer]   the local chain's funded test keys
           keystore create <file>     encrypt TROUPE_KEY with TROUPE_KEYSTORE_PASSWORD

Keys come from the environment: CONSUMER_KEY, PROVIDER_KEY, … or TROUPE_KEY (a private key), or
<ROLE>_KEYSTORE + <ROLE>_KEYSTORE_PASSWORD (an encrypted keystore file). Never pass keys as arguments.
RPC_URL, EXPLORER_URL and TROUPE_DEPLOYMENT (default .troupe/deployment.json; npm start writes
.troupe/local/deployment.json) say where the market is.
Exit status: 0 done, 1 failed (the chain or a host said no), 2 bad input (nothing was sent).
--version prints the version.`;

const DEPLOY = `troupe deploy <module.wasm> [options]
Publishes the module and its input, posts the request with its escrow (CONSUMER_KEY), follows the
bids and the award, fetches the output from the winning host, checks it against the signed report,
co-signs it and waits for the settlement.
  --input <file>          stdin for the module (default: empty)
  --arg <text>            an argument (repeatable; argv[0] is the module's file name)
  --env NAME=value        an environment variable (repeatable)
  --file name=<path>      a file in the module's in-memory tree (repeatable)
  --output <name>         a file the module writes that belongs to the output (repeatable)
  --max-price <tokens>    the highest price per million fuel (default 0.05)
  --max-fee <tokens>      the highest fixed fee (default 0.01)
  --max-fuel <fuel>       the fuel cap, e.g. 500M or 1G (default 1G)
  --memory <MiB>          memory the job needs (default 64)
  --tiers <list>          cloud,edge,iot or all (default all)
  --region <n>            the region wanted, 0 = any (default 0)
  --latency <class>       the highest latency class accepted (default 255 = any)
  --bid-window <duration> how long bids are taken (default 15s; widened to what bids measurably take)
  --deadline <duration>   when the report is due, from now (default 10m)
  --accept-first          accept the first bid at once instead of waiting for the window
  --value-at-risk <tokens> what a failed job costs you (default: the escrow); the market awards the
                          lowest expected cost = total + value at risk × the bidder's failure rate
  --choose auto|rule      auto: your own agent scores the live bids with the matchmaker's model and
                          accepts the one of highest expected welfare; rule (default): the market's rule
The provider gets the time left after the bid window to report (counted from the award); an award
too late for it refunds the escrow. The request uses this host software's metering version.
Escrow = max-fuel × max-price / 1e6 + max-fee, locked until settlement; the rest comes back.`;

const PROVIDER: Record<string, string> = {
  register: `troupe provider register --stake <tokens> --tier cloud|edge|iot --region <n> [--host-key <address> --host-key-proof <sig>] [--endpoint <url> | --metadata <uri>]
Registers PROVIDER_KEY's address as a provider, staking <tokens> (at least the market's minimum).
The host key (the host daemon's HOST_KEY, which signs usage reports) must prove it agreed: with
HOST_KEY in the environment it signs here; otherwise pass the output of
\`troupe provider host-key-proof <provider address>\` run where the host key is.
  --endpoint   the host's public URL (stored as inline JSON metadata); or --metadata <uri>`,
  "host-key-proof": `troupe provider host-key-proof <provider address>
Signs with HOST_KEY the proof that this host key signs reports for <provider address>, and prints
the --host-key and --host-key-proof options for \`troupe provider register\`.`,
  offer: `troupe provider offer publish --price <tokens per Mfuel> --max-fuel <fuel> --memory <MiB> [--fee <tokens>] [--concurrency <n>] [--latency <class>] [--expires <duration>]
troupe provider offer update <offerId> [same options; unset ones keep their value]
troupe provider offer withdraw <offerId>
Defaults for publish: --fee 0, --concurrency 1, --latency 1, --metering <this host's version>, --expires 30d.
Only requests posted with the offer's metering version can be bid on from it.`,
  agent: `troupe provider agent authorise <address> [--revoke]
Lets a matchmaker agent key bid for this provider (or stops it).`,
  unbond: `troupe provider unbond <tokens>
Starts unbonding stake; it can be withdrawn after the market's unbonding delay, stays slashable
until then, and cannot go below what the provider's open agreements need.`,
  withdraw: `troupe provider withdraw
Withdraws stake whose unbonding delay has passed.`,
  status: `troupe provider status [<address>]
A provider's tier, stake, reputation, offers and earnings (default: PROVIDER_KEY's address).`,
};

const PROVIDER_ALL = `troupe provider <register|offer|agent|host-key-proof|unbond|withdraw|status> …   (PROVIDER_KEY is the owner key)

${Object.values(PROVIDER).join("\n\n")}`;

export const HELP: Record<string, string | Record<string, string>> = {
  deploy: DEPLOY,
  provider: { "": PROVIDER_ALL, ...PROVIDER },
  status: `troupe status <request id>
The request and its timeline (bids, award, report, settlement or breach), read from the chain.`,
  dispute: `troupe dispute <agreement id>
Disputes a reported agreement within its dispute window, posting the market's dispute bond
(CONSUMER_KEY, the agreement's consumer). A panel of staked verifiers is drawn at random, weighted
by stake; each re-executes the job, commits a sealed verdict and reveals it; the majority decides.
troupe dispute status <agreement id>
The case round by round: the panel drawn, commits, reveals, the decision, appeals, who was rewarded
or slashed.
troupe dispute appeal <agreement id>
Appeals the last decision before its appeal window closes (TROUPE_KEY pays the round's larger bond,
refunded if the final ruling bears it out); a larger fresh panel, and last the whole court, decides.`,
  verifier: `troupe verifier stake <tokens> | leave <tokens> | withdraw | status [<address>] | run
A verifier stakes the market's token in the court (VERIFIER_KEY; at least the court's minimum) and
is drawn onto dispute panels with odds proportional to its stake. Stake drawn onto a panel is
locked until the case closes; a verdict against the final ruling, or none, is slashed. Leaving
takes the court's delay. \`run\` starts the verifier agent (runtime/verifier) with this key.`,
  "why-no-bid": `troupe why-no-bid <request id> [--provider <address> …]
Asks the matchmaker's reasoning, per offer of each provider (default: PROVIDERS, or every
registered provider), which constraint or expected loss kept it from bidding.`,
  verify: `troupe verify <agreement id>
Fetches the module and input by the URIs on chain, checks their hashes, re-executes the job and
compares fuel and output hash with the report. Exit status 1 when they differ.`,
  market: `troupe market
Providers by reputation, the cheapest offers and the market's totals, from the explorer
(EXPLORER_URL, default http://127.0.0.1:4000/graphql).`,
  token: `troupe token balance [<address>]                   (default: TROUPE_KEY's address)
troupe token transfer <to> <tokens>                 sends tokens from TROUPE_KEY's account`,
  faucet: `troupe faucet <address> [--tokens <n>] [--ether <n>]
Local chains only (chain id 31337): mints tokens (default 10000) and sends ether (default 10) to
<address> from the local deployer account, so a new provider or consumer key can act.`,
  keys: `troupe keys [consumer [<i>] | provider <i> [owner|host|agent] | deployer] [--address]
Prints a funded private key of the local chain (Hardhat's public test mnemonic; never use them
elsewhere), e.g. CONSUMER_KEY=$(npx troupe keys consumer). Without arguments: the whole table.`,
  keystore: `troupe keystore create <file>
Encrypts the private key in TROUPE_KEY with TROUPE_KEYSTORE_PASSWORD into <file> (never overwritten).`,
};

/** The help text for `argv` (command and maybe subcommand), or undefined for an unknown command. */
export function helpFor(command: string, sub?: string): string | undefined {
  const entry = HELP[command];
  if (entry === undefined) return undefined;
  if (typeof entry === "string") return entry;
  return (sub && entry[sub]) || entry[""];
}
