// eve.json alerts: at or above the severity (1 the highest), per-signature lengths, never a crash.
import t from 'tap';
import { parseEveAlert } from '../../../agent/src/logsources/eve.js';

const alert = (over: Record<string, unknown> = {}, a: Record<string, unknown> = {}) =>
  JSON.stringify({ timestamp: '2026-12-01T09:30:00.123456+0000', flow_id: 1, in_iface: 'eth0', event_type: 'alert', src_ip: '192.0.2.2', src_port: 50096, dest_ip: '198.51.100.1', dest_port: 80, proto: 'TCP', alert: { action: 'allowed', gid: 1, signature_id: 2018358, rev: 10, signature: 'ET HUNTING GENERIC SUSPICIOUS POST', category: 'Potentially Bad Traffic', severity: 2, ...a }, app_proto: 'http', ...over });
const o = { minSeverity: 2, banMs: 3_600_000, signatures: {} };

t.test('severity: 1 and 2 ban at minSeverity 2, 3 does not', async (t) => {
  t.match(parseEveAlert(alert({}, { severity: 1 }), o), { address: '192.0.2.2', durationMs: 3_600_000, severity: 1, signatureId: 2018358, reason: 'suricata 2018358: ET HUNTING GENERIC SUSPICIOUS POST' });
  t.match(parseEveAlert(alert(), o), { severity: 2 });
  t.equal(parseEveAlert(alert({}, { severity: 3 }), o), null);
});

t.test('signature ids map to their own ban, or to none', async (t) => {
  const m = { ...o, signatures: { '2018358': 60_000, '2001219': false as const } };
  t.match(parseEveAlert(alert({}, { severity: 4 }), m), { durationMs: 60_000 }, 'a mapped signature bans whatever its severity');
  t.equal(parseEveAlert(alert({}, { signature_id: 2001219, severity: 1 }), m), null);
});

t.test('IPv6 as Suricata may print it becomes canonical', async (t) => {
  t.match(parseEveAlert(alert({ src_ip: '2a07:1181:0130:3603:0000:0000:0000:0004' }), o), { address: '2a07:1181:130:3603::4' });
});

t.test('other records and malformed lines are nothing', async (t) => {
  for (const line of [
    JSON.stringify({ event_type: 'flow', src_ip: '192.0.2.2', alert: { severity: 1, signature_id: 1 } }),
    alert({ src_ip: 'not-an-ip' }),
    alert({}, { severity: '1' }),
    alert({ alert: null }),
    '{"event_type":"alert",',
    '"alert"',
    'null',
    '',
  ]) t.equal(parseEveAlert(line, o), null, line.slice(0, 60));
});
