import { UsageError, parseInteger } from "../units.js";
import { consumerAccount, localAccount, MAX_LOCAL_PROVIDERS, providerAccounts } from "../../local/accounts.js";

/**
 * `troupe keys …`: the local chain's funded test keys (Hardhat's public mnemonic, the same on
 * anvil). Offline: the keys are derived here; they are worthless anywhere but a local dev chain.
 */
export async function keysCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const addressOnly = argv.includes("--address");
  const [role, index, part] = argv.filter((a) => a !== "--address");
  const out = (w: { address: string; privateKey: string }) => print(addressOnly ? w.address : w.privateKey);
  if (role === undefined) {
    print("local dev chain keys (Hardhat's public test mnemonic; never use them on a real network)");
    print(`  deployer     ${localAccount(0).address}  mints tokens: troupe faucet`);
    for (let i = 0; i < MAX_LOCAL_PROVIDERS; i++) {
      const p = providerAccounts(i);
      print(`  provider ${i}   owner ${p.owner.address}  host ${p.host.address}  agent ${p.agent.address}`);
    }
    for (let i = 0; i < 4; i++) print(`  consumer ${i}   ${consumerAccount(i).address}  1,000,000 tokens at npm start`);
    print("print one key: troupe keys consumer [i] | provider <i> [owner|host|agent] | deployer   (--address for the address)");
    return;
  }
  if (role === "deployer") return out(localAccount(0));
  if (role === "consumer") return out(consumerAccount(parseInteger(index ?? "0", "consumer index", 2)));
  if (role === "provider") {
    const i = parseInteger(index ?? "", "provider index", 3);
    if (i >= MAX_LOCAL_PROVIDERS) throw new UsageError(`the local market has providers 0 to ${MAX_LOCAL_PROVIDERS - 1}`);
    const which = (part ?? "owner") as "owner" | "host" | "agent";
    if (!["owner", "host", "agent"].includes(which)) throw new UsageError(`a provider key is owner, host or agent, not "${which}"`);
    return out(providerAccounts(i)[which]);
  }
  throw new UsageError(`unknown key "${role}": consumer, provider or deployer (troupe keys --help)`);
}
