// sendfile() to a TCP socket is at least as fast as read()+write() of the same file, over loopback
// and over the NIC, and moves the same bytes with no copy on the sending side. (A send buffer that
// filled up once used to make every later sendfile() chunk trickle into the tail skb a byte at a
// time while the peer's window updates waited in the socket backlog.)

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseScenario } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

const FILE_BYTES = 4 << 20;

function serve(mode: 'rw' | 'sendfile', overNic: boolean) {
  const machine = {
    cpus: 2,
    memory: '256m',
    devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '1g', mount: '/data' }],
    ...(overNic ? { nics: [{ name: 'eth0', address: '10.0.0.1/24' }] } : {}),
  };
  const r = parseScenario(
    {
      name: 'sf',
      duration: '40ms',
      machine,
      ...(overNic ? { hosts: [{ name: 'client', address: '10.0.0.2/24' }] } : {}),
      jobs: [{ name: 'warm', filename: '/data/file', rw: 'read', size: '4m', bs: '1m' }],
      events: [
        { at: '10ms', run: `file-server 80 --file /data/file --mode ${mode}` },
        overNic ? { at: '11ms', host: 'client', run: 'fetch 10.0.0.1:80' } : { at: '11ms', run: 'fetch 127.0.0.1:80' },
      ],
    },
    'sf.json',
  );
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const fetchOut = (m.report('sf', 1).events ?? [])[1]!.output;
  const done = /fetch: received (\d+) bytes .* in ([\d.]+) ms/.exec(fetchOut);
  const receiver = overNic ? m.hosts[0]!.k : m.k;
  return {
    received: done === null ? 0 : Number(done[1]),
    ms: done === null ? Infinity : Number(done[2]),
    copied: m.k.net.copies.userToSkbBytes,
    byReference: m.k.net.copies.zerocopyBytes,
    linearized: m.k.net.copies.linearizeBytes,
    copiedOut: receiver.net.copies.skbToUserBytes,
  };
}

for (const overNic of [false, true]) {
  test(`sendfile() serves a file at least as fast as read()+write() ${overNic ? 'over the NIC' : 'over loopback'}, with no copy into the socket`, () => {
    const rw = serve('rw', overNic);
    const sf = serve('sendfile', overNic);
    assert.equal(rw.received, FILE_BYTES);
    assert.equal(sf.received, FILE_BYTES, `sendfile delivered ${sf.received} bytes in 29 ms`);
    assert.ok(sf.ms <= rw.ms, `sendfile ${sf.ms} ms vs read+write ${rw.ms} ms`);
    assert.deepEqual([rw.copied, rw.byReference, rw.linearized, rw.copiedOut], [FILE_BYTES, 0, 0, FILE_BYTES]);
    assert.deepEqual([sf.copied, sf.byReference, sf.linearized, sf.copiedOut], [0, FILE_BYTES, 0, FILE_BYTES]);
  });
}
