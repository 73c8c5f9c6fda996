const r0 = process.memoryUsage().rss;
const mod = process.argv[2];
if (mod === 'fetch') { const r = await fetch('http://127.0.0.1:8080/'); await r.text(); }
else { const http = await import('node:http'); await new Promise((res) => http.get('http://127.0.0.1:8080/', (r) => { r.resume(); r.on('end', res); })); }
await new Promise((r) => setTimeout(r, 500));
const fs = await import('node:fs'); const s = fs.readFileSync('/proc/self/status', 'utf8');
console.log(mod, 'rss +', ((process.memoryUsage().rss - r0) / 1048576).toFixed(1), 'MiB', /VmHWM:\s+\d+ kB/.exec(s)[0]);
