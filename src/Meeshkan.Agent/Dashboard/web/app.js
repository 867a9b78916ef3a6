"use strict";
// The Meeshkan dashboard: jobs page, job page and compare view, in one page with hash routes. Every text from the
// agent (names, commands, logs, messages) is put in the page with textContent, never as HTML.
(function () {
  const app = document.getElementById("app");
  const live = document.getElementById("live");
  const STATES = ["QUEUED", "RUNNING", "FINISHED", "FAILED", "CANCELED"];
  let csrf = null;
  let source = null;
  let cleanup = [];

  // ---- helpers
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  class HttpError extends Error { constructor(status, message) { super(message); this.status = status; } }

  async function fetchJson(path, options) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin", headers: {} }, options));
    if (r.status === 401) { showLogin(); throw new HttpError(401, "not logged in"); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new HttpError(r.status, body.error || r.statusText);
    return body;
  }

  // The session's CSRF token, asked for alongside the page's own data rather than before it.
  let session = null;
  function ensureSession() {
    if (!session) session = fetchJson("/api/session").then(s => { csrf = s.csrf; return s; }, e => { session = null; throw e; });
    return session;
  }

  async function post(path) {
    await ensureSession();
    return fetchJson(path, { method: "POST", headers: { "X-CSRF-Token": csrf } });
  }

  const pad = n => String(n).padStart(2, "0");
  function time(ms) {
    if (!ms) return "";
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function duration(job) {
    if (!job.startedAt) return "";
    const s = Math.max(0, Math.floor(((job.finishedAt || Date.now()) - job.startedAt) / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? `${h}h${pad(m)}m${pad(sec)}s` : m ? `${m}m${pad(sec)}s` : `${sec}s`;
  }
  const fmt = v => (v == null ? "—" : Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : +v.toPrecision(6));
  const progress = job => job.progress ? `${job.progress.name} ${fmt(job.progress.value)} @ step ${job.progress.step}` : "";
  const notified = job => job.lastNotification ? `${job.lastNotification.status.toLowerCase()} · ${job.lastNotification.event}` : "";
  const stateBadge = state => el("span", { class: `state ${state}`, text: state });

  function setLive(on) { live.textContent = on ? "live" : "reconnecting…"; live.classList.toggle("on", on); }

  function listen(query, handlers) {
    if (source) source.close();
    source = new EventSource(`/api/events${query}`);
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    for (const [name, fn] of Object.entries(handlers)) source.addEventListener(name, e => fn(JSON.parse(e.data)));
  }

  function showLogin() {
    if (source) { source.close(); source = null; }
    live.textContent = "";
    app.replaceChildren(el("div", { class: "notice card", id: "login-needed" },
      el("h1", { text: "Log in to this agent" }),
      el("p", {}, "Run ", el("code", { text: "meeshkan dashboard" }), " on the agent's machine and open the link it prints."),
      el("p", { class: "muted", text: "Each link works once, for five minutes; it keeps this browser logged in." })));
  }

  function showError(e) {
    if (e.status === 401) return;
    app.replaceChildren(el("div", { class: "notice card" }, el("h1", { text: "Cannot show this page" }), el("p", { class: "error", text: e.message })));
  }

  function confirmDialog(text) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = text;
    return new Promise(resolve => {
      const yes = document.getElementById("confirm-yes"), no = document.getElementById("confirm-no");
      const done = answer => { yes.onclick = no.onclick = null; dialog.close(); resolve(answer); };
      yes.onclick = () => done(true);
      no.onclick = () => done(false);
      dialog.oncancel = () => done(false);
      dialog.showModal();
    });
  }

  // ---- jobs page
  // Only the rows in view (and a few around them) are in the page: fixed-height rows in a scrolled box, with spacer
  // rows above and below, so 10,000 jobs cost what 40 do. Sorting and filtering work on the whole list.
  const ROW_HEIGHT = 33, OVERSCAN = 10;
  const SORTS = {
    number: (a, b) => a.number - b.number,
    name: (a, b) => a.name.localeCompare(b.name) || a.number - b.number,
    state: (a, b) => a.state.localeCompare(b.state) || a.number - b.number,
    started: (a, b) => (a.startedAt || 0) - (b.startedAt || 0) || a.number - b.number,
    duration: (a, b) => durationMs(a) - durationMs(b) || a.number - b.number,
  };
  function durationMs(job) { return job.startedAt ? (job.finishedAt || Date.now()) - job.startedAt : -1; }

  async function jobsPage(params) {
    const selected = new Set();
    const filter = { name: params.get("name") || "", state: params.get("state") || "" };
    const sort = { key: SORTS[params.get("sort")] ? params.get("sort") : "number", desc: params.get("order") !== "asc" };
    let jobs = new Map();
    let list = [];
    let anyGpus = false;
    let rowHeight = ROW_HEIGHT;
    let stale = false, frame = 0;

    const search = el("input", { type: "search", placeholder: "Filter by name", id: "filter-name", value: filter.name });
    const stateSelect = el("select", { id: "filter-state" }, el("option", { value: "", text: "All states" }),
      STATES.map(s => el("option", { value: s, text: s.toLowerCase() })));
    stateSelect.value = filter.state;
    const count = el("span", { class: "count", id: "job-count" });
    const compare = el("button", { type: "button", id: "compare-selected", disabled: true, text: "Compare selected",
      onclick: () => { location.hash = `#/compare?jobs=${[...selected].join(",")}`; } });
    const tbody = el("tbody", { id: "jobs-body" });
    const head = el("thead");
    const table = el("table", { id: "jobs" }, head, tbody);
    const scroller = el("div", { class: "tablewrap", id: "jobs-scroll" }, table);
    app.replaceChildren(el("div", { class: "toolbar" }, search, stateSelect, compare, count), scroller);

    const matches = job => (!filter.state || job.state === filter.state) &&
      (!filter.name || job.name.toLowerCase().includes(filter.name.toLowerCase()));

    function sortable(key, label, cls) {
      const on = sort.key === key;
      return el("th", { class: `sortable${cls ? " " + cls : ""}`, dataset: { sort: key }, "aria-sort": on ? (sort.desc ? "descending" : "ascending") : "none",
        title: "Sort", onclick: () => {
          if (sort.key === key) sort.desc = !sort.desc; else { sort.key = key; sort.desc = key === "number" || key === "started"; }
          remember(); header(); refresh(); scroller.scrollTop = 0;
        } }, label, on ? el("span", { class: "arrow", text: sort.desc ? " ▼" : " ▲" }) : null);
    }

    function header() {
      head.replaceChildren(el("tr", {}, el("th", { class: "pick" }), sortable("number", "#", "num c-number"), sortable("name", "Name", "c-name"),
        sortable("state", "State", "c-state"), anyGpus ? el("th", { class: "c-gpus", text: "GPUs" }) : null, el("th", { class: "c-progress", text: "Progress" }),
        sortable("started", "Started", "c-started"), sortable("duration", "Duration", "num c-duration"),
        el("th", { class: "c-notified", text: "Last notification" }), el("th", { class: "c-cmd", text: "Command" })));
    }

    function row(job) {
      const box = el("input", { type: "checkbox", title: "Select to compare", checked: selected.has(job.number),
        onchange: e => { e.target.checked ? selected.add(job.number) : selected.delete(job.number); compare.disabled = selected.size < 1; } });
      const command = job.command.join(" ");
      return el("tr", { dataset: { number: job.number, state: job.state } }, el("td", { class: "pick" }, box), el("td", { class: "num", text: job.number }),
        el("td", {}, el("a", { href: `#/job/${job.number}`, class: "job-name", title: job.name, text: job.name })),
        el("td", {}, stateBadge(job.state)), anyGpus ? el("td", { text: (job.gpus || []).join(", ") }) : null,
        el("td", { class: "progress", text: progress(job) }), el("td", { class: "started", text: time(job.startedAt) }),
        el("td", { class: "num duration", text: duration(job) }), el("td", { text: notified(job) }),
        el("td", { class: "cmd", title: command, text: command }));
    }

    function spacer(height) {
      const td = el("td", { colspan: 10 });
      const tr = el("tr", { class: "spacer" }, td);
      tr.style.height = `${height}px`;
      return tr;
    }

    // The filtered, sorted list: again when jobs, the filter or the order change; the rows in view every scroll.
    function refresh() {
      const order = SORTS[sort.key];
      list = [...jobs.values()].filter(matches).sort(sort.desc ? (a, b) => order(b, a) : order);
      stale = false;
      count.textContent = `${list.length} of ${jobs.size} jobs`;
      draw();
    }

    function draw() {
      if (!list.length) {
        tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "empty", text: jobs.size ? "No job matches." : "No jobs yet: `meeshkan submit train.py`" })));
        return;
      }
      // The box grows with its rows up to the window's height: never fewer rows than fill that.
      const view = Math.max(scroller.clientHeight, window.innerHeight);
      const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - OVERSCAN);
      const last = Math.min(list.length, Math.ceil((scroller.scrollTop + view) / rowHeight) + OVERSCAN);
      const fragment = document.createDocumentFragment();
      if (first > 0) fragment.appendChild(spacer(first * rowHeight));
      for (let i = first; i < last; i++) fragment.appendChild(row(list[i]));
      if (last < list.length) fragment.appendChild(spacer((list.length - last) * rowHeight));
      tbody.replaceChildren(fragment);
      tbody.dataset.first = String(first);
      tbody.dataset.rows = String(last - first);
      const drawn = tbody.querySelector("tr[data-number]");
      if (drawn && drawn.offsetHeight && Math.abs(drawn.offsetHeight - rowHeight) > 0.5) { rowHeight = drawn.offsetHeight; draw(); }
    }

    function later(again) {
      if (again) stale = true;
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; stale ? refresh() : draw(); });
    }

    function upsert(job) {
      jobs.set(job.number, job);
      if (job.gpus && job.gpus.length && !anyGpus) { anyGpus = true; header(); }
      later(true);
    }

    async function loadAll() {
      const body = await fetchJson("/api/jobs");
      jobs = new Map(body.jobs.map(j => [j.number, j]));
      anyGpus = body.jobs.some(j => j.gpus && j.gpus.length);
      header();
      refresh();
      app.dataset.renderedAt = String(performance.now());
    }

    function remember() {
      const p = new URLSearchParams(); if (filter.name) p.set("name", filter.name); if (filter.state) p.set("state", filter.state);
      if (sort.key !== "number" || !sort.desc) { p.set("sort", sort.key); p.set("order", sort.desc ? "desc" : "asc"); }
      history.replaceState(null, "", `#/${p.toString() ? "?" + p : ""}`);
    }
    const applyFilter = () => {
      filter.name = search.value; filter.state = stateSelect.value;
      remember(); refresh();
    };
    search.addEventListener("input", applyFilter);
    stateSelect.addEventListener("change", applyFilter);
    scroller.addEventListener("scroll", () => later(false), { passive: true });

    listen("", { job: upsert, reload: loadAll });
    await loadAll();
    const tick = setInterval(() => {
      for (const tr of tbody.querySelectorAll("tr[data-state='RUNNING']")) tr.querySelector(".duration").textContent = duration(jobs.get(Number(tr.dataset.number)));
    }, 1000);
    cleanup.push(() => { clearInterval(tick); if (frame) cancelAnimationFrame(frame); });
  }

  // ---- job page
  async function jobPage(number) {
    let detail = await fetchJson(`/api/jobs/${number}`);
    const charts = new Map();
    const settings = { axis: "step", log: false, smoothing: 0.6 };

    const title = el("h1", { id: "job-title", text: detail.job.name });
    const badge = el("span", { id: "job-state" });
    const cancel = el("button", { type: "button", class: "danger", id: "cancel", text: "Cancel job", onclick: async () => {
      if (!await confirmDialog(`Cancel job ${number} (${detail.job.name})? A running job gets SIGTERM, then SIGKILL.`)) return;
      cancel.disabled = true;
      try { update(await post(`/api/jobs/${number}/cancel`)); } catch (e) { errorLine.textContent = e.message; cancel.disabled = false; }
    } });
    const retry = el("button", { type: "button", id: "retry", text: "Retry", title: "Queue this job again: same command, folder and environment", onclick: async () => {
      retry.disabled = true;
      try { const again = await post(`/api/jobs/${number}/retry`); location.hash = `#/job/${again.number}`; } catch (e) { errorLine.textContent = e.message; retry.disabled = false; }
    } });
    const errorLine = el("div", { class: "error", id: "job-error" });
    const facts = el("dl", { class: "facts", id: "facts" });
    const chartGrid = el("div", { class: "charts", id: "charts" });
    const noCharts = el("div", { class: "empty", text: "No scalars reported yet." });
    const conditions = el("div", { id: "conditions" });
    const notifications = el("div", { id: "notifications" });

    const axis = el("select", { id: "x-axis" }, el("option", { value: "step", text: "x: step" }), el("option", { value: "time", text: "x: time" }));
    const logScale = el("input", { type: "checkbox", id: "log-scale" });
    const smoothing = el("input", { type: "range", id: "smoothing", min: 0, max: 0.99, step: 0.01, value: settings.smoothing });
    const smoothingValue = el("span", { class: "muted", text: settings.smoothing.toFixed(2) });
    const toolbar = el("div", { class: "toolbar" }, axis, el("label", { class: "check" }, logScale, "log scale"),
      el("label", { class: "check" }, "smoothing", smoothing, smoothingValue), el("span", { class: "muted", text: "drag to zoom · double-click to reset" }));
    axis.onchange = () => { settings.axis = axis.value; charts.forEach(c => c.set({ axis: settings.axis })); };
    logScale.onchange = () => { settings.log = logScale.checked; charts.forEach(c => c.set({ log: settings.log })); };
    smoothing.oninput = () => { settings.smoothing = +smoothing.value; smoothingValue.textContent = settings.smoothing.toFixed(2); charts.forEach(c => c.set({ smoothing: settings.smoothing })); };

    const logs = { stdout: logPane("stdout"), stderr: logPane("stderr") };

    app.replaceChildren(
      el("div", { class: "head" }, el("div", {}, title, el("div", { class: "muted" }, badge, " ", el("span", { text: `job ${number}` }))),
        el("div", { class: "actions" }, retry, cancel)),
      errorLine,
      el("div", { class: "card" }, facts),
      el("h2", { text: "Charts" }), toolbar, chartGrid, noCharts,
      el("div", { class: "grid2" }, el("div", {}, el("h2", { text: "stdout" }), logs.stdout.root), el("div", {}, el("h2", { text: "stderr" }), logs.stderr.root)),
      el("div", { class: "grid2" }, el("div", {}, el("h2", { text: "Conditions met" }), conditions), el("div", {}, el("h2", { text: "Notifications" }), notifications)));

    function factsOf(d) {
      const j = d.job;
      const items = [["State", stateBadge(j.state)], ["Number", j.number], ["ID", j.id], ["Submitted", time(j.createdAt)],
        ["Started", time(j.startedAt) || "—"], ["Ended", time(j.finishedAt) || "—"], ["Duration", duration(j) || "—"],
        ["Exit code", j.exitCode == null ? "—" : j.exitCode], ["Failure", j.failureReason || null], ["GPUs", j.gpus && j.gpus.length ? j.gpus.join(", ") : null],
        ["Progress", progress(j) || "—"], ["Last notification", notified(j) || "—"], ["Report interval", `${d.reportIntervalSeconds} s`],
        ["Working folder", d.workingDirectory], ["Output folder", d.outputDirectory], ["Command", j.command.join(" ")]];
      facts.replaceChildren(...items.filter(([, v]) => v != null).flatMap(([k, v]) =>
        [el("dt", { text: k }), el("dd", { class: k === "Command" || k.endsWith("folder") ? "mono" : null, id: k === "Command" ? "command" : null }, v)]));
    }

    function update(job) {
      detail.job = job;
      title.textContent = job.name;
      badge.replaceChildren(stateBadge(job.state));
      cancel.hidden = !(job.state === "QUEUED" || job.state === "RUNNING") || job.external;
      cancel.disabled = false;
      retry.hidden = !["FINISHED", "FAILED", "CANCELED"].includes(job.state) || job.external;
      retry.disabled = false;
      factsOf(detail);
    }

    function lists(d) {
      conditions.replaceChildren(d.conditions.length
        ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Time" }), el("th", { text: "Condition" }), el("th", { text: "Values" }))),
          el("tbody", {}, d.conditions.map(c => el("tr", {}, el("td", { class: "time", text: time(c.time) }), el("td", { text: c.description }),
            el("td", { class: "mono", text: Object.entries(c.values).map(([k, v]) => `${k}=${fmt(v)}`).join(", ") })))))
        : el("div", { class: "empty", text: "None met." }));
      notifications.replaceChildren(d.notifications.length
        ? el("table", {}, el("thead", {}, el("tr", {}, ["Time", "Event", "Channel", "Status", "Detail"].map(h => el("th", { text: h })))),
          el("tbody", {}, d.notifications.slice().reverse().map(n => el("tr", {}, el("td", { class: "time", text: time(n.time) }), el("td", { text: n.event }),
            el("td", { text: n.channel }), el("td", { text: n.status.toLowerCase() }), el("td", { text: n.reason || n.summary || "" })))))
        : el("div", { class: "empty", text: "No notifications yet." }));
    }

    function ensureCharts(scalars) {
      for (const s of scalars) {
        if (charts.has(s.name)) continue;
        const meta = el("span", { class: "meta" });
        const box = el("div", { class: "chart", dataset: { scalar: s.name } }, meta, el("div", { class: "title", text: s.name }));
        chartGrid.appendChild(box);
        const chart = new ScalarChart({ el: box, name: s.name, jobs: [{ number, label: s.name }], axis: settings.axis, log: settings.log,
          smoothing: settings.smoothing, fetchJson });
        chart.onMeta = m => { meta.textContent = `${m.points.toLocaleString()} points${m.zoomed ? " in view" : ""} · ${m.drawn.toLocaleString()} drawn`; };
        charts.set(s.name, chart);
        chart.load(null);
      }
      noCharts.hidden = charts.size > 0;
    }

    function logPane(stream) {
      const pre = el("pre", { class: `log ${stream}`, id: `log-${stream}` });
      const info = el("span", { class: "muted" });
      const more = el("button", { type: "button", id: `more-${stream}`, text: "Load earlier", hidden: true });
      const pane = { root: el("div", {}, el("div", { class: "logbar" }, more, info), pre), start: 0, end: 0, size: 0 };
      pane.show = () => {
        more.hidden = pane.start <= 0;
        info.textContent = pane.size ? `${(pane.size / 1024).toFixed(1)} KB${pane.start > 0 ? `, showing the last ${((pane.end - pane.start) / 1024).toFixed(1)} KB` : ""}` : "empty";
      };
      pane.tail = async () => {
        const s = await fetchJson(`/api/jobs/${number}/log?stream=${stream}`);
        pre.textContent = s.text; pane.start = s.start; pane.end = s.end; pane.size = s.size;
        pane.show(); pre.scrollTop = pre.scrollHeight;
      };
      pane.append = s => {
        if (s.start !== pane.end) { pre.textContent = ""; pane.start = s.start; }
        const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
        pre.append(document.createTextNode(s.text));
        pane.end = s.end; pane.size = Math.max(s.size, s.end);
        pane.show();
        if (follow) pre.scrollTop = pre.scrollHeight;
      };
      more.onclick = async () => {
        const s = await fetchJson(`/api/jobs/${number}/log?stream=${stream}&end=${pane.start}`);
        const keep = pre.scrollHeight - pre.scrollTop;
        pre.prepend(document.createTextNode(s.text)); pane.start = s.start;
        pane.show(); pre.scrollTop = pre.scrollHeight - keep;
      };
      return pane;
    }

    update(detail.job);
    lists(detail);
    ensureCharts(detail.scalars);
    await Promise.all([logs.stdout.tail(), logs.stderr.tail()]);
    let refetching = null;
    listen(`?job=${number}&stdout=${logs.stdout.end}&stderr=${logs.stderr.end}`, {
      job: j => { if (j.number === number) update(j); },
      detail: () => {
        refetching = refetching || fetchJson(`/api/jobs/${number}`).then(d => { detail = d; update(d.job); lists(d); ensureCharts(d.scalars); })
          .finally(() => { refetching = null; });
      },
      scalars: p => {
        const chart = charts.get(p.name);
        if (!chart) { ensureCharts([{ name: p.name }]); return; }
        chart.append(number, settings.axis === "time" ? p.times : p.steps, p.values);
      },
      log: s => logs[s.stream].append(s),
    });
    cleanup.push(() => charts.forEach(c => c.destroy()));
  }

  // ---- compare view: one scalar, several jobs, one chart
  async function comparePage(params) {
    const numbers = (params.get("jobs") || "").split(",").map(Number).filter(n => n > 0);
    const all = (await fetchJson("/api/jobs")).jobs.sort((a, b) => b.number - a.number);
    const picked = new Set(numbers.length ? numbers : all.slice(0, 3).map(j => j.number));
    const details = new Map();
    await Promise.all([...picked].map(async n => { try { details.set(n, await fetchJson(`/api/jobs/${n}`)); } catch { picked.delete(n); } }));
    const names = [...new Set([...details.values()].flatMap(d => d.scalars.map(s => s.name)))].sort();
    const scalar = params.get("scalar") && names.includes(params.get("scalar")) ? params.get("scalar") : names[0];

    const nameSelect = el("select", { id: "compare-scalar" }, names.map(n => el("option", { value: n, text: n })));
    if (scalar) nameSelect.value = scalar;
    const axis = el("select", { id: "compare-axis" }, el("option", { value: "step", text: "x: step" }), el("option", { value: "time", text: "x: time" }));
    const logScale = el("input", { type: "checkbox", id: "compare-log" });
    const smoothing = el("input", { type: "range", id: "compare-smoothing", min: 0, max: 0.99, step: 0.01, value: 0.6 });
    const jobBoxes = el("div", { class: "toolbar", id: "compare-jobs" }, all.slice(0, 50).map(j => el("label", { class: "check" },
      el("input", { type: "checkbox", value: j.number, checked: picked.has(j.number), onchange: e => {
        e.target.checked ? picked.add(j.number) : picked.delete(j.number); go(); } }), `${j.number} ${j.name}`)));
    const box = el("div", { class: "chart", id: "compare-chart" }, el("div", { class: "title", text: scalar || "" }));
    app.replaceChildren(el("h1", { text: "Compare runs" }), el("div", { class: "toolbar" }, nameSelect, axis,
      el("label", { class: "check" }, logScale, "log scale"), el("label", { class: "check" }, "smoothing", smoothing)), jobBoxes,
      scalar ? box : el("div", { class: "empty", text: "Pick jobs that report scalars." }));

    function go() {
      location.hash = `#/compare?jobs=${[...picked].join(",")}${nameSelect.value ? `&scalar=${encodeURIComponent(nameSelect.value)}` : ""}`;
    }
    nameSelect.onchange = go;
    if (!scalar) return;
    const jobs = [...picked].filter(n => details.get(n)?.scalars.some(s => s.name === scalar))
      .map(n => ({ number: n, label: `${n} ${details.get(n).job.name}` }));
    const chart = new ScalarChart({ el: box, name: scalar, jobs, axis: "step", log: false, smoothing: 0.6, fetchJson });
    axis.onchange = () => chart.set({ axis: axis.value });
    logScale.onchange = () => chart.set({ log: logScale.checked });
    smoothing.oninput = () => chart.set({ smoothing: +smoothing.value });
    await chart.load(null);
    cleanup.push(() => chart.destroy());
  }

  // ---- routing
  async function route() {
    cleanup.forEach(f => f()); cleanup = [];
    const hash = location.hash.replace(/^#/, "") || "/";
    const [path, query] = hash.split("?");
    const params = new URLSearchParams(query || "");
    document.getElementById("nav-jobs").classList.toggle("on", path === "/");
    document.getElementById("nav-compare").classList.toggle("on", path.startsWith("/compare"));
    try {
      ensureSession().catch(() => {});
      const job = path.match(/^\/job\/(\d+)$/);
      if (job) await jobPage(Number(job[1]));
      else if (path.startsWith("/compare")) { if (source) { source.close(); source = null; } live.textContent = ""; await comparePage(params); }
      else await jobsPage(params);
      app.dataset.page = job ? "job" : path.startsWith("/compare") ? "compare" : "jobs";
    } catch (e) { showError(e); }
  }

  window.addEventListener("hashchange", route);
  route();
})();
