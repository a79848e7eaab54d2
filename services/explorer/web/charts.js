// Small inline-SVG charts for the explorer page: no library, no network.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = 480, H = 180, PAD = { l: 48, r: 10, t: 10, b: 28 };

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function frame(label) {
    const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
    svg.appendChild(el("line", { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, stroke: "#ced4da" }));
    return svg;
  }

  function yAxis(svg, max, format) {
    for (const f of [0, 0.5, 1]) {
      const y = H - PAD.b - f * (H - PAD.t - PAD.b);
      svg.appendChild(el("text", { x: PAD.l - 6, y: y + 3, "text-anchor": "end" }, format(max * f)));
      if (f > 0) svg.appendChild(el("line", { x1: PAD.l, y1: y, x2: W - PAD.r, y2: y, stroke: "#f1f3f5" }));
    }
  }

  function empty(svg) {
    svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data yet"));
    return svg;
  }

  /** points: [{label, value}] drawn as a line with dots. */
  function line(points, { label, format, color = "#3b5bdb" }) {
    const svg = frame(label);
    if (!points.length) return empty(svg);
    const max = Math.max(...points.map((p) => p.value), 1e-12);
    yAxis(svg, max, format);
    const step = points.length > 1 ? (W - PAD.l - PAD.r) / (points.length - 1) : 0;
    const xy = points.map((p, i) => [PAD.l + (points.length > 1 ? i * step : (W - PAD.l - PAD.r) / 2), H - PAD.b - (p.value / max) * (H - PAD.t - PAD.b)]);
    svg.appendChild(el("polyline", { points: xy.map((p) => p.join(",")).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
    xy.forEach(([x, y], i) => {
      const dot = el("circle", { cx: x, cy: y, r: 3, fill: color });
      dot.appendChild(el("title", {}, `${points[i].label}: ${format(points[i].value)}`));
      svg.appendChild(dot);
    });
    labels(svg, points.map((p) => p.label), xy.map((p) => p[0]));
    return svg;
  }

  /** bars: [{label, value, color?}] */
  function bars(items, { label, format, color = "#3b5bdb" }) {
    const svg = frame(label);
    if (!items.length) return empty(svg);
    const max = Math.max(...items.map((b) => b.value), 1e-12);
    yAxis(svg, max, format);
    const slot = (W - PAD.l - PAD.r) / items.length;
    const width = Math.min(48, slot * 0.7);
    const xs = [];
    items.forEach((b, i) => {
      const h = (b.value / max) * (H - PAD.t - PAD.b);
      const x = PAD.l + i * slot + (slot - width) / 2;
      xs.push(x + width / 2);
      const rect = el("rect", { x, y: H - PAD.b - h, width, height: Math.max(h, 0.5), fill: b.color || color, rx: 2 });
      rect.appendChild(el("title", {}, `${b.label}: ${format(b.value)}`));
      svg.appendChild(rect);
    });
    labels(svg, items.map((b) => b.label), xs);
    return svg;
  }

  function labels(svg, texts, xs) {
    const every = Math.ceil(texts.length / 8);
    texts.forEach((t, i) => {
      if (i % every === 0) svg.appendChild(el("text", { x: xs[i], y: H - PAD.b + 16, "text-anchor": "middle" }, t));
    });
  }

  window.TroupeCharts = { line, bars };
})();
