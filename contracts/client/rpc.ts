/**
 * How every actor talks to the chain: a provider pinned to the chain id it was started for, with
 * no response cache (which handed back-to-back transactions the same nonce).
 */
import { JsonRpcProvider, Network, type Provider } from "ethers";

/** Asks a JSON-RPC endpoint for its chain id with a plain request (no provider start-up loop). */
export async function probeChainId(rpcUrl: string, timeoutMs = 5000): Promise<bigint> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`${rpcUrl} answered ${response.status} ${response.statusText}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== "string") throw new Error(`${rpcUrl} gave no chain id: ${body.error?.message ?? "no result"}`);
  return BigInt(body.result);
}

/**
 * A provider pinned to a known chain: it never runs ethers' network detection again, so when the
 * endpoint goes away calls simply fail (and the caller retries) until it comes back. Its response
 * cache is off: with it, reports sent within 250 ms of each other were given the same nonce.
 */
export function pinnedProvider(rpcUrl: string, chainId: bigint, pollingIntervalMs: number): JsonRpcProvider {
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: pollingIntervalMs,
    batchMaxCount: 1,
    cacheTimeout: -1,
  });
}

/**
 * The provider's raw JSON-RPC call (`send(method, params)`), when it speaks JSON-RPC (every
 * provider here does; a browser or custom provider may not): for calls ethers has no method for,
 * or wraps in work nobody needs.
 */
export function rawRpc(provider: Provider): ((method: string, params: unknown[]) => Promise<unknown>) | undefined {
  const rpc = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
  return typeof rpc.send === "function" ? rpc.send.bind(rpc) : undefined;
}
