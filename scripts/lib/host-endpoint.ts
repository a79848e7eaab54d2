import type { MarketContracts } from "./deployment.js";

/**
 * A provider's public host endpoint, from its latest metadata URI: either inline JSON
 * (`data:application/json,{"endpoint":"http://…"}`) or an http(s) URL serving that JSON.
 */
export async function hostEndpoint(contracts: MarketContracts, provider: string, fromBlock: number): Promise<string> {
  const { registry } = contracts;
  const logs = [
    ...(await registry.queryFilter(registry.filters.ProviderRegistered(provider), fromBlock)),
    ...(await registry.queryFilter(registry.filters.MetadataChanged(provider), fromBlock)),
  ].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  const latest = logs.at(-1);
  if (!latest) throw new Error(`${provider} is not a registered provider`);
  const uri = latest.args.metadataURI;
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
