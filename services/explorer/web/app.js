// The Troupe market explorer page: reads the GraphQL API (The Graph's conventions) and renders
// hash routes. Lists page with cursors (so they scale to any size) and can be searched; every
// value from the chain is escaped before it reaches the DOM.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const PAGE = 25;
  const TIER_COLORS = ["#3b5bdb", "#0ca678", "#f08c00"];
  const TIERS = ["cloud", "edge", "iot"];
  const ZERO_HASH = "0x" + "0".repeat(64);
  const view = document.getElementById("view");
  const status = document.getElementById("status");
  let timer;
  let rendering = false;
  let head = { number: 0, timestamp: 0 };

  async function gql(query, variables) {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    const errors = (body.errors || []).filter((e) => e.message !== "indexing_error");
    if (errors.length || !body.data) throw new Error((body.errors || []).map((e) => e.message).join("; ") || `HTTP ${res.status}`);
    return body.data;
  }

  const esc = (v) =>
    String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const short = (hex) => (hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex || "");
  /** A token amount (18 decimals) with up to 4 decimals. */
  function tokens(wei) {
    if (wei == null) return "–";
    const v = BigInt(wei);
    const whole = v / 10n ** 18n;
    const frac = ((v % 10n ** 18n) * 10000n) / 10n ** 18n;
    return frac === 0n ? whole.toLocaleString("en") : `${whole.toLocaleString("en")}.${String(frac).padStart(4, "0").replace(/0+$/, "")}`;
  }
  const tokensNumber = (wei) => Number(BigInt(wei) / 10n ** 12n) / 1e6;
  const fuel = (f) => (f == null ? "–" : Number(f).toLocaleString("en"));
  /** A large count for a card: 12.3M with the exact figure in the tooltip. */
  const big = (n) => {
    const v = Number(n);
    return v >= 1e6 ? window.TroupeCharts.compact(v) : v.toLocaleString("en");
  };
  const time = (t) => (t == null ? "" : new Date(Number(t) * 1000).toISOString().replace("T", " ").slice(0, 19));
  const badge = (s, label) => `<span class="badge ${esc(s)}">${esc(label || s)}</span>`;
  const providerLink = (p) => (p ? `<a href="#/provider/${esc(p.id)}">${esc(short(p.id))}</a>` : "–");
  const agreementLink = (id) => `<a href="#/agreement/${esc(id)}">#${esc(id)}</a>`;
  const requestLink = (id) => `<a href="#/request/${esc(id)}">#${esc(id)}</a>`;
  const table = (head, rows, empty) =>
    rows.length
      ? `<div class="scroll"><table><thead><tr>${head.map((h) => `<th class="${h.endsWith(" ") ? "num" : ""}">${esc(h.trim())}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`
      : `<p class="empty">${esc(empty)}</p>`;
  const card = (label, value, title) =>
    `<div class="card"><div class="label">${esc(label)}</div><div class="value" title="${esc(title ?? value)}">${esc(value)}</div></div>`;

  /** The route: `#/kind/id?key=value`. */
  function route() {
    const [path, search] = (location.hash.slice(1) || "/").split("?");
    const [, kind, id] = path.split("/");
    return { kind: kind || "market", id: id ? decodeURIComponent(id) : undefined, params: new URLSearchParams(search || "") };
  }
  const href = (kind, params) => {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
    return `#/${kind}${q.toString() ? `?${q}` : ""}`;
  };

  /** The steps of an agreement's life and how far it got. */
  function timeline(a) {
    const end =
      a.status === "Breached" ? ["breached", a.closedAt, "bad"]
      : a.status === "Overturned" ? ["overturned", a.closedAt, "bad"]
      : a.status === "Settled" ? ["settled", a.closedAt, "ok"]
      : null;
    const steps = [
      ["requested", a.requestedAt, "done"],
      ["awarded", a.awardedAt, "done"],
    ];
    if (a.status !== "Breached") steps.push(["reported", a.reportedAt, a.reportedAt ? "done" : ""]);
    if (a.disputedAt) steps.push(["disputed", a.disputedAt, "warn"]);
    steps.push(end || (a.status === "Annulled" ? ["annulled", a.closedAt, "warn"] : [a.status === "Disputed" ? "court pending" : "settled", null, ""]));
    return steps;
  }
  const miniTimeline = (a) =>
    `<span class="mini" title="${esc(timeline(a).map((s) => s[0] + (s[1] ? "" : " (pending)")).join(" → "))}">${timeline(a)
      .map(([, when, cls]) => `<i class="${when ? (cls === "done" ? "on" : cls) : ""}"></i>`)
      .join("")}</span>`;
  const fullTimeline = (a) =>
    `<ol class="timeline">${timeline(a)
      .map(([name, when, cls]) => `<li class="${when ? cls : ""}"><span class="dot"></span>${esc(name)}<span class="when">${when ? esc(time(when)) : "–"}</span></li>`)
      .join("")}</ol>`;

  const AGREEMENT_FIELDS = `id status pricePerMFuel fee requestedAt awardedAt reportedAt disputedAt closedAt providerPayment consumerRefund
    provider { id tierName region } usageReport { fuelUsed }`;
  const PROVIDER_FIELDS = "id tierName region stake reputation failureBps completed breached disputesLost completedValue failedValue earnings verifier";
  const BID_FIELDS = "id seq total failureBps expectedCost pricePerMFuel fee explanationHash createdAt provider { id metadataURI }";
  const CLOSE_REASONS = {
    NoBid: "no provider bid before the window closed",
    Cancelled: "the consumer cancelled the request",
    TooLate: "the award came too late: the execution time would have passed the request's deadline",
    StakeShort: "the winning provider's free stake no longer covered the agreement's penalty and dispute bond",
  };
  const pct = (bps) => `${(Number(bps) / 100).toFixed(2)}%`;

  function providerTable(list) {
    return table(
      ["provider", "tier", "region ", "stake (TRP) ", "failure rate ", "completed (TRP) ", "failed (TRP) ", "earnings (TRP) ", "verifier"],
      list.map((p) => `<tr data-provider="${esc(p.id)}"><td>${providerLink(p)}</td><td>${esc(p.tierName)}</td><td class="num">${esc(p.region)}</td>
        <td class="num">${tokens(p.stake)}</td><td class="num" title="reputation ${pct(p.reputation)}">${pct(p.failureBps)}</td>
        <td class="num" title="${esc(p.completed)} jobs">${tokens(p.completedValue)}</td><td class="num" title="${esc(p.breached + p.disputesLost)} jobs">${tokens(p.failedValue)}</td>
        <td class="num">${tokens(p.earnings)}</td><td>${p.verifier ? "yes" : ""}</td></tr>`),
      "No provider matches.",
    );
  }

  function agreementTable(list, withProvider) {
    return table(
      ["agreement", ...(withProvider ? ["provider", "tier"] : []), "status", "timeline", "price / M fuel ", "fuel used ", "paid (TRP) ", "awarded"],
      list.map((a) => `<tr data-agreement="${esc(a.id)}"><td>${agreementLink(a.id)}</td>${withProvider ? `<td>${providerLink(a.provider)}</td><td>${esc(a.provider.tierName)}</td>` : ""}
        <td>${badge(a.status)}</td><td>${miniTimeline(a)}</td><td class="num">${tokens(a.pricePerMFuel)}</td>
        <td class="num">${a.usageReport ? fuel(a.usageReport.fuelUsed) : "–"}</td><td class="num">${tokens(a.providerPayment)}</td><td>${esc(time(a.awardedAt))}</td></tr>`),
      "No agreement matches.",
    );
  }

  /**
   * A bid's explanation: the agent publishes its hash on chain; the document itself will be served
   * by the provider's host. The link resolves when the provider's metadata names an http(s)
   * endpoint; until then the hash is shown with a placeholder.
   */
  function explanation(b) {
    if (!b.explanationHash || b.explanationHash === ZERO_HASH) return '<span class="muted">none given</span>';
    const endpoint = b.provider && /^https?:\/\//.test(b.provider.metadataURI || "") ? b.provider.metadataURI.replace(/\/+$/, "") : null;
    const hash = `<code title="${esc(b.explanationHash)}">${esc(short(b.explanationHash))}</code>`;
    return endpoint
      ? `${hash} <a class="explanation" data-hash="${esc(b.explanationHash)}" href="${esc(endpoint)}/explanations/${esc(b.explanationHash)}" rel="noopener">document</a>`
      : `${hash} <span class="explanation pending" data-hash="${esc(b.explanationHash)}" title="the provider's host has not published an endpoint for explanation documents yet">document pending</span>`;
  }

  const bidTable = (bids) =>
    table(
      ["#", "provider", "price / M fuel ", "fee ", "total (TRP) ", "failure rate ", "expected cost (TRP) ", "placed", "explanation"],
      bids.map((b) => `<tr data-bid="${esc(b.id)}"><td>${esc(b.seq)}</td><td>${providerLink(b.provider)}</td><td class="num">${tokens(b.pricePerMFuel)}</td><td class="num">${tokens(b.fee)}</td>
        <td class="num">${tokens(b.total)}</td><td class="num">${pct(b.failureBps)}</td><td class="num expected-cost" data-wei="${esc(b.expectedCost)}">${tokens(b.expectedCost)}</td>
        <td>${esc(time(b.createdAt))}</td><td>${explanation(b)}</td></tr>`),
      "No bids.",
    );

  /** Newer / older links for a cursor-paged list. */
  function pager(kind, params, rows, cursorOf) {
    const older = rows.length > PAGE ? href(kind, { ...Object.fromEntries(params), after: cursorOf(rows[PAGE - 1]) }) : null;
    const first = params.has("after") ? href(kind, { ...Object.fromEntries(params), after: undefined }) : null;
    return `<nav class="pager">${first ? `<a href="${first}">« newest</a>` : '<span class="muted">« newest</span>'}
      ${params.has("after") ? '<a href="javascript:history.back()">‹ newer</a>' : ""}
      ${older ? `<a class="older" href="${older}">older ›</a>` : '<span class="muted">older ›</span>'}</nav>`;
  }

  /** The `where` of a page after cursor `time.id`, newest first. */
  function after(field, cursor) {
    if (!cursor) return {};
    const [t, id] = cursor.split(".");
    return { [`${field}_lte`]: t, or: [{ [`${field}_lt`]: t }, { id_lt: id }] };
  }

  function searchForm(kind, params, placeholder, extra = "") {
    return `<form class="search" data-kind="${esc(kind)}"><input name="q" type="search" value="${esc(params.get("q") || "")}" placeholder="${esc(placeholder)}" aria-label="search">
      ${extra}<button type="submit">Search</button></form>`;
  }

  function statusSelect(params, statuses) {
    const current = params.get("status") || "";
    return `<select name="status" aria-label="status"><option value="">any status</option>${statuses
      .map((s) => `<option${s === current ? " selected" : ""}>${esc(s)}</option>`)
      .join("")}</select>`;
  }

  const VERIFIER_FIELDS = "id stake leaving seats rewarded slashed coherentBallots incoherentBallots";
  const verifierTable = (list) =>
    table(
      ["verifier", "stake (TRP) ", "leaving (TRP) ", "seats drawn ", "coherent ", "incoherent ", "rewarded (TRP) ", "slashed (TRP) "],
      list.map((v) => `<tr data-verifier="${esc(v.id)}"><td><code title="${esc(v.id)}">${esc(short(v.id))}</code></td><td class="num">${tokens(v.stake)}</td>
        <td class="num">${tokens(v.leaving)}</td><td class="num">${esc(v.seats)}</td><td class="num">${esc(v.coherentBallots)}</td><td class="num">${esc(v.incoherentBallots)}</td>
        <td class="num">${tokens(v.rewarded)}</td><td class="num">${tokens(v.slashed)}</td></tr>`),
      "No verifier has staked.",
    );

  async function renderVerifiers(params) {
    const page = Math.max(0, Number(params.get("page") || 0));
    const skip = page * PAGE;
    if (skip > 5000) throw new Error("pages beyond 5,000 verifiers");
    const d = await gql(`query ($skip: Int!) { verifiers(first: ${PAGE + 1}, skip: $skip, orderBy: stake, orderDirection: desc, subgraphError: allow) { ${VERIFIER_FIELDS} } }`, { skip });
    const link = (p) => href("verifiers", { page: p || undefined });
    view.innerHTML = `<h1>Verifiers</h1><section id="verifiers">${verifierTable(d.verifiers.slice(0, PAGE))}
      <nav class="pager">${page > 0 ? `<a href="${link(page - 1)}">‹ more stake</a>` : '<span class="muted">‹ more stake</span>'} <span>page ${page + 1}</span>
      ${d.verifiers.length > PAGE ? `<a class="older" href="${link(page + 1)}">less stake ›</a>` : '<span class="muted">less stake ›</span>'}</nav></section>`;
  }

  const DISPUTE_FIELDS = `bond reportKey openedAt verdictDeadline round phase resolved ruling upheld finalKey providerPayment consumerRefund penalty slashed
    forfeited slashedStake rewardPool winner winnerPayout resolvedAt
    rounds(orderBy: round) { id round panelSize fullCourt seatsDrawn drawn drawBlock reschedules commitDeadline revealDeadline appellant bond
      committedVotes revealedVotes totalVotes leadingVotes tallied decided decidedKey decidedForReport appealDeadline
      ballots(first: 200, orderBy: votes, orderDirection: desc) { id verifier { id } seats votes committed revealed fuelUsed outputHash agreesWithReport claimed coherent reward slashed } }
    appeals(orderBy: round) { round appellant bond appealedAt }`;
  const yesNo = (v) => (v == null ? "–" : v ? "yes" : "no");

  /** A dispute: its ruling, each round's panel, commits, reveals and tally, the appeals and every ballot's claim. */
  function disputeView(d, consumer) {
    const ruling = d.ruling ? badge(d.ruling === "Upheld" || d.ruling === "ContentWithheld" ? "Settled" : d.ruling === "Void" ? "Annulled" : "Overturned", d.ruling) : badge("Disputed", d.phase);
    const claim = (b) => (b.revealed ? `${fuel(b.fuelUsed)} fuel, <code title="${esc(b.outputHash)}">${esc(short(b.outputHash))}</code> ${b.agreesWithReport ? "(the report's)" : "(another claim)"}` : b.committed ? "sealed" : "–");
    const settled = (b) =>
      !b.claimed ? '<span class="muted">unclaimed</span>' : b.coherent ? `<span class="ok rewarded">rewarded ${tokens(b.reward)}</span>` : `<span class="bad slashed">slashed ${tokens(b.slashed)}</span>`;
    const rounds = d.rounds.map((r) => `<section class="round" data-round="${esc(r.round)}"><h3>Round ${esc(r.round)} — ${r.fullCourt ? "full court (every verifier, by stake)" : `panel of ${esc(r.panelSize)} seats`}
        ${r.tallied ? (r.decided ? (r.decidedForReport ? badge("Settled", "for the report") : badge("Overturned", "against the report")) : badge("Annulled", "no majority")) : ""}</h3>
      <dl class="kv">
        <dt>opened by</dt><dd>${r.appellant ? `<code>${esc(short(r.appellant))}</code> with a bond of ${tokens(r.bond)} TRP` : "escalation (no majority in the previous round)"}</dd>
        <dt>draw</dt><dd>${r.fullCourt ? "none: the full court" : r.drawn ? `${esc(r.seatsDrawn)} of ${esc(r.panelSize)} seats filled` : `pending (block ${esc(r.drawBlock)}${r.reschedules ? `, rescheduled ${esc(r.reschedules)}×` : ""})`}</dd>
        <dt>commit / reveal until</dt><dd>${esc(time(r.commitDeadline)) || "–"} / ${esc(time(r.revealDeadline)) || "–"}</dd>
        <dt>votes</dt><dd>${esc(r.committedVotes)} committed, ${esc(r.revealedVotes)} revealed${r.totalVotes != null ? ` of ${esc(r.totalVotes)}` : ""}${r.leadingVotes != null ? `; leading claim ${esc(r.leadingVotes)}` : ""}</dd>
        ${r.appealDeadline ? `<dt>appealable until</dt><dd>${esc(time(r.appealDeadline))}</dd>` : ""}
      </dl>
      ${table(["verifier", "seats ", "votes ", "committed", "revealed claim", "outcome"], r.ballots.map((b) => `<tr class="ballot" data-verifier="${esc(b.verifier.id)}">
        <td><code title="${esc(b.verifier.id)}">${esc(short(b.verifier.id))}</code></td><td class="num">${esc(b.seats)}</td><td class="num">${esc(r.fullCourt ? tokens(b.votes) : b.votes)}</td>
        <td>${yesNo(b.committed)}</td><td>${claim(b)}</td><td>${settled(b)}</td></tr>`), "No ballot yet.")}</section>`).join("");
    return `<section id="dispute"><h2>Dispute ${ruling}</h2><dl class="kv">
        <dt>disputed by</dt><dd><code>${esc(consumer)}</code>, bond ${tokens(d.bond)} TRP, ${esc(time(d.openedAt))}</dd>
        <dt>state</dt><dd>${d.resolved ? `ruled <b class="ruling">${esc(d.ruling)}</b> ${esc(time(d.resolvedAt))}` : `${esc(d.phase)} (round ${esc(d.round)})${d.verdictDeadline ? `, reveals until ${esc(time(d.verdictDeadline))}` : ""}`}</dd>
        ${d.resolved ? `<dt>paid</dt><dd>provider ${tokens(d.providerPayment)} TRP, consumer ${tokens(d.consumerRefund)} TRP (penalty ${tokens(d.penalty)}); taken from the provider's stake ${tokens(d.slashed)} TRP</dd>
        <dt>court</dt><dd>forfeited bonds ${tokens(d.forfeited)} TRP, verifier stake slashed ${tokens(d.slashedStake)} TRP, reward pool ${tokens(d.rewardPool)} TRP; the winner <code>${esc(short(d.winner))}</code> got ${tokens(d.winnerPayout)} TRP</dd>` : ""}
      </dl>
      ${d.appeals.length ? `<h3>Appeals</h3>${table(["into round ", "appellant", "bond (TRP) ", "when"], d.appeals.map((a) => `<tr class="appeal"><td class="num">${esc(a.round)}</td><td><code>${esc(short(a.appellant))}</code></td><td class="num">${tokens(a.bond)}</td><td>${esc(time(a.appealedAt))}</td></tr>`), "")}` : ""}
      ${rounds}</section>`;
  }

  async function renderMarket() {
    const d = await gql(`{
      marketSummary(id: "market", subgraphError: allow) { providers offers requests agreements settled breached overturned disputes fuel volume stake verifiers verifierStake }
      providers(first: ${PAGE}, orderBy: reputation, orderDirection: desc, subgraphError: allow) { ${PROVIDER_FIELDS} }
      open: deploymentRequests(first: 20, where: { status: "Open" }, orderBy: createdAt, orderDirection: desc, subgraphError: allow) {
        id consumer maxPricePerMFuel maxFuel bidWindowEnd bidCount
        bids(first: 5, orderBy: total) { id total pricePerMFuel provider { id } } }
      agreements(first: ${PAGE}, orderBy: awardedAt, orderDirection: desc, subgraphError: allow) { ${AGREEMENT_FIELDS} }
      marketStats_collection(first: 1000, orderBy: day, orderDirection: desc, subgraphError: allow) { day tier agreementsCreated priceSum jobs breached overturned volume }
      verifiers(first: 10, orderBy: stake, orderDirection: desc, subgraphError: allow) { ${VERIFIER_FIELDS} }
    }`);
    const s = d.marketSummary || { providers: 0, offers: 0, requests: 0, agreements: 0, settled: 0, breached: 0, overturned: 0, disputes: 0, fuel: "0", volume: "0", stake: "0" };
    view.innerHTML = `
      <h1>Market</h1>
      <div class="cards">
        ${card("providers", big(s.providers), s.providers)}${card("requests", big(s.requests), s.requests)}${card("agreements", big(s.agreements), s.agreements)}
        ${card("settled", big(s.settled), s.settled)}${card("breached / overturned", `${big(s.breached)} / ${big(s.overturned)}`)}
        ${card("volume (TRP)", tokens(s.volume))}${card("fuel", big(s.fuel), fuel(s.fuel))}${card("staked (TRP)", tokens(s.stake))}
      </div>
      <div class="grid3">
        <section><h2>Average price per M fuel, by day</h2><div id="chart-price"></div></section>
        <section><h2>Volume paid to providers, by day</h2><div id="chart-volume"></div></section>
        <section><h2>SLA breach rate by tier</h2><div id="chart-breach"></div></section>
      </div>
      <section id="providers"><h2>Providers by reputation <a class="more" href="#/providers">all ${esc(s.providers)} ›</a></h2>${providerTable(d.providers)}</section>
      <section id="open-requests"><h2>Open requests and their bids <a class="more" href="#/requests?status=Open">all requests ›</a></h2>${table(
        ["request", "consumer", "max price / M fuel ", "max fuel ", "bid window ends", "bids"],
        d.open.map((r) => `<tr><td>${requestLink(r.id)}</td><td>${esc(short(r.consumer))}</td><td class="num">${tokens(r.maxPricePerMFuel)}</td>
          <td class="num">${fuel(r.maxFuel)}</td><td>${esc(time(r.bidWindowEnd))}</td>
          <td>${r.bids.length ? `<ul class="bids">${r.bids.map((b) => `<li>${providerLink(b.provider)} ${tokens(b.pricePerMFuel)}/M (total ${tokens(b.total)})</li>`).join("")}</ul>` : '<span class="muted">none yet</span>'}</td></tr>`),
        "No open request.",
      )}</section>
      <section id="agreements"><h2>Latest agreements <a class="more" href="#/agreements">all agreements ›</a></h2>${agreementTable(d.agreements, true)}</section>
      <section id="verifiers"><h2>Verifiers by stake <a class="more" href="#/verifiers">all ${esc(s.verifiers ?? "")} ›</a></h2>${verifierTable(d.verifiers)}</section>`;
    drawCharts(d.marketStats_collection);
  }

  function drawCharts(stats) {
    const byDay = new Map();
    const byTier = TIERS.map(() => ({ jobs: 0, bad: 0 }));
    for (const s of stats) {
      const d = byDay.get(s.day) || { created: 0, priceSum: 0n, volume: 0n };
      d.created += s.agreementsCreated;
      d.priceSum += BigInt(s.priceSum);
      d.volume += BigInt(s.volume);
      byDay.set(s.day, d);
      if (byTier[s.tier]) {
        byTier[s.tier].jobs += s.jobs;
        byTier[s.tier].bad += s.breached + s.overturned;
      }
    }
    const days = [...byDay.keys()].sort((a, b) => a - b).slice(-30);
    const label = (day) => new Date(day * 86400000).toISOString().slice(5, 10);
    const { line, bars } = window.TroupeCharts;
    const put = (id, svg) => document.getElementById(id).replaceChildren(svg);
    put("chart-price", line(
      days.filter((d) => byDay.get(d).created > 0).map((d) => ({ label: label(d), value: tokensNumber(byDay.get(d).priceSum / BigInt(byDay.get(d).created)) })),
      { label: "average price per million fuel", format: (v) => `${v.toFixed(4)} TRP` },
    ));
    put("chart-volume", bars(days.map((d) => ({ label: label(d), value: tokensNumber(byDay.get(d).volume) })), {
      label: "volume by day", format: (v) => `${v.toLocaleString("en", { maximumFractionDigits: 3 })} TRP`,
    }));
    put("chart-breach", bars(TIERS.map((t, i) => ({ label: `${t} (${byTier[i].jobs})`, value: byTier[i].jobs ? byTier[i].bad / byTier[i].jobs : 0, color: TIER_COLORS[i] })), {
      label: "SLA breach rate per tier", format: (v) => `${(v * 100).toFixed(1)}%`, axisFormat: (v) => `${+(v * 100).toFixed(1)}%`,
    }));
  }

  async function renderProviders(params) {
    const page = Math.max(0, Number(params.get("page") || 0));
    const q = (params.get("q") || "").trim().toLowerCase();
    const where = q ? (/^0x[0-9a-f]*$/.test(q) ? { id_starts_with: q } : { or: [{ tierName: q }, { metadataURI_contains_nocase: q }] }) : {};
    const skip = page * PAGE;
    if (skip > 5000) throw new Error("pages beyond 5,000 providers: narrow the list with a search");
    const d = await gql(`query ($where: Provider_filter, $skip: Int!) {
      providers(first: ${PAGE + 1}, skip: $skip, where: $where, orderBy: reputation, orderDirection: desc, subgraphError: allow) { ${PROVIDER_FIELDS} } }`, { where, skip });
    const rows = d.providers;
    const link = (p) => href("providers", { q: params.get("q"), page: p || undefined });
    view.innerHTML = `<h1>Providers</h1>
      ${searchForm("providers", params, "address prefix (0x…), tier (cloud, edge, iot) or metadata text")}
      <section id="providers">${providerTable(rows.slice(0, PAGE))}
      <nav class="pager">${page > 0 ? `<a href="${link(page - 1)}">‹ previous</a>` : '<span class="muted">‹ previous</span>'} <span>page ${page + 1}</span>
      ${rows.length > PAGE ? `<a class="older" href="${link(page + 1)}">next ›</a>` : '<span class="muted">next ›</span>'}</nav></section>`;
  }

  async function renderRequests(params) {
    const q = (params.get("q") || "").trim().toLowerCase();
    if (/^\d+$/.test(q)) {
      location.hash = `#/request/${q}`;
      return;
    }
    const where = { ...after("createdAt", params.get("after")) };
    if (params.get("status")) where.status = params.get("status");
    if (/^0x[0-9a-f]{40}$/.test(q)) where.consumer = q;
    else if (q) where.workloadURI_contains_nocase = q;
    const d = await gql(`query ($where: DeploymentRequest_filter) {
      deploymentRequests(first: ${PAGE + 1}, where: $where, orderBy: createdAt, orderDirection: desc, subgraphError: allow) {
        id status consumer workloadURI maxPricePerMFuel maxFuel bidCount createdAt } }`, { where });
    const rows = d.deploymentRequests;
    view.innerHTML = `<h1>Requests</h1>
      ${searchForm("requests", params, "request id, consumer address or workload text", statusSelect(params, ["Open", "Awarded", "Reported", "Disputed", "Settled", "Breached", "Overturned", "Annulled", "Cancelled", "Expired"]))}
      <section id="requests">${table(
        ["request", "status", "consumer", "workload", "max price / M fuel ", "max fuel ", "bids ", "posted"],
        rows.slice(0, PAGE).map((r) => `<tr data-request="${esc(r.id)}"><td>${requestLink(r.id)}</td><td>${badge(r.status)}</td><td>${esc(short(r.consumer))}</td>
          <td class="clip" title="${esc(r.workloadURI)}">${esc(r.workloadURI)}</td><td class="num">${tokens(r.maxPricePerMFuel)}</td><td class="num">${fuel(r.maxFuel)}</td>
          <td class="num">${esc(r.bidCount)}</td><td>${esc(time(r.createdAt))}</td></tr>`),
        "No request matches.",
      )}${pager("requests", params, rows, (r) => `${r.createdAt}.${r.id}`)}</section>`;
  }

  async function renderAgreements(params) {
    const q = (params.get("q") || "").trim().toLowerCase();
    if (/^\d+$/.test(q)) {
      location.hash = `#/agreement/${q}`;
      return;
    }
    const parts = [after("awardedAt", params.get("after"))];
    if (params.get("status")) parts.push({ status: params.get("status") });
    if (/^0x[0-9a-f]{40}$/.test(q)) parts.push({ or: [{ provider: q }, { consumer: q }] });
    else if (/^0x[0-9a-f]+$/.test(q)) parts.push({ provider_starts_with: q });
    const where = { and: parts.filter((p) => Object.keys(p).length) };
    const d = await gql(`query ($where: Agreement_filter) {
      agreements(first: ${PAGE + 1}, where: $where, orderBy: awardedAt, orderDirection: desc, subgraphError: allow) { ${AGREEMENT_FIELDS} } }`, { where });
    const rows = d.agreements;
    view.innerHTML = `<h1>Agreements</h1>
      ${searchForm("agreements", params, "agreement id, or a provider / consumer address", statusSelect(params, ["Awarded", "Reported", "Disputed", "Settled", "Breached", "Overturned", "Annulled"]))}
      <section id="agreements">${agreementTable(rows.slice(0, PAGE), true)}${pager("agreements", params, rows, (a) => `${a.awardedAt}.${a.id}`)}</section>`;
  }

  async function renderOffers(params) {
    const page = Math.max(0, Number(params.get("page") || 0));
    const tier = params.get("tier");
    const now = head.timestamp || Math.floor(Date.now() / 1000);
    const where = { withdrawn: false, expiresAt_gt: String(now) };
    if (tier && TIERS.includes(tier)) where.provider_ = { tierName: tier };
    const skip = page * PAGE;
    if (skip > 5000) throw new Error("pages beyond 5,000 offers: filter by tier");
    const d = await gql(`query ($where: Offer_filter, $skip: Int!) {
      offers(first: ${PAGE + 1}, skip: $skip, where: $where, orderBy: pricePerMFuel, subgraphError: allow) {
        id pricePerMFuel fee maxFuel memoryMiB concurrentJobs latencyClass expiresAt provider { id tierName region reputation } } }`, { where, skip });
    const rows = d.offers;
    const link = (p, t = tier) => href("offers", { tier: t, page: p || undefined });
    view.innerHTML = `<h1>Offer book</h1>
      <nav class="tabs">${[null, ...TIERS].map((t) => `<a class="${(t || null) === (tier || null) ? "on" : ""}" href="${link(0, t || undefined)}">${esc(t || "all tiers")}</a>`).join("")}</nav>
      <section id="offers">${table(
        ["offer", "provider", "tier", "region ", "reputation ", "price / M fuel ", "fee ", "max fuel ", "memory MiB ", "jobs ", "latency class ", "expires"],
        rows.slice(0, PAGE).map((o) => `<tr data-offer="${esc(o.id)}"><td>#${esc(o.id)}</td><td>${providerLink(o.provider)}</td><td>${esc(o.provider.tierName)}</td>
          <td class="num">${esc(o.provider.region)}</td><td class="num">${(o.provider.reputation / 100).toFixed(2)}%</td><td class="num">${tokens(o.pricePerMFuel)}</td>
          <td class="num">${tokens(o.fee)}</td><td class="num">${fuel(o.maxFuel)}</td><td class="num">${esc(o.memoryMiB)}</td><td class="num">${esc(o.concurrentJobs)}</td>
          <td class="num">${esc(o.latencyClass)}</td><td>${esc(time(o.expiresAt))}</td></tr>`),
        "No live offer.",
      )}
      <nav class="pager">${page > 0 ? `<a href="${link(page - 1)}">‹ cheaper</a>` : '<span class="muted">‹ cheaper</span>'} <span>page ${page + 1}</span>
      ${rows.length > PAGE ? `<a class="older" href="${link(page + 1)}">dearer ›</a>` : '<span class="muted">dearer ›</span>'}</nav></section>`;
  }

  async function renderProvider(id, params) {
    const d = await gql(`query ($id: ID!, $where: Agreement_filter) { provider(id: $id, subgraphError: allow) {
      id hostKey tierName region metadataURI stake unbonding slashed verifier reputation failureBps completedValue failedValue exposure openAgreements completed breached disputesWon disputesLost
      earnings fuelReported wallMsReported registeredAt
      offers(first: 100, orderBy: createdAt, orderDirection: desc) { id pricePerMFuel fee maxFuel memoryMiB latencyClass expiresAt withdrawn }
      agreements(first: ${PAGE + 1}, where: $where, orderBy: awardedAt, orderDirection: desc) { ${AGREEMENT_FIELDS} }
      bids(first: 20, orderBy: createdAt, orderDirection: desc) { id total explanationHash provider { id metadataURI } request { id status } }
    } }`, { id: id.toLowerCase(), where: after("awardedAt", params.get("after")) });
    const p = d.provider;
    if (!p) return notFound("provider", id);
    const fuelPerSecond = BigInt(p.wallMsReported) > 0n ? (BigInt(p.fuelReported) * 1000n) / BigInt(p.wallMsReported) : null;
    view.innerHTML = `
      <h1 class="id">Provider ${esc(p.id)}</h1>
      <section><dl class="kv">
        <dt>tier / region</dt><dd>${esc(p.tierName)} / ${esc(p.region)}</dd>
        <dt>stake</dt><dd>${tokens(p.stake)} TRP (unbonding ${tokens(p.unbonding)}, slashed ${tokens(p.slashed)})</dd>
        <dt>record</dt><dd id="record">completed ${tokens(p.completedValue)} TRP (${esc(p.completed)} jobs), failed ${tokens(p.failedValue)} TRP (${esc(p.breached)} breached, ${esc(p.disputesLost)} disputes lost; ${esc(p.disputesWon)} won)</dd>
        <dt>failure rate</dt><dd>${pct(p.failureBps)} (value-weighted, with the registry's prior; reputation ${pct(p.reputation)})</dd>
        <dt>open agreements</dt><dd>${esc(p.openAgreements)}, reserving ${tokens(p.exposure)} TRP of the stake</dd>
        <dt>earnings</dt><dd>${tokens(p.earnings)} TRP</dd>
        <dt>fuel reported</dt><dd>${fuel(p.fuelReported)}${fuelPerSecond !== null ? ` (${fuel(fuelPerSecond)} fuel/s)` : ""}</dd>
        <dt>host key</dt><dd>${esc(p.hostKey)}</dd>
        <dt>metadata</dt><dd>${esc(p.metadataURI)}</dd>
        <dt>verifier</dt><dd>${p.verifier ? "yes" : "no"}</dd>
        <dt>registered</dt><dd>${esc(time(p.registeredAt))}</dd>
      </dl></section>
      <section><h2>Offers</h2>${table(
        ["offer", "price / M fuel ", "fee ", "max fuel ", "memory MiB ", "latency class ", "expires", "state"],
        p.offers.map((o) => `<tr><td>#${esc(o.id)}</td><td class="num">${tokens(o.pricePerMFuel)}</td><td class="num">${tokens(o.fee)}</td><td class="num">${fuel(o.maxFuel)}</td>
          <td class="num">${esc(o.memoryMiB)}</td><td class="num">${esc(o.latencyClass)}</td><td>${o.withdrawn ? "–" : esc(time(o.expiresAt))}</td><td>${o.withdrawn ? badge("Cancelled", "withdrawn") : badge("Open", "live")}</td></tr>`),
        "No offers.",
      )}</section>
      <section id="provider-agreements"><h2>Agreements</h2>${agreementTable(p.agreements.slice(0, PAGE), false)}${pager(`provider/${encodeURIComponent(p.id)}`, params, p.agreements, (a) => `${a.awardedAt}.${a.id}`)}</section>
      <section><h2>Recent bids</h2>${table(
        ["bid", "request", "request status", "total (TRP) ", "explanation"],
        p.bids.map((b) => `<tr><td>${esc(b.id)}</td><td>${requestLink(b.request.id)}</td><td>${badge(b.request.status)}</td><td class="num">${tokens(b.total)}</td><td>${explanation(b)}</td></tr>`),
        "No bids.",
      )}</section>`;
  }

  async function renderAgreement(id) {
    const d = await gql(`query ($id: ID!) { agreement(id: $id, subgraphError: allow) {
      ${AGREEMENT_FIELDS} consumer maxFuel deadline penalty disputeWindow acceptedEarly txHash offer { id } winningBid { id seq agent }
      usageReport { fuelUsed peakMemoryPages wallMs outcomeName exitCode outputHash meteringVersion reportedAt txHash }
      settlement { kind providerPayment consumerRefund slashed settledAt txHash }
      dispute { ${DISPUTE_FIELDS} }
      request { id workloadHash workloadURI inputHash escrow bids(first: 100, orderBy: seq) { ${BID_FIELDS} } }
    } }`, { id });
    const a = d.agreement;
    if (!a) return renderRequest(id);
    const u = a.usageReport;
    const st = a.settlement;
    const dispute = a.dispute;
    view.innerHTML = `
      <h1>Agreement #${esc(a.id)} ${badge(a.status)}</h1>
      <section id="timeline"><h2>Timeline</h2>${fullTimeline(a)}</section>
      <div class="grid3">
        <section><h2>Terms</h2><dl class="kv">
          <dt>provider</dt><dd>${providerLink(a.provider)} (${esc(a.provider.tierName)}, region ${esc(a.provider.region)})</dd>
          <dt>consumer</dt><dd>${esc(a.consumer)}</dd>
          <dt>price / M fuel</dt><dd>${tokens(a.pricePerMFuel)} TRP + fee ${tokens(a.fee)}</dd>
          <dt>fuel cap</dt><dd>${fuel(a.maxFuel)}</dd>
          <dt>deadline</dt><dd>${esc(time(a.deadline))}</dd>
          <dt>penalty</dt><dd>${tokens(a.penalty)} TRP</dd>
          <dt>awarded by</dt><dd>${a.acceptedEarly ? "the consumer, early" : "the auction"} — bid ${esc(a.winningBid ? a.winningBid.id : "–")}, offer #${esc(a.offer.id)}</dd>
          <dt>workload</dt><dd>${esc(a.request.workloadURI)} <span class="muted">${esc(short(a.request.workloadHash))}</span></dd>
        </dl></section>
        <section><h2>Usage and payment</h2>${u ? `<dl class="kv">
          <dt>outcome</dt><dd>${esc(u.outcomeName)} (exit ${esc(u.exitCode)})</dd>
          <dt>fuel used</dt><dd>${fuel(u.fuelUsed)}</dd>
          <dt>peak memory</dt><dd>${esc(u.peakMemoryPages)} pages</dd>
          <dt>wall time</dt><dd>${esc(u.wallMs)} ms</dd>
          <dt>output hash</dt><dd>${esc(short(u.outputHash))}</dd>
          <dt>metering version</dt><dd>${esc(u.meteringVersion)}</dd></dl>` : '<p class="empty">No usage report.</p>'}
          ${st ? `<dl class="kv"><dt>settlement</dt><dd>${esc(st.kind)}</dd><dt>paid to provider</dt><dd>${tokens(st.providerPayment)} TRP</dd>
          <dt>refunded to consumer</dt><dd>${tokens(st.consumerRefund)} TRP</dd><dt>slashed</dt><dd>${tokens(st.slashed)} TRP</dd></dl>` : ""}
        </section>
      </div>
      ${dispute ? disputeView(dispute, a.consumer) : ""}
      <section id="bids"><h2>Bids on request ${requestLink(a.request.id)} and their explanations</h2>${bidTable(a.request.bids)}</section>`;
  }

  async function renderRequest(id) {
    const d = await gql(`query ($id: ID!) { deploymentRequest(id: $id, subgraphError: allow) {
      id status consumer workloadURI workloadHash maxFuel maxPricePerMFuel maxFee allowedTiers region bidWindowEnd execTime deadline meteringVersion
      valueAtRisk valueAtRiskBps escrow refund closeReason createdAt closedAt
      agreement { id } bids(first: 100, orderBy: seq) { ${BID_FIELDS} } } }`, { id });
    const r = d.deploymentRequest;
    if (!r) return notFound("request or agreement", id);
    if (r.agreement) {
      location.hash = `#/agreement/${r.agreement.id}`;
      return;
    }
    const tiers = TIERS.filter((_, i) => (r.allowedTiers >> i) & 1).join(", ");
    view.innerHTML = `
      <h1>Request #${esc(r.id)} ${badge(r.status)}</h1>
      <section><dl class="kv">
        <dt>consumer</dt><dd>${esc(r.consumer)}</dd><dt>workload</dt><dd>${esc(r.workloadURI)}</dd>
        <dt>max price / M fuel</dt><dd>${tokens(r.maxPricePerMFuel)} TRP + fee ${tokens(r.maxFee)}</dd><dt>fuel cap</dt><dd>${fuel(r.maxFuel)}</dd>
        <dt>tiers / region</dt><dd>${esc(tiers)} / ${esc(r.region)}</dd><dt>escrow</dt><dd>${tokens(r.escrow)} TRP${r.refund ? ` (refunded ${tokens(r.refund)})` : ""}</dd>
        <dt>value at risk</dt><dd>${tokens(r.valueAtRisk)} TRP (${pct(r.valueAtRiskBps)} of the escrow: the award adds it × each provider's failure rate to the bid)</dd>
        <dt>execution</dt><dd>${esc(r.execTime)} s to report after the award, metering version ${esc(r.meteringVersion)}</dd>
        <dt>posted</dt><dd>${esc(time(r.createdAt))}</dd><dt>bid window ends</dt><dd>${esc(time(r.bidWindowEnd))}</dd><dt>deadline</dt><dd>${esc(time(r.deadline))}</dd>
        ${r.closeReason ? `<dt>closed</dt><dd class="close-reason">${esc(CLOSE_REASONS[r.closeReason] || r.closeReason)}</dd>` : ""}
      </dl></section>
      <section id="bids"><h2>Bids and their explanations</h2>${bidTable(r.bids)}</section>`;
  }

  function notFound(what, id) {
    view.innerHTML = `<section class="not-found" id="not-found"><h1>Not found</h1>
      <p>There is no ${esc(what)} ${id !== undefined ? `<code>${esc(id)}</code>` : ""} in the index${head.number ? ` (indexed up to block ${esc(head.number)})` : ""}.
      It may not exist yet, belong to another market, or the ${id !== undefined ? "id" : "address"} may be mistyped.</p>
      <p><a href="#/">Back to the market</a> · <a href="#/requests">all requests</a> · <a href="#/agreements">all agreements</a> · <a href="#/providers">all providers</a></p></section>`;
  }

  const ROUTES = {
    market: () => renderMarket(),
    providers: (r) => renderProviders(r.params),
    requests: (r) => renderRequests(r.params),
    agreements: (r) => renderAgreements(r.params),
    offers: (r) => renderOffers(r.params),
    provider: (r) => (r.id ? renderProvider(r.id, r.params) : renderProviders(r.params)),
    agreement: (r) => (r.id ? renderAgreement(r.id) : renderAgreements(r.params)),
    request: (r) => (r.id ? renderRequest(r.id) : renderRequests(r.params)),
    verifiers: (r) => renderVerifiers(r.params),
  };

  async function render() {
    if (rendering) return;
    rendering = true;
    const r = route();
    try {
      const meta = await gql("{ _meta { block { number timestamp } hasIndexingErrors } }");
      head = meta._meta.block;
      status.textContent = `block ${head.number}${head.timestamp ? " · " + time(head.timestamp) : ""}${meta._meta.hasIndexingErrors ? " · indexing errors" : ""}`;
      status.className = `status live${meta._meta.hasIndexingErrors ? " warn" : ""}`;
      const renderRoute = ROUTES[r.kind];
      if (renderRoute) await renderRoute(r);
      else notFound("page", `#/${r.kind}`);
      document.title = view.querySelector("#not-found") ? "Not found · Troupe market explorer" : "Troupe market explorer";
      document.body.dataset.route = r.kind;
    } catch (error) {
      status.textContent = "disconnected";
      status.className = "status";
      view.querySelector(":scope > .error")?.remove();
      view.insertAdjacentHTML("afterbegin", `<p class="error">Cannot load: ${esc(error.message)}</p>`);
    } finally {
      rendering = false;
    }
  }

  // Search forms navigate; the global box jumps to an id or an address.
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form");
    if (!form) return;
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    if (form.id === "jump") {
      const q = String(data.q || "").trim().toLowerCase();
      location.hash = /^\d+$/.test(q) ? `#/request/${q}` : /^0x[0-9a-f]{40}$/.test(q) ? `#/provider/${q}` : href("providers", { q });
      return;
    }
    location.hash = href(form.dataset.kind, data);
  });

  // Live updates: re-render the current route every few seconds (not while the user types), and at once on navigation.
  window.addEventListener("hashchange", () => {
    window.scrollTo(0, 0);
    render();
  });
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.activeElement || !["INPUT", "SELECT"].includes(document.activeElement.tagName)) render();
  }, POLL_MS);
  render();
})();
