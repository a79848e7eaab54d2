/**
 * How every actor talks to the chain: a provider pinned to the chain id it was started for, with
 * no response cache (which handed back-to-back transactions the same nonce).
 */
import type { Agent } from "node:http";
import { JsonRpcProvider, Network, makeError, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult, type Provider } from "ethers";
import { keepAliveAgent, post } from "./http-post.js";

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
 * A JSON-RPC provider whose transport is `node:http` on a keep-alive agent and the runtime's own
 * JSON parser. ethers' transport decodes every response body to text with its JavaScript UTF-8
 * decoder, which made up most of a busy agent's CPU time (an `eth_getLogs` answer is large), and
 * `fetch` costs several times more CPU per call than the call itself. Errors keep ethers' shape: a
 * non-2xx answer is a SERVER_ERROR, a refused connection the socket's own error.
 */
export class NativeJsonRpcProvider extends JsonRpcProvider {
  private readonly agent: Agent;

  constructor(url: string, network?: Network, options?: JsonRpcApiProviderOptions) {
    super(url, network, options);
    this.agent = keepAliveAgent(url);
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    const headers: Record<string, string> = {};
    if (request.credentials) headers.authorization = request.getHeader("authorization")!;
    const answer = await post(request.url, JSON.stringify(payload), { agent: this.agent, timeoutMs: request.timeout, headers });
    if (answer.status < 200 || answer.status > 299) {
      throw makeError(`server response ${answer.status} ${answer.statusText}`, "SERVER_ERROR", {
        request, info: { responseBody: answer.body.toString("utf8", 0, 500) },
      });
    }
    // Error entries are passed on as ethers' own transport does (the declared type says results only).
    const body = JSON.parse(answer.body.toString("utf8")) as JsonRpcResult | JsonRpcResult[];
    return Array.isArray(body) ? body : [body];
  }

  override destroy(): void {
    super.destroy();
    this.agent.destroy();
  }
}

/**
 * A provider pinned to a known chain: it never runs ethers' network detection again, so when the
 * endpoint goes away calls simply fail (and the caller retries) until it comes back. Its response
 * cache is off: with it, reports sent within 250 ms of each other were given the same nonce.
 */
export function pinnedProvider(rpcUrl: string, chainId: bigint, pollingIntervalMs: number): JsonRpcProvider {
  const network = Network.from(chainId);
  return new NativeJsonRpcProvider(rpcUrl, network, {
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
