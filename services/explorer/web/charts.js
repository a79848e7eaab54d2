// Small inline-SVG charts for the explorer page: no library, no network. Axis labels are compact
// (5.47k) and the left margin is sized to the widest one, so nothing is clipped; full values are
// in each mark's tooltip.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = 480, H = 180, PAD = { r: 12, t: 12, b: 30 };
  const CHAR_WIDTH = 6.2; // px per character at the axis font size (10px), generously

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** 5472.634 -> "5.47k", 0.0123 -> "0.0123", 12000000 -> "12M". */
  function compact(v) {
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
    if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
    if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
    if (a >= 1) return `${+v.toPrecision(3)}`;
    return `${+v.toPrecision(2)}`;
  }

  function frame(label, left) {
    const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
    svg.appendChild(el("line", { x1: left, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, stroke: "#ced4da" }));
    return svg;
  }

  /** The axis labels and the left margin they need. */
  function axis(max, axisFormat) {
    const labels = [0, 0.5, 1].map((f) => axisFormat(max * f));
    const left = Math.ceil(Math.max(...labels.map((l) => l.length)) * CHAR_WIDTH) + 12;
    return { labels, left };
  }

  function yAxis(svg, labels, left) {
    [0, 0.5, 1].forEach((f, i) => {
      const y = H - PAD.b - f * (H - PAD.t - PAD.b);
      svg.appendChild(el("text", { x: left - 6, y: y + 3, "text-anchor": "end", class: "axis" }, labels[i]));
      if (f > 0) svg.appendChild(el("line", { x1: left, y1: y, x2: W - PAD.r, y2: y, stroke: "#f1f3f5" }));
    });
  }

  function empty(svg) {
    svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data yet"));
    return svg;
  }

  /** points: [{label, value}] drawn as a line with dots. */
  function line(points, { label, format, axisFormat = compact, color = "#3b5bdb" }) {
    const max = Math.max(...points.map((p) => p.value), 1e-12);
    const { labels, left } = axis(max, axisFormat);
    const svg = frame(label, left);
    if (!points.length) return empty(svg);
    yAxis(svg, labels, left);
    const width = W - left - PAD.r;
    const step = points.length > 1 ? width / (points.length - 1) : 0;
    const xy = points.map((p, i) => [left + (points.length > 1 ? i * step : width / 2), H - PAD.b - (p.value / max) * (H - PAD.t - PAD.b)]);
    svg.appendChild(el("polyline", { points: xy.map((p) => p.join(",")).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
    xy.forEach(([x, y], i) => {
      const dot = el("circle", { cx: x, cy: y, r: 3, fill: color });
      dot.appendChild(el("title", {}, `${points[i].label}: ${format(points[i].value)}`));
      svg.appendChild(dot);
    });
    labelsX(svg, points.map((p) => p.label), xy.map((p) => p[0]), left);
    return svg;
  }

  /** bars: [{label, value, color?}] */
  function bars(items, { label, format, axisFormat = compact, color = "#3b5bdb" }) {
    const max = Math.max(...items.map((b) => b.value), 1e-12);
    const { labels, left } = axis(max, axisFormat);
    const svg = frame(label, left);
    if (!items.length) return empty(svg);
    yAxis(svg, labels, left);
    const slot = (W - left - PAD.r) / items.length;
    const width = Math.min(48, slot * 0.7);
    const xs = [];
    items.forEach((b, i) => {
      const h = (b.value / max) * (H - PAD.t - PAD.b);
      const x = left + i * slot + (slot - width) / 2;
      xs.push(x + width / 2);
      const rect = el("rect", { x, y: H - PAD.b - h, width, height: Math.max(h, 0.5), fill: b.color || color, rx: 2 });
      rect.appendChild(el("title", {}, `${b.label}: ${format(b.value)}`));
      svg.appendChild(rect);
    });
    labelsX(svg, items.map((b) => b.label), xs, left);
    return svg;
  }

  /** X labels, thinned so they never overlap, and kept inside the frame. */
  function labelsX(svg, texts, xs, left) {
    const widest = Math.max(...texts.map((t) => t.length)) * CHAR_WIDTH + 8;
    const room = (W - left - PAD.r) / Math.max(1, texts.length);
    const every = Math.max(1, Math.ceil(widest / room));
    texts.forEach((t, i) => {
      if (i % every !== 0) return;
      const half = (t.length * CHAR_WIDTH) / 2;
      const x = Math.min(Math.max(xs[i], left + half), W - PAD.r - half);
      svg.appendChild(el("text", { x, y: H - PAD.b + 16, "text-anchor": "middle", class: "axis" }, t));
    });
  }

  window.TroupeCharts = { line, bars, compact };
})();
