// The status page as one self-contained HTML document: inline CSS, a few lines of inline script for
// the filter box, nothing fetched from anywhere. Pure: a StatusReport in, a string out.
//
// Every piece of text from the API, the rule files or Redis goes through esc(). The page also
// carries a Content-Security-Policy that allows only its own script (by hash) and no images, so
// even markup that slipped through could neither run nor load anything.
import { createHash } from 'node:crypto';
import { formatDuration } from '../duration';
import type { Where } from '../model';
import { htmlEscape as esc } from '../notify';
import type { StatusAlert, StatusNotice, StatusReport } from './status';

// Static text: its hash goes into the CSP, so nothing may be interpolated into it.
const FILTER_SCRIPT = `(() => {
  const box = document.getElementById('filter');
  const rows = Array.from(document.querySelectorAll('#alerts tbody tr'));
  const shown = document.getElementById('shown');
  const none = document.getElementById('no-match');
  if (!box || !shown) return;
  const apply = () => {
    const words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let n = 0;
    for (const row of rows) {
      const hit = words.every((w) => (row.dataset.search || '').includes(w));
      row.hidden = !hit;
      if (hit) n++;
    }
    shown.textContent = String(n);
    if (none) none.hidden = n > 0 || rows.length === 0;
  };
  box.addEventListener('input', apply);
  apply();
})();`;

const SCRIPT_HASH = createHash('sha256').update(FILTER_SCRIPT).digest('base64');
const CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${SCRIPT_HASH}'`,
  "img-src 'none'",
  "form-action 'self'",
  "base-uri 'none'",
].join('; ');

const STYLE = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --bg-alt: rgba(127,127,127,.08);
  --crit: #b91c1c; --warn: #b45309; --info: #1d4ed8; --ok: #15803d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; } h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
a { color: inherit; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .3rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.neg { color: var(--crit); font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .85em; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.critical, .failed { color: var(--crit); } .warning, .retrying { color: var(--warn); } .info, .queued, .sending { color: var(--info); }
.ok, .delivered { color: var(--ok); }
.box { border: 1px solid var(--line); border-left-width: 4px; padding: .6rem .8rem; margin: 1rem 0; border-radius: 4px; }
.box.bad { border-left-color: var(--crit); } .box.good { border-left-color: var(--ok); } .box.warn { border-left-color: var(--warn); }
.box p { margin: .2rem 0; }
pre { margin: .4rem 0 0; white-space: pre-wrap; word-break: break-word; }
input[type=search] { font: inherit; padding: .35rem .5rem; width: min(36rem, 100%); border: 1px solid var(--line); border-radius: 4px; background: transparent; color: inherit; }
.toolbar { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: .4rem 0; }
.note { margin: .5rem 0; color: var(--warn); }
.sku { white-space: nowrap; }
`;

/** The text the filter matches, the same on the server (`?q=`) and in the browser (the filter box). */
export function searchText(a: StatusAlert): string {
  return [a.severity, a.rule, a.type, a.sku ?? '', a.productId, a.product ?? '', a.warehouse ?? '', a.warehouseId, a.summary ?? '', a.silenced ? 'silenced' : '', a.inhibited ? 'inhibited' : '', a.status === 'pending' ? 'pending' : '']
    .join(' ')
    .toLowerCase();
}

/** `2026-11-27 13:00:28Z`: ISO without the T and the milliseconds. */
function shortTime(isoText: string): string {
  return isoText.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function time(isoText: string | null, nowIso: string): string {
  if (isoText === null) return '<span class="muted">never</span>';
  const ago = Date.parse(nowIso) - Date.parse(isoText);
  const rel = ago >= 0 ? `${formatDuration(ago)} ago` : `in ${formatDuration(-ago)}`;
  return `<time datetime="${esc(isoText)}" title="${esc(isoText)}">${esc(shortTime(isoText))}</time> <span class="muted">(${esc(rel)})</span>`;
}

function whereText(where: Where | null): string {
  if (where === null) return '<span class="muted">every item</span>';
  return Object.entries(where)
    .map(([key, globs]: [string, string[]]) => `${esc(key)}: <code>${globs.map(esc).join('</code> | <code>')}</code>`)
    .join('; ');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function header(r: StatusReport): string {
  const firing = r.firing === null ? '' : ` — ${r.firing.total} firing`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<title>stockwatch${esc(firing)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>stockwatch</h1>
<p class="muted">Status at <time datetime="${esc(r.generatedAt)}">${esc(shortTime(r.generatedAt))}</time> · <a href="/">reload</a> · <a href="/api/status">JSON</a> · <a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
</header>`;
}

function pollSection(r: StatusReport): string {
  if (r.lastPoll === null) {
    return `<section id="poll" class="box bad"><p><strong>Redis ${esc(r.redis)}</strong></p><p>Alerts, the last poll and notices live in Redis and cannot be shown until it answers. The rules in force are below.</p></section>`;
  }
  const p = r.lastPoll;
  if (p.state === 'no poll yet') {
    return `<section id="poll" class="box warn"><p><strong>No poll yet.</strong> The first one runs soon after the daemon starts, then every POLL_EVERY.</p></section>`;
  }
  const ok = p.state === 'ok';
  const lines = [
    `<p>Last poll: <span class="badge ${ok ? 'ok' : 'failed'}">${ok ? 'ok' : 'failed'}</span> at ${time(p.at, r.generatedAt)}${p.durationMs === null ? '' : `, took ${esc(formatDuration(p.durationMs))}`}</p>`,
  ];
  if (!ok) {
    lines.push(`<p>Error: <code>${esc(p.error ?? 'unknown')}</code></p>`);
    lines.push(`<p>${plural(p.failedInARow, 'failed poll')} in a row; last success ${time(p.lastSuccessAt, r.generatedAt)}. Alerts stay as they were until a poll succeeds.</p>`);
  }
  return `<section id="poll" class="box ${ok ? 'good' : 'bad'}">${lines.join('\n')}</section>`;
}

function refusedSection(r: StatusReport): string {
  if (r.refusedChange === null) return '';
  const { at, errors } = r.refusedChange;
  return `<section id="refused" class="box bad">
<p><strong>A rule change was refused</strong> ${time(at, r.generatedAt)}: the last good rule set (below) stays in force until the files pass <code>stockwatch check</code>.</p>
<pre class="mono">${errors.map(esc).join('\n')}</pre>
</section>`;
}

function firingSection(r: StatusReport): string {
  if (r.firing === null) return '';
  const f = r.firing;
  const sev = (['critical', 'warning', 'info'] as const)
    .filter((s) => f.bySeverity[s] > 0)
    .map((s) => `<span class="badge ${s}">${f.bySeverity[s]} ${s}</span>`)
    .join(' ');
  const head = `<h2>Firing now: ${f.total}</h2>
<p>${sev || '<span class="muted">nothing firing</span>'}${f.silenced > 0 ? ` <span class="muted">· ${f.silenced} silenced (not notified)</span>` : ''}${
    f.inhibited > 0 ? ` <span class="muted">· ${f.inhibited} inhibited (not notified)</span>` : ''
  }${f.pending > 0 ? ` <span class="muted">· ${f.pending} pending (not notified yet)</span>` : ''}</p>`;
  if (f.total + f.pending === 0) return `<section id="firing">${head}</section>`;

  const rows = f.alerts.map((a) => {
    const skuCell = a.sku !== null ? `<code class="sku">${esc(a.sku)}</code>` : `<code class="muted" title="product not in the overview">${esc(a.productId ?? '(all products)')}</code>`;
    const warehouseCell = a.warehouse !== null ? esc(a.warehouse) : `<code class="muted" title="warehouse not in the overview">${esc(a.warehouseId ?? '(all warehouses)')}</code>`;
    const level = (n: number): string => `<td class="num${n < 0 ? ' neg' : ''}">${n}</td>`;
    return `<tr data-search="${esc(searchText(a))}">
<td><span class="badge ${a.severity}">${a.severity}</span>${a.status === 'pending' ? ' <span class="muted">pending</span>' : ''}${a.silenced ? ' <span class="muted">silenced</span>' : ''}${a.inhibited ? ' <span class="muted">inhibited</span>' : ''}</td>
<td>${esc(a.rule)}</td><td>${skuCell}</td><td>${esc(a.product ?? '')}</td><td>${warehouseCell}</td>
${level(a.available)}${level(a.reserved)}${level(a.incoming)}
<td>${time(a.firingSince, r.generatedAt)}</td><td>${esc(a.summary ?? '')}</td>
</tr>`;
  });

  const more = f.matched - f.alerts.length;
  const moreNote =
    more > 0
      ? `<p class="note">${more} more ${f.query === null ? 'firing' : 'matching'} — see <a href="/api/status?limit=all${f.query === null ? '' : `&amp;q=${esc(encodeURIComponent(f.query))}`}">/api/status?limit=all</a>, or narrow the list with the filter (Enter searches every alert).</p>`
      : '';
  const queryNote =
    f.query !== null
      ? `<p class="muted">Showing the ${f.matched} of ${f.total} alerts that match “${esc(f.query)}”. <a href="/">Show all</a>.</p>`
      : '';
  return `<section id="firing">
${head}
<form class="toolbar" method="get" action="/">
<input id="filter" name="q" type="search" value="${esc(f.query ?? '')}" placeholder="Filter by SKU, rule, warehouse, product… (Enter searches every alert)" autocomplete="off" aria-label="Filter firing alerts">
<span class="muted"><span id="shown">${f.alerts.length}</span> shown</span>
</form>
${queryNote}
<table id="alerts">
<thead><tr><th>Severity</th><th>Rule</th><th>SKU</th><th>Product</th><th>Warehouse</th><th class="num">Available</th><th class="num">Reserved</th><th class="num">Incoming</th><th>Firing since</th><th>Summary</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p id="no-match" class="muted" hidden>No firing alert matches the filter.</p>
${moreNote}
</section>`;
}

const STATE_LABEL: Record<StatusNotice['state'], string> = {
  completed: 'delivered',
  failed: 'failed',
  active: 'sending',
  waiting: 'queued',
  prioritized: 'queued',
  delayed: 'waiting',
};

function noticeWhat(n: StatusNotice): string {
  if (n.counts !== null) {
    const parts = Object.entries(n.counts)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${count} ${kind === 'repeat' ? 'still firing' : kind}`);
    return `${esc(n.type)}: ${parts.length > 0 ? esc(parts.join(', ')) : 'nothing'}`;
  }
  if (n.event !== null) return `source ${esc(n.event)}${n.detail ? `<br><span class="muted">${esc(n.detail)}</span>` : ''}`;
  if (n.dataBytes !== null) return `${esc(n.type)} <span class="muted">(${Math.round(n.dataBytes / 1e6)} MB, not read)</span>`;
  return esc(n.type);
}

function noticesSection(r: StatusReport): string {
  if (r.notices === null) return '';
  const { recent, error } = r.notices;
  const head = `<h2>Recent notices</h2>`;
  if (error !== null) return `<section id="notices">${head}<p class="failed">Could not read the delivery queues: ${esc(error)}</p></section>`;
  if (recent.length === 0) return `<section id="notices">${head}<p class="muted">No notice sent yet.</p></section>`;
  const rows = recent.map((n) => {
    // A delayed job that has failed before is waiting for its next try; one without a failure is being paced.
    const label = n.state === 'delayed' && n.failedReason !== null ? 'retrying' : STATE_LABEL[n.state];
    return `<tr>
<td>${time(n.createdAt, r.generatedAt)}</td><td>${esc(n.channel ?? '?')}</td><td>${esc(n.queue)}</td><td>${noticeWhat(n)}</td>
<td><span class="badge ${label}">${label}</span></td><td class="num">${n.attempts}${n.maxAttempts === null ? '' : ` / ${n.maxAttempts}`}</td>
<td>${n.failedReason === null ? '' : `<code>${esc(n.failedReason)}</code>`}</td><td><code class="muted">${esc(n.jobId)}</code></td>
</tr>`;
  });
  return `<section id="notices">
${head}
<p class="muted">The latest ${recent.length} across the delivery queues (Slack, email, webhook), newest activity first. A failed delivery is retried with backoff for at least a day.</p>
<table>
<thead><tr><th>Created</th><th>Channel</th><th>Via</th><th>Notice</th><th>State</th><th class="num">Tries</th><th>Last error</th><th>Job</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

function rulesSection(r: StatusReport): string {
  const rs = r.rules;
  const rules = rs.rules.map(
    (rule) => `<tr>
<td>${esc(rule.name)}</td><td><code>${esc(rule.type)}</code></td><td><code>${esc(rule.condition)}</code></td><td>${whereText(rule.where)}</td>
<td><span class="badge ${rule.severity}">${rule.severity}</span></td><td>${rule.channels.map(esc).join(', ')}</td>
<td>${esc(rule.repeatEvery)}</td><td>${rule.sendResolved ? 'yes' : 'no'}</td><td><code class="muted">${esc(rule.definedAt)}</code></td>
</tr>`,
  );
  const channels = rs.channels.map((c) => {
    const target =
      c.kind === 'slack'
        ? '<span class="muted">incoming webhook (a secret: not shown)</span>'
        : c.kind === 'webhook'
          ? '<span class="muted">JSON webhook (its URL is a secret: not shown)</span>'
          : c.to.map(esc).join(', ');
    const when = c.kind === 'email' && c.digest !== null ? `digest <code>${esc(c.digest)}</code> (${esc(c.timezone ?? 'UTC')})` : 'each poll';
    const isDefault = rs.defaultChannels.includes(c.name) ? ' <span class="muted">default</span>' : '';
    return `<tr><td>${esc(c.name)}${isDefault}</td><td>${c.kind}</td><td>${target}</td><td>${when}</td></tr>`;
  });
  return `<section id="rules">
<h2>Rules in force</h2>
<p class="muted">Loaded ${time(rs.loadedAt, r.generatedAt)} from ${rs.files.length === 0 ? 'no file' : rs.files.map((f) => `<code>${esc(f)}</code>`).join(', ')}.</p>
<table>
<thead><tr><th>Rule</th><th>Type</th><th>Fires when</th><th>Where</th><th>Severity</th><th>Channels</th><th>Repeat every</th><th>Resolved sent</th><th>Defined at</th></tr></thead>
<tbody>
${rules.join('\n')}
</tbody>
</table>
<h3>Channels</h3>
<table>
<thead><tr><th>Channel</th><th>Kind</th><th>Sends to</th><th>When</th></tr></thead>
<tbody>
${channels.join('\n')}
</tbody>
</table>
</section>`;
}

function silencesSection(r: StatusReport): string {
  const { inForce, expired } = r.silences;
  const expiredNote = expired > 0 ? `<p class="muted">${plural(expired, 'silence')} in the rule files ${expired === 1 ? 'has' : 'have'} expired.</p>` : '';
  if (inForce.length === 0) return `<section id="silences"><h2>Silences in force</h2><p class="muted">None.</p>${expiredNote}</section>`;
  const rows = inForce.map(
    (s) => `<tr><td>${whereText(s.where)}</td><td>${s.rule === null ? '<span class="muted">every rule</span>' : esc(s.rule)}</td>
<td>${time(s.until, r.generatedAt)}</td><td>${esc(s.reason ?? '')}</td><td><code class="muted">${esc(s.definedAt)}</code></td></tr>`,
  );
  return `<section id="silences">
<h2>Silences in force</h2>
<table>
<thead><tr><th>Where</th><th>Rule</th><th>Until</th><th>Reason</th><th>Defined at</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${expiredNote}
</section>`;
}

export function renderStatusPage(r: StatusReport): string {
  return [
    header(r),
    '<main>',
    pollSection(r),
    refusedSection(r),
    firingSection(r),
    noticesSection(r),
    silencesSection(r),
    rulesSection(r),
    '</main>',
    `<script>${FILTER_SCRIPT}</script>`,
    '</body>\n</html>\n',
  ].join('\n');
}
