// sshd's lines: what counts, what forgives, what is ignored. The lines are OpenSSH 9.2's own
// (Debian 12's openssh-server, captured with `sshd -D -E FILE`), bare and with rsyslog's prefixes.
import t from 'tap';
import { parseSshdMessage, sshdMessageOfJournal, sshdMessageOfLine } from '../../../agent/src/logsources/sshd.js';

const parse = (line: string) => {
  const m = sshdMessageOfLine(line);
  return m === null ? null : parseSshdMessage(m);
};

t.test('failures, as OpenSSH 9.2 writes them', async (t) => {
  const cases: Array<[string, string, string, number]> = [
    ['Failed password for tuser from 192.0.2.2 port 34090 ssh2', 'attempt', '192.0.2.2', 34090],
    ['Failed password for tuser from ::1 port 39704 ssh2', 'attempt', '::1', 39704],
    ['Failed password for invalid user bad user from 2001:db8:1::2 port 39714 ssh2', 'attempt', '2001:db8:1::2', 39714],
    ['Failed keyboard-interactive/pam for root from 198.51.100.7 port 1022 ssh2', 'attempt', '198.51.100.7', 1022],
    ['Invalid user bad user from ::1 port 39714', 'attempt', '::1', 39714],
    ['Invalid user  from 192.0.2.9 port 4000', 'attempt', '192.0.2.9', 4000],
    ['Connection closed by authenticating user tuser 127.0.0.1 port 34090 [preauth]', 'closing', '127.0.0.1', 34090],
    ['Connection closed by invalid user bad user ::1 port 39714 [preauth]', 'closing', '::1', 39714],
    ['Connection reset by authenticating user root 192.0.2.3 port 50000 [preauth]', 'closing', '192.0.2.3', 50000],
    ['Disconnected from invalid user admin 192.0.2.4 port 50001 [preauth]', 'closing', '192.0.2.4', 50001],
    ['maximum authentication attempts exceeded for tuser from 127.0.0.1 port 59566 ssh2 [preauth]', 'closing', '127.0.0.1', 59566],
    ['error: maximum authentication attempts exceeded for invalid user x from 2001:db8::7 port 2 ssh2 [preauth]', 'closing', '2001:db8::7', 2],
    ['Disconnecting authenticating user tuser ::1 port 39718: Too many authentication failures [preauth]', 'closing', '::1', 39718],
    ['banner exchange: Connection from ::1 port 39724: invalid format', 'closing', '::1', 39724],
    ['Received disconnect from 192.0.2.5 port 4444:3: com.jcraft.jsch.JSchException: Auth fail [preauth]', 'closing', '192.0.2.5', 4444],
  ];
  for (const [line, kind, address, port] of cases) t.match(parse(line), { kind, address, port }, line);
});

t.test('a successful login, and lines that are no failure', async (t) => {
  t.match(parse('Accepted password for tuser from ::1 port 39706 ssh2'), { kind: 'success', address: '::1', port: 39706 });
  t.match(parse('Accepted publickey for tuser from 192.0.2.2 port 5 ssh2: ED25519 SHA256:abc'), { kind: 'success', address: '192.0.2.2' });
  for (const line of [
    'Server listening on 127.0.0.1 port 2222.',
    'Received disconnect from ::1 port 39706:11: disconnected by user',
    'Disconnected from user tuser ::1 port 39706',
    'Connection reset by 127.0.0.1 port 59570',
    'Could not get shadow information for NOUSER',
    'Failed publickey for tuser from 192.0.2.2 port 5 ssh2: ED25519 SHA256:abc',
    'Failed none for invalid user x from 192.0.2.2 port 5 ssh2',
    'kex_exchange_identification: read: Connection reset by peer',
    'Failed password for tuser from 999.0.2.2 port 1 ssh2',
    '',
  ]) t.equal(parse(line), null, JSON.stringify(line));
});

t.test('the address is the one sshd wrote last, not one in the user name', async (t) => {
  t.match(parse('Invalid user x from 6.6.6.6 port 1 from 192.0.2.2 port 5'), { address: '192.0.2.2', port: 5 });
  t.match(parse('Failed password for invalid user y from 6.6.6.6 port 1 ssh2 from 192.0.2.2 port 5 ssh2'), { address: '192.0.2.2' });
});

t.test('syslog prefixes: only sshd counts', async (t) => {
  t.match(parse('Dec  1 09:30:00 vps sshd[1234]: Failed password for root from 192.0.2.2 port 1 ssh2'), { kind: 'attempt', address: '192.0.2.2' });
  t.match(parse('2026-12-01T09:30:00.123456+00:00 vps sshd[1234]: Invalid user a from 2001:db8::1 port 2'), { kind: 'attempt', address: '2001:db8::1' });
  t.match(parse('2026-12-01T09:30:00.123456+00:00 vps sshd-session[9]: Failed password for root from 192.0.2.2 port 1 ssh2'), { kind: 'attempt' });
  t.equal(parse('Dec  1 09:30:00 vps logger[99]: Failed password for root from 192.0.2.2 port 1 ssh2'), null, 'another program cannot accuse');
  t.equal(sshdMessageOfJournal('Failed password for root from 192.0.2.2 port 1 ssh2', 'logger'), null);
  t.equal(sshdMessageOfJournal('x', undefined), null);
  t.equal(sshdMessageOfJournal('x', 'sshd'), 'x');
});

t.test('IPv6 in canonical text; IPv4-mapped as sshd prints it', async (t) => {
  t.match(parse('Failed password for a from 2001:DB8:0:0:0:0:0:1 port 1 ssh2'), { address: '2001:db8::1' });
  t.match(parse('Failed password for a from ::ffff:192.0.2.2 port 1 ssh2'), { address: '::ffff:192.0.2.2' });
});
