/** "Why no bid" as text: one line per offer saying which constraint or expected loss kept it out. */
import type { WhyNoBid } from "./agent.js";

export function formatWhyNoBid(w: WhyNoBid): string {
  const lines = [
    `request ${w.requestId}: ${w.status}, bid window ends ${utc(w.bidWindowEnd)} (chain time ${utc(w.now)})`,
    `=> ${w.summary}`,
  ];
  for (const d of w.decisions) {
    const tag = d.kind === "constraint" ? `constraint ${d.code}` : d.kind;
    lines.push(`  offer ${d.offerId} (provider ${d.provider}): ${tag}: ${d.reason}`);
  }
  return lines.join("\n");
}

const utc = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
