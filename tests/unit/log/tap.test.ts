// The logger's tap: each event line is still written, and subscribers get it as an object with its
// level's name, its message and its time; lines without an event are not events.
import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../../agent/src/log/logger.js';
import { LogTap, type AgentEvent } from '../../../agent/src/log/tap.js';

t.test('lines written as before, events handed over', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const tap = new LogTap();
  const log = createLogger('info', sink, tap);
  log.warn({ event: 'ban', address: '192.0.2.1' }, 'before anyone listens');
  const seen: AgentEvent[] = [];
  const off = tap.subscribe((e) => seen.push(e));
  log.warn({ event: 'ban', address: '192.0.2.2', by: 'control' }, 'ban 192.0.2.2');
  log.info('no event field');
  log.debug({ event: 'debugging' }, 'below the level');
  off();
  log.info({ event: 'stop' }, 'after');
  t.equal(lines.length, 4, 'every line at the level written');
  t.match(JSON.parse(lines[1]!), { event: 'ban', address: '192.0.2.2', level: 'warn', msg: 'ban 192.0.2.2' });
  t.equal(seen.length, 1);
  t.match(seen[0], { event: 'ban', address: '192.0.2.2', by: 'control', level: 'warn', msg: 'ban 192.0.2.2' });
  t.ok(!Number.isNaN(Date.parse(seen[0]!.time)), 'with its time');
});
