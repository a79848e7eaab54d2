import { Interface, isError } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";

let interfaces: Interface[] | undefined;
const contractInterfaces = () =>
  (interfaces ??= ["TroupeMarket", "ProviderRegistry", "OfferBook", "TroupeToken"].map((name) => new Interface(abiOf(name as "TroupeMarket") as never)));

/** A contract revert, an RPC failure or a plain error, as one readable line. */
export function describeError(error: unknown): string {
  const data = revertData(error);
  if (data) {
    for (const iface of contractInterfaces()) {
      try {
        const parsed = iface.parseError(data);
        if (parsed) {
          const args = parsed.args.map((a) => (typeof a === "bigint" ? a.toString() : String(a))).join(", ");
          return `the contract refused: ${parsed.name}(${args})`;
        }
      } catch {
        // not this contract's error
      }
    }
    return `the contract refused with data ${data}`;
  }
  if (isError(error, "INSUFFICIENT_FUNDS")) return "the key's account cannot pay for gas";
  if (isError(error, "NETWORK_ERROR") || isError(error, "TIMEOUT")) return `the RPC endpoint failed: ${error.shortMessage}`;
  if (error instanceof Error) {
    const short = (error as { shortMessage?: string }).shortMessage;
    return (short ?? error.message).split("\n")[0]!;
  }
  return String(error);
}

function revertData(error: unknown): string | undefined {
  let e = error as { data?: unknown; error?: unknown; info?: { error?: { data?: unknown } } } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.data === "string" && e.data.startsWith("0x") && e.data.length >= 10) return e.data;
    const inner = e.info?.error?.data;
    if (typeof inner === "string" && inner.startsWith("0x") && inner.length >= 10) return inner;
    e = e.error as typeof e;
  }
  return undefined;
}
