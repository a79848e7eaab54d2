/**
 * The market's history from the explorer's GraphQL API (entities of subgraph/schema.graphql,
 * The Graph's query conventions), over plain fetch: provider statistics for features, and
 * finished agreements as labelled training samples.
 */
import type { Sample } from "./model.js";
import type { ProviderStats, RequestView, OfferView } from "./types.js";

export class GraphQLError extends Error {}

async function query<T>(url: string, text: string, variables: Record<string, unknown>, timeoutMs: number): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: text, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new GraphQLError(`explorer at ${url} is unreachable: ${String(error)}`);
  }
  if (!res.ok) throw new GraphQLError(`explorer at ${url} answered HTTP ${res.status}`);
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new GraphQLError(`explorer query failed: ${body.errors.map((e) => e.message).join("; ")}`);
  if (!body.data) throw new GraphQLError("explorer answered without data");
  return body.data;
}

/** The explorer's Provider statistics fields (BigInt fields arrive as decimal strings). */
interface ProviderRow {
  id: string;
  tier: number;
  region: number;
  completed: number;
  breached: number;
  disputesWon: number;
  disputesLost: number;
  fuelReported: string;
  wallMsReported: string;
}

const PROVIDER_FIELDS = "id tier region completed breached disputesWon disputesLost fuelReported wallMsReported";

function statsOf(p: ProviderRow): ProviderStats {
  return {
    completed: p.completed,
    breached: p.breached,
    disputesWon: p.disputesWon,
    disputesLost: p.disputesLost,
    fuelReported: Number(p.fuelReported),
    wallMsReported: Number(p.wallMsReported),
    // Not in the explorer's schema yet: the agent takes them from the registry.
    completedValue: 0,
    failedValue: 0,
  };
}

const tokens = (wei: string) => Number(wei) / 1e18;

interface AgreementRow {
  id: string;
  status: string;
  awardedAt: string;
  request: {
    maxFuel: string;
    maxPricePerMFuel: string;
    maxFee: string;
    minMemoryMiB: number;
    allowedTiers: number;
    region: number;
    maxLatencyClass: number;
    bidWindowEnd: string;
    deadline: string;
  };
  offer: {
    id: string;
    pricePerMFuel: string;
    fee: string;
    maxFuel: string;
    memoryMiB: number;
    concurrentJobs: number;
    latencyClass: number;
    expiresAt: string;
  };
  provider: ProviderRow;
  usageReport: { fuelUsed: string; wallMs: number } | null;
}

/** Statuses that end an agreement, and whether the SLA was met. */
const FINAL: Record<string, boolean> = { Settled: true, Breached: false, Overturned: false };

export class ExplorerClient {
  constructor(
    readonly url: string,
    readonly timeoutMs = 10_000,
  ) {}

  /** Statistics of the given providers (addresses, any case); providers the explorer lacks are absent. */
  async providerStats(addresses: readonly string[]): Promise<Map<string, ProviderStats>> {
    const ids = addresses.map((a) => a.toLowerCase());
    const data = await query<{ providers: ProviderRow[] }>(
      this.url,
      `query Stats($ids: [ID!]!, $first: Int!) { providers(first: $first, where: { id_in: $ids }) { ${PROVIDER_FIELDS} } }`,
      { ids, first: ids.length },
      this.timeoutMs,
    );
    return new Map(data.providers.map((p) => [p.id.toLowerCase(), statsOf(p)]));
  }

  /**
   * Finished agreements as training samples, paged `pageSize` at a time. The provider's
   * statistics are today's (the explorer keeps no snapshots), and the load at award time is
   * unknown (taken as zero): both are documented approximations.
   */
  async outcomeSamples(limit = 10_000, pageSize = 500): Promise<Sample[]> {
    const samples: Sample[] = [];
    for (let skip = 0; skip < limit; skip += pageSize) {
      const data = await query<{ agreements: AgreementRow[] }>(
        this.url,
        `query Outcomes($first: Int!, $skip: Int!) {
          agreements(first: $first, skip: $skip, orderBy: id, orderDirection: asc) {
            id status awardedAt
            request { maxFuel maxPricePerMFuel maxFee minMemoryMiB allowedTiers region maxLatencyClass bidWindowEnd deadline }
            offer { id pricePerMFuel fee maxFuel memoryMiB concurrentJobs latencyClass expiresAt }
            provider { ${PROVIDER_FIELDS} }
            usageReport { fuelUsed wallMs }
          }
        }`,
        { first: Math.min(pageSize, limit - skip), skip },
        this.timeoutMs,
      );
      for (const a of data.agreements) {
        const met = FINAL[a.status];
        if (met === undefined) continue;
        samples.push(sampleOf(a, met));
      }
      if (data.agreements.length < pageSize) break;
    }
    return samples;
  }
}

function sampleOf(a: AgreementRow, met: boolean): Sample {
  const request: RequestView = {
    id: BigInt(a.id),
    maxFuel: Number(a.request.maxFuel),
    maxPricePerMFuel: tokens(a.request.maxPricePerMFuel),
    maxFee: tokens(a.request.maxFee),
    minMemoryMiB: a.request.minMemoryMiB,
    allowedTiers: a.request.allowedTiers,
    region: a.request.region,
    maxLatencyClass: a.request.maxLatencyClass,
    bidWindowEnd: Number(a.request.bidWindowEnd),
    deadline: Number(a.request.deadline),
    valueAtRisk: 0,
    inputMiB: 0,
  };
  const offer: OfferView = {
    id: BigInt(a.offer.id),
    provider: a.provider.id,
    tier: a.provider.tier,
    region: a.provider.region,
    bonded: true,
    pricePerMFuel: tokens(a.offer.pricePerMFuel),
    fee: tokens(a.offer.fee),
    maxFuel: Number(a.offer.maxFuel),
    memoryMiB: a.offer.memoryMiB,
    concurrentJobs: a.offer.concurrentJobs,
    latencyClass: a.offer.latencyClass,
    expiresAt: Number(a.offer.expiresAt),
  };
  // A breach has no report: its run time is at least the time it had, so label it beyond the deadline.
  const runtimeSec = a.usageReport
    ? a.usageReport.wallMs / 1000
    : Math.max(1, (request.deadline - Number(a.awardedAt)) * 1.5);
  return { candidate: { request, offer, stats: statsOf(a.provider), load: 0 }, met, runtimeSec };
}
