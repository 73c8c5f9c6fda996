// What a reload cannot change: the queue the agent is bound to and how the kernel treats it.
import t from 'tap';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { restartNeeded } from '../../../agent/src/policy/restart.js';

const p = (queue: object, extra: object = {}) => parsePolicy({ version: 1, queue, ...extra }, 't').policy;

t.test('queue settings need a restart; the rest reloads', async (t) => {
  t.equal(restartNeeded(p({}), p({}, { rules: [{ name: 'x', action: 'accept' }] })), null);
  t.equal(restartNeeded(p({}), p({ perSource: { rate: 5 } })), null, 'the per-source bound is a rule');
  t.equal(restartNeeded(p({}), p({ num: 3 })), 'queue.num');
  t.equal(restartNeeded(p({}), p({ maxLen: 64 })), 'queue.maxLen');
  t.equal(restartNeeded(p({}), p({ failMode: 'closed' })), 'queue.failMode');
  t.equal(restartNeeded(p({}), p({ logGroup: 7 })), 'queue.logGroup');
});

t.test('the HTTP listener needs a restart: its address and who may connect', async (t) => {
  const h = (http: object) => parsePolicy({ version: 1, http }, 't').policy;
  t.equal(restartNeeded(h({ listen: '127.0.0.1:9469' }), h({ listen: '127.0.0.1:9469' })), null, 'the same, parsed anew');
  t.equal(restartNeeded(h({}), h({ listen: '127.0.0.1:9469' })), 'http.listen');
  t.equal(restartNeeded(h({ listen: '127.0.0.1:9469' }), h({ listen: '127.0.0.1:9470' })), 'http.listen');
  t.equal(restartNeeded(h({ listen: '127.0.0.1:9469' }), h({ listen: '127.0.0.1:9469', allowFrom: ['127.0.0.1/32'] })), 'http.allowFrom');
});
