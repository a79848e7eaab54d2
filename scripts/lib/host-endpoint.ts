import type { MarketContracts } from "./deployment.js";

/** What was last read of a provider's metadata, and up to which block. */
interface Known {
  uri: string | undefined;
  scannedTo: number;
}

/**
 * Per registry, provider and first block: the latest metadata URI seen and the block it was read up to, so the
 * next look reads only the blocks since (a chain grows by thousands of blocks an hour, and a look
 * from the registry's first block would scan them all on every award).
 */
const known = new Map<string, Known>();

/**
 * A provider's public host endpoint, from its latest metadata URI: either inline JSON
 * (`data:application/json,{"endpoint":"http://…"}`) or an http(s) URL serving that JSON.
 */
export async function hostEndpoint(contracts: MarketContracts, provider: string, fromBlock: number): Promise<string> {
  const { registry } = contracts;
  const key = `${await registry.getAddress()}/${provider.toLowerCase()}/${fromBlock}`;
  const before = known.get(key);
  const from = before ? before.scannedTo + 1 : fromBlock;
  const head = await registry.runner!.provider!.getBlockNumber();
  let uri = before?.uri;
  if (head >= from) {
    const [registered, changed] = await Promise.all([
      registry.queryFilter(registry.filters.ProviderRegistered(provider), from, head),
      registry.queryFilter(registry.filters.MetadataChanged(provider), from, head),
    ]);
    const latest = [...registered, ...changed].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index).at(-1);
    if (latest) uri = latest.args.metadataURI;
    known.set(key, { uri, scannedTo: head });
  }
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
