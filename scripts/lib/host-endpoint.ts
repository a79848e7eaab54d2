import type { MarketContracts } from "./deployment.js";

/** What was last read of a provider's metadata, and up to which block. */
interface Known {
  uri: string | undefined;
  scannedTo: number;
  /** The hash of block `scannedTo`: while the chain still has it, every block read before is unchanged. */
  hash: string;
}

/**
 * Per registry connection, provider and first block: the latest metadata URI seen and the block it
 * was read up to, so the next look reads only the blocks since (a chain grows by thousands of blocks
 * an hour, and a look from the registry's first block would scan them all on every award). Kept per
 * contract object, not per address: another chain (or a restarted dev node) deploys the registry at
 * the same address, and its providers' endpoints are not these.
 */
const known = new WeakMap<object, Map<string, Known>>();

/**
 * A provider's public host endpoint, from its latest metadata URI: either inline JSON
 * (`data:application/json,{"endpoint":"http://…"}`) or an http(s) URL serving that JSON.
 */
export async function hostEndpoint(contracts: MarketContracts, provider: string, fromBlock: number): Promise<string> {
  const { registry } = contracts;
  let seen = known.get(registry);
  if (!seen) known.set(registry, (seen = new Map()));
  const key = `${provider.toLowerCase()}/${fromBlock}`;
  const chain = registry.runner!.provider!;
  const head = await chain.getBlock("latest");
  if (!head?.hash) throw new Error("the chain gave no latest block");
  // What was read stands while the chain still holds its last block (a reorganisation or a reset
  // node replaces it): then only the blocks since are read, else all again from `fromBlock`.
  const before = seen.get(key);
  const still = before && before.scannedTo <= head.number && (await chain.getBlock(before.scannedTo))?.hash === before.hash ? before : undefined;
  const from = still ? still.scannedTo + 1 : fromBlock;
  let uri = still?.uri;
  if (head.number >= from) {
    const [registered, changed] = await Promise.all([
      registry.queryFilter(registry.filters.ProviderRegistered(provider), from, head.number),
      registry.queryFilter(registry.filters.MetadataChanged(provider), from, head.number),
    ]);
    const latest = [...registered, ...changed].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index).at(-1);
    if (latest) uri = latest.args.metadataURI;
  }
  seen.set(key, { uri, scannedTo: head.number, hash: head.hash });
  if (uri === undefined) throw new Error(`${provider} is not a registered provider`);
  const metadata = await readMetadata(uri);
  if (typeof metadata.endpoint !== "string") throw new Error(`the metadata of ${provider} (${uri}) names no host endpoint`);
  return metadata.endpoint.replace(/\/+$/, "");
}

async function readMetadata(uri: string): Promise<{ endpoint?: unknown }> {
  try {
    if (uri.startsWith("data:application/json,")) return JSON.parse(decodeURIComponent(uri.slice("data:application/json,".length)));
    if (/^https?:\/\//.test(uri)) {
      const res = await fetch(uri, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as { endpoint?: unknown };
    }
  } catch (error) {
    throw new Error(`cannot read the provider metadata at ${uri}: ${(error as Error).message}`);
  }
  throw new Error(`unsupported provider metadata URI "${uri}"`);
}
