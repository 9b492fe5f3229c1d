// The queue connector's operator page: a view of /api/events (Server-Sent
// Events). No framework, no build step; every value is put in the DOM as
// text (never as HTML).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const attrs = new Map();     // name -> {doc, card, events}
  const pending = new Map();   // name -> doc waiting to be drawn
  const rates = new Map();     // exchange key -> {out, t, rate}
  let drawTimer = null;
  let lastExchanges = [];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  // ---- numbers ----------------------------------------------------------
  // The API sends NaN and the infinities as strings.
  function num(v) {
    if (typeof v === "number") return v;
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return null;
  }
  function isNumLike(v) { return num(v) !== null; }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "boolean") return v ? "True" : "False";
    if (typeof v === "string") return v;
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      const a = Math.abs(v);
      if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(6);
      return String(+v.toPrecision(10));
    }
    if (typeof v === "object") {
      if ("re" in v && "im" in v) return fmt(v.re) + (num(v.im) < 0 ? " − " + fmt(-num(v.im)) : " + " + fmt(v.im)) + "j";
      if ("base64" in v && Object.keys(v).length === 1) return "b64:" + v.base64;
      if ("timestamp" in v) return v.timestamp;
    }
    return JSON.stringify(v);
  }
  function ago(iso) {
    if (!iso) return "—";
    const s = (Date.now() - Date.parse(iso)) / 1000;
    if (!(s >= 0)) return new Date(iso).toLocaleTimeString();
    if (s < 1) return "just now";
    if (s < 90) return Math.round(s) + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return new Date(iso).toLocaleString();
  }
  function clock(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toISOString().replace("T", " ").replace("Z", " UTC");
  }

  // ---- state -------------------------------------------------------------
  function setState(st) {
    const s = $("state");
    s.textContent = st.state || "UNKNOWN";
    s.dataset.state = st.state || "UNKNOWN";
    $("status").textContent = st.status || "";
    $("status").title = st.status || "";
    document.title = (st.state ? "[" + st.state + "] " : "") + ($("title").textContent || "Queue connector");
  }

  // ---- commands ----------------------------------------------------------
  async function command(name, button) {
    const out = $("cmd-result");
    const arg = name === "Configure" ? $("config-arg").value : "";
    button.disabled = true;
    out.className = "cmd-result";
    out.textContent = name + "…";
    try {
      const r = await fetch("api/commands/" + encodeURIComponent(name), {
        method: "POST", headers: { "Content-Type": "application/json" }, body: arg,
      });
      const res = await r.json().catch(() => ({ error: "HTTP " + r.status }));
      if (r.ok) {
        out.className = "cmd-result ok";
        out.textContent = name + ": done";
      } else {
        out.className = "cmd-result err";
        out.textContent = name + " failed (" + r.status + "): " + (res.error || "");
      }
      if (res.state) setState(res);
    } catch (e) {
      out.className = "cmd-result err";
      out.textContent = name + " failed: " + e;
    } finally {
      button.disabled = false;
    }
  }
  document.querySelectorAll("button[data-cmd]").forEach((b) =>
    b.addEventListener("click", () => command(b.dataset.cmd, b)));

  // ---- exchanges ---------------------------------------------------------
  function setExchanges(list) {
    lastExchanges = list;
    const body = $("exchanges");
    body.textContent = "";
    $("exchange-count").textContent = list.length ? "(" + list.length + ")" : "";
    if (!list.length) {
      const tr = el("tr", "empty");
      const td = el("td", null, "no exchanges configured");
      td.colSpan = 10;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    const now = Date.now();
    for (const x of list) {
      const key = x.group + "/" + x.name;
      const prev = rates.get(key);
      let rate = prev ? prev.rate : null;
      if (prev && now > prev.t && x.out !== prev.out) rate = (x.out - prev.out) / ((now - prev.t) / 1000);
      else if (prev && now - prev.t > 3000) rate = 0;
      if (!prev || x.out !== prev.out || now - prev.t > 3000) rates.set(key, { out: x.out, t: now, rate });
      const tr = el("tr");
      tr.dataset.exchange = x.name;
      tr.appendChild(el("td", null, x.group || "—"));
      tr.appendChild(el("td", null, x.name));
      const st = el("td");
      st.appendChild(el("span", "pill " + x.state, x.state));
      if (x.error) st.appendChild(el("div", "err-text", x.error));
      tr.appendChild(st);
      for (const k of ["in", "processed", "out"]) {
        const td = el("td", "num", x[k]);
        td.dataset.k = k;
        tr.appendChild(td);
      }
      tr.appendChild(el("td", "num", rate === null ? "—" : rate.toFixed(1) + "/s"));
      tr.appendChild(el("td", "num", x.lag));
      const errs = el("td", "num", x.errors);
      if (x.errors > 0) errs.style.color = "#b52a26";
      tr.appendChild(errs);
      const lo = el("td", null, ago(x.last_out));
      lo.title = x.last_out || "";
      tr.appendChild(lo);
      body.appendChild(tr);
    }
  }

  // ---- attribute values ----------------------------------------------------
  function isArray(v) { return v && typeof v === "object" && Array.isArray(v.data) && Array.isArray(v.shape); }

  function renderValue(v, doc) {
    if (v === null || v === undefined) return el("div", "value none", "no value");
    if (doc && doc.tango_type === "DevEncoded" && typeof v === "object" && "encoding" in v) return renderEncoded(v);
    if (isArray(v)) return renderArray(v);
    if (v && typeof v === "object" && v.truncated) return el("div", "value none", "array of shape [" + v.shape + "] (too large to show)");
    if (typeof v === "boolean") return el("div", "value scalar bool-" + v, v ? "True" : "False");
    if (typeof v === "number" || isNumLike(v)) return el("div", "value scalar", fmt(v));
    if (typeof v === "string") return el("div", "value scalar str", v);
    if (typeof v === "object" && "re" in v && "im" in v) return el("div", "value scalar", fmt(v));
    if (Array.isArray(v) && v.length > 1 && v.every(isNumLike)) return renderArray({ shape: [v.length], data: v, dtype: "list" });
    if (Array.isArray(v) && v.length && v.every((r) => r && typeof r === "object" && !Array.isArray(r) && !isArray(r))) return recordTable(v, Object.keys(v[0]));
    return el("pre", "json", JSON.stringify(v, null, 2));
  }

  function fieldNames(dtype, first) {
    if (Array.isArray(dtype)) return dtype.map((f) => f[0]).filter((n) => n);
    return first && typeof first === "object" ? Object.keys(first) : [];
  }

  function renderArray(a) {
    const s = a.shape;
    const flat = s.length <= 1 ? a.data : null;
    if (s.length === 0) return renderValue(a.data);
    if (s.length === 1 && flat.length && flat[0] !== null && typeof flat[0] === "object" && !Array.isArray(flat[0]) && !("re" in flat[0])) {
      return recordTable(flat, fieldNames(a.dtype, flat[0]));
    }
    if (s.length === 1 && flat.every(isNumLike) && flat.length > 0) return linePlot(flat.map(num), a);
    if (s.length === 1 && flat.every((x) => typeof x === "boolean")) return linePlot(flat.map((x) => (x ? 1 : 0)), a);
    if (s.length === 2 && a.data.every((row) => row.every(isNumLike))) return heatmap(a.data.map((row) => row.map(num)), a);
    if (s.length === 2 && a.data.length && a.data[0].length && typeof a.data[0][0] === "object" && !Array.isArray(a.data[0][0])) {
      return recordTable(a.data.flat(), fieldNames(a.dtype, a.data[0][0]));
    }
    return el("pre", "json", JSON.stringify(a.data, null, 1));
  }

  // plotWidth is the width the current card body gives a plot, so the SVG
  // is drawn 1:1 and its labels are not stretched.
  let plotWidth = 600;
  function linePlot(ys, a, opts) {
    opts = opts || {};
    const wrap = el("div", "plot" + (opts.spark ? " spark" : ""));
    const W = Math.max(200, Math.round(plotWidth)), H = opts.height || 150, padL = 52, padR = 6, padT = 8, padB = opts.spark ? 4 : 18;
    const finite = ys.filter((y) => Number.isFinite(y));
    let lo = Math.min(...finite), hi = Math.max(...finite);
    if (!finite.length) { lo = 0; hi = 1; }
    if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const n = ys.length;
    const X = (i) => padL + (n > 1 ? (i / (n - 1)) * (W - padL - padR) : (W - padL - padR) / 2);
    const Y = (y) => padT + (1 - (y - lo) / (hi - lo)) * (H - padT - padB);
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, "data-points": n });
    g.appendChild(svg("line", { class: "axis", x1: padL, y1: padT, x2: padL, y2: H - padB }));
    g.appendChild(svg("line", { class: "axis", x1: padL, y1: H - padB, x2: W - padR, y2: H - padB }));
    // Segments split at non-finite values.
    let seg = [];
    const segs = [];
    ys.forEach((y, i) => {
      if (Number.isFinite(y)) seg.push(X(i).toFixed(1) + "," + Y(y).toFixed(1));
      else if (seg.length) { segs.push(seg); seg = []; }
    });
    if (seg.length) segs.push(seg);
    for (const s of segs) {
      if (s.length === 1) {
        const [x, y] = s[0].split(",");
        g.appendChild(svg("circle", { cx: x, cy: y, r: 2.5, fill: "#2f6fd6" }));
        continue;
      }
      const first = s[0].split(",")[0], last = s[s.length - 1].split(",")[0];
      g.appendChild(svg("polygon", { class: "area", points: first + "," + (H - padB) + " " + s.join(" ") + " " + last + "," + (H - padB) }));
      g.appendChild(svg("polyline", { class: "line", points: s.join(" ") }));
    }
    const lbl = (x, y, t, anchor) => {
      const e = svg("text", { class: "lbl", x, y, "text-anchor": anchor || "end" });
      e.textContent = t;
      g.appendChild(e);
    };
    lbl(padL - 4, padT + 8, fmt(hi));
    lbl(padL - 4, H - padB, fmt(lo));
    if (!opts.spark) {
      lbl(padL, H - 4, "0", "start");
      lbl(W - padR, H - 4, String(n - 1), "end");
    }
    wrap.appendChild(g);
    if (opts.spark) {
      wrap.appendChild(el("div", "stats", "last " + n + " updates (this page)"));
      return wrap;
    }
    const st = el("div", "stats");
    const add = (k, v) => { const s = el("span", null, k + " "); s.appendChild(el("b", null, v)); st.appendChild(s); };
    add("n", n);
    add("min", finite.length ? fmt(Math.min(...finite)) : "—");
    add("max", finite.length ? fmt(Math.max(...finite)) : "—");
    add("last", fmt(ys[n - 1]));
    if (finite.length < n) add("non-finite", n - finite.length);
    wrap.appendChild(st);
    return wrap;
  }

  // Viridis-like colour map, from five stops.
  const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function colour(t) {
    if (!Number.isFinite(t)) return [200, 200, 200];
    t = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
    const i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i;
    return STOPS[i].map((c, k) => Math.round(c + f * (STOPS[i + 1][k] - c)));
  }
  function heatmap(rows, a) {
    const wrap = el("div", "plot");
    const h = rows.length, w = h ? rows[0].length : 0;
    const c = el("canvas", "heat");
    c.width = Math.max(1, w);
    c.height = Math.max(1, h);
    c.dataset.shape = h + "x" + w;
    const all = rows.flat().filter(Number.isFinite);
    const lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
    const ctx = c.getContext("2d");
    if (ctx && w && h) {
      const img = ctx.createImageData(w, h);
      rows.forEach((row, y) => row.forEach((v, x) => {
        const [r, g, b] = colour(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        const o = 4 * (y * w + x);
        img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
      }));
      ctx.putImageData(img, 0, 0);
    }
    wrap.appendChild(c);
    const st = el("div", "stats");
    st.appendChild(el("span", null, "image " + h + " × " + w));
    st.appendChild(el("span", null, "min " + fmt(lo)));
    st.appendChild(el("span", null, "max " + fmt(hi)));
    wrap.appendChild(st);
    return wrap;
  }

  const MAX_ROWS = 200;
  function recordTable(rows, cols) {
    const wrap = el("div");
    const t = el("table", "records");
    const hr = el("tr");
    for (const c of cols) hr.appendChild(el("th", null, c));
    t.appendChild(el("thead")).appendChild(hr);
    const tb = el("tbody");
    for (const r of rows.slice(0, MAX_ROWS)) {
      const tr = el("tr");
      for (const c of cols) {
        const v = r[c];
        tr.appendChild(el("td", typeof v === "string" ? "s" : null, Array.isArray(v) ? JSON.stringify(v) : fmt(v)));
      }
      tb.appendChild(tr);
    }
    t.appendChild(tb);
    wrap.appendChild(t);
    wrap.appendChild(el("div", "more", rows.length + (rows.length === 1 ? " record" : " records") + (rows.length > MAX_ROWS ? ", first " + MAX_ROWS + " shown" : "")));
    return wrap;
  }

  function renderEncoded(v) {
    const wrap = el("div");
    const head = el("div", "enc");
    head.appendChild(el("span", "tag", v.encoding));
    head.appendChild(el("span", null, v.size + " bytes"));
    wrap.appendChild(head);
    if ("preview" in v) {
      const p = el("div", "preview");
      p.appendChild(renderValue(v.preview));
      wrap.appendChild(p);
    } else {
      if (v.preview_error) wrap.appendChild(el("div", "err-text", v.preview_error));
      const b = v.base64 || "";
      wrap.appendChild(el("div", "b64", b.length > 240 ? b.slice(0, 240) + "…" : b));
    }
    return wrap;
  }

  // ---- attribute cards -----------------------------------------------------
  function makeCard(doc) {
    const card = el("div", "card");
    card.dataset.attr = doc.name;
    const head = el("div", "card-head");
    head.appendChild(el("span", "name", doc.name));
    head.appendChild(el("span", "q"));
    card.appendChild(head);
    card.appendChild(el("div", "tags"));
    card.appendChild(el("div", "card-body"));
    const foot = el("div", "card-foot");
    foot.appendChild(el("span", "t"));
    foot.appendChild(el("span", "n"));
    card.appendChild(foot);
    return card;
  }

  function fillCard(entry) {
    const { doc, card } = entry;
    const q = card.querySelector(".q");
    q.className = "q " + doc.quality;
    q.textContent = doc.quality.replace("ATTR_", "");
    const tags = card.querySelector(".tags");
    tags.textContent = "";
    const structured = Array.isArray(doc.dtype);
    const dt = doc.tango_type || (structured ? "structured" : doc.dtype_name);
    const t0 = tags.appendChild(el("span", "tag", dt));
    if (structured) {
      t0.textContent = "structured, " + doc.dtype.filter((f) => f[0]).length + " fields";
      t0.title = doc.dtype_name;
    } else if (doc.tango_type && doc.dtype_name && doc.tango_type !== "DevEncoded") {
      tags.appendChild(el("span", "tag", doc.dtype_name));
    }
    if (doc.format) tags.appendChild(el("span", "tag", doc.format));
    if (doc.shape.length) tags.appendChild(el("span", "tag", "[" + doc.shape.map((d) => (d < 0 ? "∗" : d)).join(", ") + "]"));
    if (doc.access && doc.access !== "READ") tags.appendChild(el("span", "tag", doc.access));
    const body = card.querySelector(".card-body");
    body.textContent = "";
    plotWidth = body.clientWidth ? body.clientWidth - 24 : 600;
    body.appendChild(renderValue(doc.value, doc));
    // Numeric scalars keep a short history drawn as a sparkline.
    const x = num(doc.value);
    if (doc.format === "SCALAR" && x !== null && typeof doc.value !== "boolean") {
      entry.history = entry.history || [];
      if (entry.lastSeq !== doc.seq) entry.history.push(x);
      entry.lastSeq = doc.seq;
      if (entry.history.length > 200) entry.history.shift();
      if (entry.history.length > 1) body.appendChild(linePlot(entry.history, null, { spark: true, height: 60 }));
    }
    if (doc.value_error) body.appendChild(el("div", "err-text", doc.value_error));
    const t = card.querySelector(".t");
    t.textContent = clock(doc.time).slice(11); // the time of day; the date in the tooltip
    t.title = doc.time;
    card.querySelector(".n").textContent = "seq " + doc.seq + " · " + entry.events + (entry.events === 1 ? " update" : " updates") + (entry.coalesced ? " · " + entry.coalesced + " coalesced" : "");
  }

  function upsert(doc, fresh) {
    let entry = attrs.get(doc.name);
    if (!entry) {
      entry = { doc, card: makeCard(doc), events: 0, coalesced: 0 };
      attrs.set(doc.name, entry);
      const box = $("attributes");
      const empty = box.querySelector(".empty");
      if (empty) empty.remove();
      box.appendChild(entry.card);
      $("attr-count").textContent = "(" + attrs.size + ")";
    }
    entry.doc = doc;
    if (!fresh) entry.events++;
    entry.coalesced += doc.coalesced || 0;
    fillCard(entry);
    if (!fresh) {
      entry.card.classList.remove("flash");
      void entry.card.offsetWidth; // restart the animation
      entry.card.classList.add("flash");
    }
  }

  function remove(name) {
    const entry = attrs.get(name);
    if (!entry) return;
    entry.card.remove();
    attrs.delete(name);
    pending.delete(name);
    $("attr-count").textContent = attrs.size ? "(" + attrs.size + ")" : "";
    if (!attrs.size) $("attributes").appendChild(el("p", "empty", "no attributes"));
  }

  // Changes are drawn at most every 100 ms: a fast attribute costs one
  // redraw per frame, not one per event.
  function schedule(doc) {
    const prev = pending.get(doc.name);
    if (prev) doc.coalesced = (doc.coalesced || 0) + (prev.coalesced || 0) + 1;
    pending.set(doc.name, doc);
    if (!drawTimer) drawTimer = setTimeout(drawPending, 100);
  }
  function drawPending() {
    drawTimer = null;
    for (const doc of pending.values()) upsert(doc, false);
    pending.clear();
  }

  // ---- the stream ----------------------------------------------------------
  function connected(on) {
    $("conn").className = "dot " + (on ? "on" : "off");
    $("conn-text").textContent = on ? "live" : "reconnecting…";
  }

  const es = new EventSource("api/events");
  es.addEventListener("snapshot", (e) => {
    const s = JSON.parse(e.data);
    connected(true);
    if (s.title) $("title").textContent = s.title;
    setState(s.state);
    // A reconnect starts over from a full snapshot.
    for (const name of [...attrs.keys()]) if (!s.attributes.some((a) => a.name === name)) remove(name);
    for (const a of s.attributes) upsert(a, true);
    setExchanges(s.exchanges);
    document.body.dataset.ready = "1";
  });
  es.addEventListener("state", (e) => setState(JSON.parse(e.data)));
  es.addEventListener("attribute", (e) => schedule(JSON.parse(e.data)));
  es.addEventListener("removed", (e) => remove(JSON.parse(e.data).name));
  es.addEventListener("exchanges", (e) => setExchanges(JSON.parse(e.data)));
  // A stream the server recycles reconnects within its retry delay (2 s):
  // only a longer gap shows as "reconnecting".
  let lost = null;
  es.onerror = () => { if (!lost) lost = setTimeout(() => connected(false), 5000); };
  es.onopen = () => { clearTimeout(lost); lost = null; connected(true); };
  // Keep the relative times fresh between updates.
  setInterval(() => setExchanges(lastExchanges), 2000);
})();
