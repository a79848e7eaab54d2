/**
 * The local market's chain: Hardhat's node or Foundry's anvil (an independent implementation,
 * from the npm package @foundry-rs/anvil-linux-amd64), with the same dev accounts and chain id.
 * Both start automining, so the market deploys fast; `setBlockTime` then switches them to a block
 * every S seconds, as a real network has.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ProcessSpec } from "./processes.js";
import { LOCAL_ACCOUNTS, LOCAL_MNEMONIC } from "./accounts.js";

export const CHAINS = ["hardhat", "anvil"] as const;
export type ChainKind = (typeof CHAINS)[number];

export function parseChain(text: string): ChainKind {
  if (!(CHAINS as readonly string[]).includes(text)) throw new Error(`--chain must be one of ${CHAINS.join(", ")}, not "${text}"`);
  return text as ChainKind;
}

/** Where the anvil binary of the npm package is. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve("@foundry-rs/anvil-linux-amd64/package.json");
  } catch {
    throw new Error("anvil is not installed: it comes with `npm install` (@foundry-rs/anvil-linux-amd64, Linux x64 only)");
  }
  const bin = join(dirname(pkg), "bin", "anvil");
  if (!existsSync(bin)) throw new Error(`the anvil package has no binary at ${bin}`);
  return bin;
}

/** How to start the node of `kind` on 127.0.0.1:`port`. */
export function nodeSpec(kind: ChainKind, port: number): ProcessSpec {
  if (kind === "anvil") {
    return {
      name: "node",
      command: anvilBinary(),
      args: [
        "--host", "127.0.0.1", "--port", String(port), "--mnemonic", LOCAL_MNEMONIC, "--accounts", String(LOCAL_ACCOUNTS),
        "--balance", "10000", "--chain-id", "31337", "--silent",
      ],
      env: {},
    };
  }
  return { name: "node", command: "npx", args: ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], env: {} };
}

/** One JSON-RPC call. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message ?? "failed"}`);
  return body.result;
}

/** Whether the node at `url` is anvil (else Hardhat's): their dev methods differ in name or unit. */
async function isAnvil(url: string): Promise<boolean> {
  return /anvil/i.test(String(await rpc(url, "web3_clientVersion")));
}

/**
 * 0: a block per transaction (automine); S > 0: a block every S seconds. Both nodes speak
 * `evm_setIntervalMining`, in milliseconds on Hardhat and in seconds on anvil.
 */
export async function setBlockTime(url: string, seconds: number): Promise<void> {
  if (seconds > 0) {
    const anvil = await isAnvil(url);
    // In this order: anvil's evm_setAutomine(false) also stops interval mining.
    await rpc(url, "evm_setAutomine", [false]);
    await rpc(url, "evm_setIntervalMining", [anvil ? seconds : Math.round(seconds * 1000)]);
  } else {
    // In this order: anvil's evm_setIntervalMining(0) also stops automining.
    await rpc(url, "evm_setIntervalMining", [0]);
    await rpc(url, "evm_setAutomine", [true]);
  }
}

/** Hardhat's node logs every JSON-RPC call it serves: costly under load, and nobody reads it. */
export async function quietNode(url: string): Promise<void> {
  if (/hardhat/i.test(String(await rpc(url, "web3_clientVersion")))) await rpc(url, "hardhat_setLoggingEnabled", [false]);
}

/** Gives `address` 10,000 ether on the local node (both nodes speak their own `*_setBalance`). */
export async function fundEther(url: string, address: string): Promise<void> {
  await rpc(url, (await isAnvil(url)) ? "anvil_setBalance" : "hardhat_setBalance", [address, "0x" + (10n ** 22n).toString(16)]);
}
