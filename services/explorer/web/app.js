// The Troupe market explorer page: reads the GraphQL API (The Graph's conventions) and renders
// hash routes. Everything from the chain is escaped before it reaches the DOM.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const TIER_COLORS = ["#3b5bdb", "#0ca678", "#f08c00"];
  const TIERS = ["cloud", "edge", "iot"];
  const view = document.getElementById("view");
  const status = document.getElementById("status");
  let timer;
  let rendering = false;

  async function gql(query, variables) {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
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
  const time = (t) => (t == null ? "" : new Date(Number(t) * 1000).toISOString().replace("T", " ").slice(0, 19));
  const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;
  const providerLink = (p) => (p ? `<a href="#/provider/${esc(p.id)}">${esc(short(p.id))}</a>` : "–");
  const agreementLink = (id) => `<a href="#/agreement/${esc(id)}">#${esc(id)}</a>`;
  const requestLink = (id) => `<a href="#/request/${esc(id)}">#${esc(id)}</a>`;
  const table = (head, rows, empty) =>
    rows.length
      ? `<table><thead><tr>${head.map((h) => `<th class="${h.endsWith(" ") ? "num" : ""}">${esc(h.trim())}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`
      : `<p class="empty">${esc(empty)}</p>`;

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
    steps.push(end || [a.status === "Disputed" ? "verdicts pending" : "settled", null, ""]);
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

  async function renderMarket() {
    const d = await gql(`{
      marketSummary(id: "market") { providers requests agreements settled breached overturned disputes fuel volume stake }
      providers(first: 100, orderBy: reputation, orderDirection: desc) { id tierName region stake reputation completed breached disputesLost earnings verifier }
      open: deploymentRequests(first: 20, where: { status: "Open" }, orderBy: createdAt, orderDirection: desc) {
        id consumer maxPricePerMFuel maxFuel bidWindowEnd bidCount
        bids(first: 5, orderBy: total) { id total pricePerMFuel provider { id } } }
      agreements(first: 25, orderBy: awardedAt, orderDirection: desc) { ${AGREEMENT_FIELDS} }
      marketStats_collection(first: 1000, orderBy: day, orderDirection: desc) { day tier agreementsCreated priceSum jobs breached overturned volume }
    }`);
    const s = d.marketSummary || { providers: 0, requests: 0, agreements: 0, settled: 0, breached: 0, overturned: 0, disputes: 0, fuel: "0", volume: "0", stake: "0" };
    const card = (label, value) => `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`;
    view.innerHTML = `
      <h1>Market</h1>
      <div class="cards">
        ${card("providers", s.providers)}${card("requests", s.requests)}${card("agreements", s.agreements)}
        ${card("settled", s.settled)}${card("breached / overturned", `${s.breached} / ${s.overturned}`)}
        ${card("volume (TRP)", tokens(s.volume))}${card("fuel", fuel(s.fuel))}${card("staked (TRP)", tokens(s.stake))}
      </div>
      <div class="grid3">
        <section><h2>Average price per M fuel, by day</h2><div id="chart-price"></div></section>
        <section><h2>Volume paid to providers, by day</h2><div id="chart-volume"></div></section>
        <section><h2>SLA breach rate by tier</h2><div id="chart-breach"></div></section>
      </div>
      <section id="providers"><h2>Providers</h2>${table(
        ["provider", "tier", "region ", "stake (TRP) ", "reputation ", "completed ", "breached ", "earnings (TRP) ", "verifier"],
        d.providers.map((p) => `<tr data-provider="${esc(p.id)}"><td>${providerLink(p)}</td><td>${esc(p.tierName)}</td><td class="num">${esc(p.region)}</td>
          <td class="num">${tokens(p.stake)}</td><td class="num">${(p.reputation / 100).toFixed(2)}%</td><td class="num">${esc(p.completed)}</td>
          <td class="num">${esc(p.breached + p.disputesLost)}</td><td class="num">${tokens(p.earnings)}</td><td>${p.verifier ? "yes" : ""}</td></tr>`),
        "No provider has registered yet.",
      )}</section>
      <section id="open-requests"><h2>Open requests and their bids</h2>${table(
        ["request", "consumer", "max price / M fuel ", "max fuel ", "bid window ends", "bids"],
        d.open.map((r) => `<tr><td>${requestLink(r.id)}</td><td>${esc(short(r.consumer))}</td><td class="num">${tokens(r.maxPricePerMFuel)}</td>
          <td class="num">${fuel(r.maxFuel)}</td><td>${esc(time(r.bidWindowEnd))}</td>
          <td>${r.bids.length ? `<ul class="bids">${r.bids.map((b) => `<li>${providerLink(b.provider)} ${tokens(b.pricePerMFuel)}/M (total ${tokens(b.total)})</li>`).join("")}</ul>` : '<span class="muted">none yet</span>'}</td></tr>`),
        "No open request.",
      )}</section>
      <section id="agreements"><h2>Agreements</h2>${agreementTable(d.agreements, true)}</section>`;
    drawCharts(d.marketStats_collection);
  }

  function agreementTable(list, withProvider) {
    return table(
      ["agreement", ...(withProvider ? ["provider", "tier"] : []), "status", "timeline", "price / M fuel ", "fuel used ", "paid (TRP) ", "awarded"],
      list.map((a) => `<tr data-agreement="${esc(a.id)}"><td>${agreementLink(a.id)}</td>${withProvider ? `<td>${providerLink(a.provider)}</td><td>${esc(a.provider.tierName)}</td>` : ""}
        <td>${badge(a.status)}</td><td>${miniTimeline(a)}</td><td class="num">${tokens(a.pricePerMFuel)}</td>
        <td class="num">${a.usageReport ? fuel(a.usageReport.fuelUsed) : "–"}</td><td class="num">${tokens(a.providerPayment)}</td><td>${esc(time(a.awardedAt))}</td></tr>`),
      "No agreement yet.",
    );
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
      { label: "average price per million fuel", format: (v) => v.toFixed(4) },
    ));
    put("chart-volume", bars(days.map((d) => ({ label: label(d), value: tokensNumber(byDay.get(d).volume) })), {
      label: "volume by day", format: (v) => v.toFixed(3),
    }));
    put("chart-breach", bars(TIERS.map((t, i) => ({ label: `${t} (${byTier[i].jobs} jobs)`, value: byTier[i].jobs ? byTier[i].bad / byTier[i].jobs : 0, color: TIER_COLORS[i] })), {
      label: "SLA breach rate per tier", format: (v) => `${(v * 100).toFixed(1)}%`,
    }));
  }

  async function renderProvider(id) {
    const d = await gql(`query ($id: ID!) { provider(id: $id) {
      id hostKey tierName region metadataURI stake unbonding slashed verifier reputation openAgreements completed breached disputesWon disputesLost
      earnings fuelReported wallMsReported registeredAt
      offers(orderBy: createdAt, orderDirection: desc) { id pricePerMFuel fee maxFuel memoryMiB latencyClass expiresAt withdrawn }
      agreements(first: 50, orderBy: awardedAt, orderDirection: desc) { ${AGREEMENT_FIELDS} }
      bids(first: 20, orderBy: createdAt, orderDirection: desc) { id total request { id status } }
    } }`, { id: id.toLowerCase() });
    const p = d.provider;
    if (!p) return notFound("provider", id);
    const fuelPerSecond = BigInt(p.wallMsReported) > 0n ? (BigInt(p.fuelReported) * 1000n) / BigInt(p.wallMsReported) : null;
    view.innerHTML = `
      <h1>Provider ${esc(p.id)}</h1>
      <section><dl class="kv">
        <dt>tier / region</dt><dd>${esc(p.tierName)} / ${esc(p.region)}</dd>
        <dt>stake</dt><dd>${tokens(p.stake)} TRP (unbonding ${tokens(p.unbonding)}, slashed ${tokens(p.slashed)})</dd>
        <dt>reputation</dt><dd>${(p.reputation / 100).toFixed(2)}% — ${esc(p.completed)} completed, ${esc(p.breached)} breached, disputes ${esc(p.disputesWon)} won / ${esc(p.disputesLost)} lost, ${esc(p.openAgreements)} open</dd>
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
          <td class="num">${esc(o.memoryMiB)}</td><td class="num">${esc(o.latencyClass)}</td><td>${o.withdrawn ? "–" : esc(time(o.expiresAt))}</td><td>${o.withdrawn ? badge("Cancelled").replace(">Cancelled<", ">withdrawn<") : badge("Open").replace(">Open<", ">live<")}</td></tr>`),
        "No offers.",
      )}</section>
      <section id="provider-agreements"><h2>Agreements</h2>${agreementTable(p.agreements, false)}</section>
      <section><h2>Recent bids</h2>${table(
        ["bid", "request", "request status", "total (TRP) "],
        p.bids.map((b) => `<tr><td>${esc(b.id)}</td><td>${requestLink(b.request.id)}</td><td>${badge(b.request.status)}</td><td class="num">${tokens(b.total)}</td></tr>`),
        "No bids.",
      )}</section>`;
  }

  async function renderAgreement(id) {
    const d = await gql(`query ($id: ID!) { agreement(id: $id) {
      ${AGREEMENT_FIELDS} consumer maxFuel deadline penalty disputeWindow acceptedEarly txHash offer { id } winningBid { id seq agent }
      usageReport { fuelUsed peakMemoryPages wallMs outcomeName exitCode outputHash meteringVersion reportedAt txHash }
      settlement { kind providerPayment consumerRefund slashed settledAt txHash }
      dispute { bond openedAt verdictDeadline resolved upheld quorum slashed verifierRewardEach verdicts { verifier { id } fuelUsed agrees submittedAt } }
      request { id workloadHash workloadURI inputHash escrow bids(orderBy: seq) { id seq total pricePerMFuel fee provider { id } } }
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
      ${dispute ? `<section id="dispute"><h2>Dispute</h2><dl class="kv"><dt>bond</dt><dd>${tokens(dispute.bond)} TRP</dd>
        <dt>state</dt><dd>${dispute.resolved ? (dispute.upheld ? "report upheld" : "report overturned") + (dispute.quorum ? " by a verifier quorum" : " (verdict window timed out)") : "waiting for verdicts until " + esc(time(dispute.verdictDeadline))}</dd></dl>
        ${table(["verifier", "fuel ", "agrees", "submitted"], dispute.verdicts.map((v) => `<tr><td>${providerLink(v.verifier)}</td><td class="num">${fuel(v.fuelUsed)}</td><td>${v.agrees ? "yes" : "no"}</td><td>${esc(time(v.submittedAt))}</td></tr>`), "No verdict yet.")}</section>` : ""}
      <section><h2>Bids on request ${requestLink(a.request.id)}</h2>${bidTable(a.request.bids)}</section>`;
  }

  const bidTable = (bids) =>
    table(
      ["#", "provider", "price / M fuel ", "fee ", "total (TRP) "],
      bids.map((b) => `<tr><td>${esc(b.seq)}</td><td>${providerLink(b.provider)}</td><td class="num">${tokens(b.pricePerMFuel)}</td><td class="num">${tokens(b.fee)}</td><td class="num">${tokens(b.total)}</td></tr>`),
      "No bids.",
    );

  async function renderRequest(id) {
    const d = await gql(`query ($id: ID!) { deploymentRequest(id: $id) {
      id status consumer workloadURI workloadHash maxFuel maxPricePerMFuel maxFee allowedTiers region bidWindowEnd deadline escrow refund createdAt closedAt
      agreement { id } bids(orderBy: seq) { id seq total pricePerMFuel fee provider { id } } } }`, { id });
    const r = d.deploymentRequest;
    if (!r) return notFound("request", id);
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
        <dt>posted</dt><dd>${esc(time(r.createdAt))}</dd><dt>bid window ends</dt><dd>${esc(time(r.bidWindowEnd))}</dd><dt>deadline</dt><dd>${esc(time(r.deadline))}</dd>
      </dl></section>
      <section><h2>Bids</h2>${bidTable(r.bids)}</section>`;
  }

  function notFound(what, id) {
    view.innerHTML = `<h1>No ${esc(what)} ${esc(id)}</h1><p><a href="#/">Back to the market</a></p>`;
  }

  async function render() {
    if (rendering) return;
    rendering = true;
    const [, kind, id] = (location.hash || "#/").split("/");
    try {
      const meta = await gql("{ _meta { block { number timestamp } } }");
      status.textContent = `block ${meta._meta.block.number}${meta._meta.block.timestamp ? " · " + time(meta._meta.block.timestamp) : ""}`;
      status.className = "status live";
      if (kind === "provider" && id) await renderProvider(decodeURIComponent(id));
      else if (kind === "agreement" && id) await renderAgreement(decodeURIComponent(id));
      else if (kind === "request" && id) await renderRequest(decodeURIComponent(id));
      else await renderMarket();
      document.body.dataset.route = kind || "market";
    } catch (error) {
      status.textContent = "disconnected";
      status.className = "status";
      view.querySelector(":scope > .error")?.remove();
      view.insertAdjacentHTML("afterbegin", `<p class="error">Cannot load: ${esc(error.message)}</p>`);
    } finally {
      rendering = false;
    }
  }

  // Live updates: re-render the current route every few seconds, and at once on navigation.
  window.addEventListener("hashchange", () => {
    window.scrollTo(0, 0);
    render();
  });
  clearInterval(timer);
  timer = setInterval(render, POLL_MS);
  render();
})();
