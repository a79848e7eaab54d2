import { BlockList, isIP } from "node:net";
import { realpathSync } from "node:fs";
import { delimiter, isAbsolute, relative, resolve, sep } from "node:path";

/**
 * Where a consumer's URI may send the host. A request names its module and input by URI, so a
 * hostile consumer could point the host at its own files or at services only the host can reach
 * (the cloud's metadata endpoint, an admin port on the LAN): `file:` is read only inside the
 * content directories, and http(s) reaches only public addresses unless an address is allowed.
 */
export interface UriPolicy {
  /** The directories `file:` URIs may be read from (symlinks resolved); none: `file:` is refused. */
  contentDirs: readonly string[];
  /** Addresses (`a.b.c.d`, `::1`) or ranges (`10.0.0.0/8`, `fc00::/7`) http(s) may reach although a rule forbids them. */
  allowAddresses: readonly string[];
}

/** The policy that refuses every `file:` URI and every non-public address. */
export const STRICT_POLICY: UriPolicy = { contentDirs: [], allowAddresses: [] };

/** A URI the policy refuses (deterministic: retrying it cannot help). */
export class UriRefused extends Error {}

interface Rule {
  name: string;
  list: BlockList;
}

function rule(name: string, ranges: string[]): Rule {
  const list = new BlockList();
  for (const range of ranges) addRange(list, range);
  return { name, list };
}

function addRange(list: BlockList, range: string): void {
  const [address, bits] = range.split("/");
  const family = isIP(address ?? "");
  if (family === 0) throw new Error(`not an IP address or range: ${JSON.stringify(range)}`);
  const type = family === 4 ? "ipv4" : "ipv6";
  if (bits === undefined) return list.addAddress(address!, type);
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`not an IP range: ${JSON.stringify(range)}`);
  list.addSubnet(address!, prefix, type);
}

/** The address ranges http(s) may not reach, by the rule that forbids them (IPv4-mapped IPv6 addresses match their IPv4 rule). */
const RULES: readonly Rule[] = [
  rule("loopback", ["127.0.0.0/8", "::1/128"]),
  rule("private (RFC 1918, RFC 6598, fc00::/7)", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]),
  rule("link-local", ["169.254.0.0/16", "fe80::/10"]),
  rule("unspecified", ["0.0.0.0/8", "::/128"]),
  rule("multicast or broadcast", ["224.0.0.0/4", "255.255.255.255/32", "ff00::/8"]),
  rule("reserved", ["240.0.0.0/4"]),
];

/** Checks an allow-list entry; throws naming it when it is not an address or a range. */
export function checkAllowEntry(entry: string): void {
  addRange(new BlockList(), entry);
}

/**
 * Why `address` may not be reached under `policy`, or undefined when it may: the first rule it
 * falls under, unless the allow-list names it.
 */
export function forbiddenBy(address: string, policy: UriPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  const broken = RULES.find((r) => r.list.check(address, type));
  if (!broken) return undefined;
  const allowed = new BlockList();
  for (const entry of policy.allowAddresses) addRange(allowed, entry);
  return allowed.check(address, type) ? undefined : broken.name;
}

/**
 * The real path of `path` (symlinks and `..` resolved) if it lies inside one of the policy's
 * content directories; otherwise throws `UriRefused` naming the path and the rule.
 */
export function confinedPath(path: string, policy: UriPolicy): string {
  const rule = `file: URIs are read only inside the content directories (CONTENT_DIRS: ${policy.contentDirs.join(delimiter) || "none"})`;
  if (policy.contentDirs.length === 0) throw new UriRefused(`${path} is refused: ${rule}`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${path} does not exist`);
    throw error;
  }
  for (const dir of policy.contentDirs) {
    let root: string;
    try {
      root = realpathSync(resolve(dir));
    } catch {
      continue; // a content directory that does not exist (yet) holds nothing
    }
    if (within(root, real)) return real;
  }
  throw new UriRefused(`${path}${real !== path ? ` (really ${real})` : ""} is outside the content directories: ${rule}`);
}

/** Whether `path` is `root` or below it (both absolute and real). */
export function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Reads `CONTENT_DIRS` (path-delimited) and `FETCH_ALLOW_ADDRESSES` (comma-separated) from an environment. */
export function uriPolicyFromEnv(env: NodeJS.ProcessEnv): UriPolicy {
  const list = (value: string | undefined, sep: string) => (value ?? "").split(sep).map((s) => s.trim()).filter((s) => s !== "");
  const allowAddresses = list(env.FETCH_ALLOW_ADDRESSES, ",");
  for (const entry of allowAddresses) {
    try {
      checkAllowEntry(entry);
    } catch (error) {
      throw new Error(`FETCH_ALLOW_ADDRESSES: ${(error as Error).message}`);
    }
  }
  return { contentDirs: list(env.CONTENT_DIRS, delimiter).map((dir) => resolve(dir)), allowAddresses };
}
