"use strict";
// One chart of one scalar for one or more jobs (uPlot). The agent sends at most two points per pixel column
// (the lowest and highest of each); zooming asks it again for the zoomed range, so detail appears without ever
// loading every point. Smoothing is a debiased exponential moving average drawn over the faint raw line.
(function () {
  const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];

  function smooth(ys, weight) {
    if (!(weight > 0)) return ys;
    const out = new Array(ys.length);
    let last = 0, n = 0;
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (y == null || !isFinite(y)) { out[i] = null; continue; }
      last = last * weight + (1 - weight) * y;
      n++;
      out[i] = last / (1 - Math.pow(weight, n));
    }
    return out;
  }

  function fade(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }

  class ScalarChart {
    // opts: { el, name, jobs: [{number, label}], axis: "step"|"time", log: bool, smoothing: 0..0.99, fetchJson }
    constructor(opts) {
      Object.assign(this, opts);
      this.raw = new Map();           // job number -> {x: [], y: []}
      this.zoom = null;               // [from, to] when zoomed in
      this.fetches = 0;
      this.lastRefetch = 0;
      this.plotEl = document.createElement("div");
      this.plotEl.className = "plot";
      this.el.appendChild(this.plotEl);
      this.el.dataset.fetches = "0";
      this.resizeObserver = new ResizeObserver(() => this.resize());
      this.resizeObserver.observe(this.plotEl);
    }

    width() { return Math.max(200, Math.floor(this.plotEl.clientWidth || 600)); }

    async load(range) {
      const w = this.width();
      const params = (job) => {
        const p = new URLSearchParams({ name: this.name, x: this.axis, width: String(w) });
        if (range) { p.set("from", String(range[0])); p.set("to", String(range[1])); }
        return `/api/jobs/${job.number}/chart?${p}`;
      };
      const results = await Promise.all(this.jobs.map(j => this.fetchJson(params(j)).catch(() => null)));
      this.fetches++;
      this.el.dataset.fetches = String(this.fetches);
      let points = 0, decoded = 0;
      results.forEach((r, i) => {
        if (!r) return;
        this.raw.set(this.jobs[i].number, { x: r.x, y: r.y });
        points += r.points; decoded += r.decoded;
      });
      this.zoom = range || null;
      this.el.dataset.zoomed = range ? "1" : "0";
      this.el.dataset.points = String(points);
      this.lastRefetch = performance.now();
      this.draw(!range);
      if (this.onMeta) this.onMeta({ points, drawn: this.drawnCount(), zoomed: !!range });
    }

    drawnCount() { let n = 0; for (const r of this.raw.values()) n += r.x.length; return n; }

    tables() {
      const tables = [];
      for (const job of this.jobs) {
        const r = this.raw.get(job.number) || { x: [], y: [] };
        const ys = this.log ? r.y.map(v => (v > 0 ? v : null)) : r.y;
        const t = [r.x, ys];
        if (this.smoothing > 0) t.push(smooth(ys, this.smoothing));
        tables.push(t);
      }
      return tables;
    }

    data() {
      const tables = this.tables();
      if (tables.length === 1) return tables[0];
      return uPlot.join(tables);
    }

    series() {
      const s = [{ label: this.axis === "time" ? "time" : "step" }];
      this.jobs.forEach((job, i) => {
        const color = COLORS[i % COLORS.length];
        const smoothed = this.smoothing > 0;
        s.push({ label: smoothed ? `${job.label} (raw)` : job.label, stroke: smoothed ? fade(color, 0.28) : color, width: 1, spanGaps: true,
          points: { show: false } });
        if (smoothed) s.push({ label: job.label, stroke: color, width: 1.6, spanGaps: true, points: { show: false } });
      });
      return s;
    }

    draw(resetScales) {
      const data = this.data();
      this.el.dataset.drawn = String(this.drawnCount());
      if (this.plot && this.plot.series.length === this.series().length) {
        this.settingData = true;
        this.plot.setData(data, resetScales);
        this.settingData = false;
        this.el.dataset.drawnAt = String(performance.now());
        return;
      }
      if (this.plot) this.plot.destroy();
      const self = this;
      const opts = {
        width: this.width(), height: 240,
        scales: { x: { time: this.axis === "time" }, y: this.log ? { distr: 3 } : {} },
        series: this.series(),
        axes: [{ stroke: "#687384", grid: { stroke: "#eef0f3" } }, { stroke: "#687384", grid: { stroke: "#eef0f3" }, size: 60 }],
        cursor: { drag: { x: true, y: false, setScale: true } },
        legend: { live: true },
        hooks: {
          setScale: [(u, key) => { if (key === "x" && !self.settingData) self.zoomed(u); }],
          ready: [() => { self.el.dataset.drawnAt = String(performance.now()); }],
        },
      };
      this.plot = new uPlot(opts, data, this.plotEl);
      this.el.dataset.drawnAt = String(performance.now());
    }

    // The user zoomed (drag) or reset (double-click): ask the agent for that range at full detail.
    zoomed(u) {
      const min = u.scales.x.min, max = u.scales.x.max;
      if (min == null || max == null) return;
      clearTimeout(this.zoomTimer);
      this.zoomTimer = setTimeout(() => {
        const full = this.fullRange();
        const whole = full && min <= full[0] && max >= full[1];
        if (whole && !this.zoom) return;
        this.load(whole ? null : [min, max]).then(() => {
          if (!whole) { this.settingData = true; u.setScale("x", { min, max }); this.settingData = false; }
        });
      }, 120);
    }

    fullRange() {
      let lo = Infinity, hi = -Infinity;
      for (const r of this.raw.values()) if (r.x.length) { lo = Math.min(lo, r.x[0]); hi = Math.max(hi, r.x[r.x.length - 1]); }
      return isFinite(lo) ? [lo, hi] : null;
    }

    // Points reported since: appended while the whole range is shown; read again from the agent when too many.
    append(job, xs, ys) {
      if (this.zoom) return;
      const r = this.raw.get(job) || { x: [], y: [] };
      for (let i = 0; i < xs.length; i++) {
        if (r.x.length && xs[i] < r.x[r.x.length - 1]) continue;
        r.x.push(xs[i]); r.y.push(ys[i]);
      }
      this.raw.set(job, r);
      if (r.x.length > 4 * this.width() && performance.now() - this.lastRefetch > 1000) {
        this.load(null);
        return;
      }
      this.draw(true);
    }

    set(options) {
      const reload = options.axis && options.axis !== this.axis;
      Object.assign(this, options);
      if (this.plot) { this.plot.destroy(); this.plot = null; }
      if (reload) this.load(null); else this.draw(true);
    }

    resize() {
      if (this.plot) this.plot.setSize({ width: this.width(), height: 240 });
    }

    destroy() {
      this.resizeObserver.disconnect();
      if (this.plot) this.plot.destroy();
    }
  }

  window.ScalarChart = ScalarChart;
})();
