// The dashboard page and its style. The page is a frame the script (client/app.ts) fills: every
// value it shows is set as text, never as markup, so nothing an attacker puts in a packet or a
// ban reason can become part of the page.

/** `token`: already URL-encoded; it is [A-Za-z0-9_-] (http/token.ts), so safe in an attribute too. */
export function dashboardHtml(token: string): string {
  const q = `?token=${token}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>vpsfw</title>
<link rel="stylesheet" href="/assets/uPlot.min.css${q}">
<link rel="stylesheet" href="/assets/dashboard.css${q}">
</head>
<body>
<header>
  <h1>vpsfw</h1>
  <span id="agent">connecting…</span>
  <span id="link" class="link">●</span>
</header>
<main>
  <section class="chart" id="chart-verdicts"><h2>Verdicts per second</h2></section>
  <section class="chart" id="chart-bans"><h2>Bans in force</h2></section>
  <section class="chart" id="chart-queue"><h2>Queue, packets per second</h2></section>
  <section id="bans-panel" class="wide">
    <h2>Bans <span id="bans-total"></span></h2>
    <table id="bans"><thead><tr><th>address</th><th>time left</th><th>by</th><th>reason</th><th>#</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="events-panel" class="wide"><h2>Events</h2><ol id="events"></ol></section>
  <section id="sources-panel"><h2>Sources refused most</h2>
    <table id="sources"><thead><tr><th>address</th><th>packets</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="policy-panel"><h2>Policy</h2><dl id="policy"></dl></section>
  <section id="crowdsec-panel" hidden><h2>CrowdSec</h2><dl id="crowdsec"></dl></section>
</main>
<script src="/assets/uPlot.iife.min.js${q}"></script>
<script type="module" src="/assets/app.js${q}"></script>
</body>
</html>
`;
}

export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --muted: #888; --line: #8884; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; }
header { display: flex; gap: 1em; align-items: baseline; padding: .5em 1em; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; margin: 0 0 .4em; }
#agent { color: var(--muted); }
.link { margin-left: auto; color: #2a2; }
.link.down { color: #d33; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1em; padding: 1em; }
section { min-width: 0; }
.wide { grid-column: 1 / -1; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .15em .6em .15em 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.reason { white-space: normal; }
#bans tbody { font-variant-numeric: tabular-nums; }
#events { list-style: none; margin: 0; padding: 0; max-height: 18em; overflow: auto; font: 12px/1.5 ui-monospace, monospace; }
#events .warn, #events .error, #events .fatal { color: #d33; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
`;
