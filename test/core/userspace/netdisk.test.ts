// recv-to-disk over loopback: every byte received lands in the file, a short last buffer is
// written without O_DIRECT (as dd oflag=direct does), what it prints, and bad command lines
// refused at load with the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseScenario } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

const MACHINE = { cpus: 2, memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '1g', mount: '/mnt/nvme' }] };
const USAGE = '(usage: recv-to-disk PORT --file PATH [--buffers 1-16] [--buffer-size SIZE] [--rcvbuf BYTES] [--direct])';

/** Runs recv-to-disk with `args` and a client sending it `bytes` over loopback; the machine and recv-to-disk's event. */
function transfer(args: string, bytes: number) {
  const r = parseScenario(
    {
      name: 'nd',
      duration: '30ms',
      machine: MACHINE,
      events: [
        { at: '0', run: `recv-to-disk 9000 --file /mnt/nvme/x ${args}` },
        { at: '1ms', run: `client 127.0.0.1:9000 --size ${bytes}` },
      ],
    },
    'nd.json',
  );
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const ev = m.report('nd', 1).events![0]!;
  assert.equal(ev.status, '0', ev.output);
  return { m, output: ev.output };
}

test('recv-to-disk stores every byte, the unaligned tail by a buffered write, and reports its times', () => {
  // 1 MiB + 1000 bytes: four full 256 KiB buffers by O_DIRECT io_submit, then a 1000-byte tail
  const size = (1 << 20) + 1000;
  const { m, output } = transfer('--buffers 2 --buffer-size 256k --direct', size);
  const lines = output.split('\n');
  assert.equal(lines[0], 'recv-to-disk: listening on 0.0.0.0:9000; 2 buffers of 262144 bytes, each written to /mnt/nvme/x by io_submit with O_DIRECT');
  assert.match(lines[1]!, new RegExp(`^recv-to-disk: received ${size} bytes, wrote ${size} in 5 writes, in \\d+\\.\\d{3} ms: \\d+\\.\\d MB/s$`));
  assert.match(lines[2]!, /^recv-to-disk: in recv\(\) \d+\.\d{3} ms, in io_submit\(\) \d+\.\d{3} ms, waiting for a free buffer \d+\.\d{3} ms, disk idle \(no write in flight\) \d+\.\d{3} ms$/);
  assert.equal(m.k.vfs.lookup('/mnt/nvme/x')?.sizeBytes, size);
});

test('without --direct each io_submit copies into the page cache: the disk sees the bytes at writeback', () => {
  const { m, output } = transfer('--buffers 1 --buffer-size 256k', 524288);
  assert.match(output, /^recv-to-disk: listening on 0\.0\.0\.0:9000; 1 buffer of 262144 bytes, each written to \/mnt\/nvme\/x by io_submit\n/);
  assert.match(output, /received 524288 bytes, wrote 524288 in 2 writes/);
  assert.match(output, /waiting for a free buffer \d+\.\d{3} ms, disk writes at writeback \(buffered\)\n$/);
  // the closing fdatasync wrote the dirty pages back
  assert.equal(m.k.vfs.lookup('/mnt/nvme/x')?.sizeBytes, 524288);
});

test('recv-to-disk refuses bad command lines at load', () => {
  const msg = (run: string) => {
    const r = parseScenario({ name: 'nd', duration: '1s', machine: MACHINE, events: [{ at: '0', run }] }, 'nd.json');
    return r.ok ? 'ok' : r.diagnostics.map((d) => d.message).join('\n');
  };
  assert.equal(msg('recv-to-disk 9000 --file /x --buffers 2 --direct'), 'ok');
  assert.equal(msg('recv-to-disk 9000'), `recv-to-disk needs --file PATH ${USAGE}`);
  assert.equal(msg('recv-to-disk 9000 --file /x --buffers 0'), `recv-to-disk --buffers must be a count 1-16 (got "0") ${USAGE}`);
  assert.equal(msg('recv-to-disk 9000 --file /x --buffers 16 --buffer-size 8m'), `recv-to-disk --buffers x --buffer-size must be at most 67108864 bytes (got 16 x 8388608) ${USAGE}`);
  assert.equal(msg('recv-to-disk 9000 --file /x --buffer-size 1000 --direct'), `recv-to-disk with --direct, --buffer-size must be a multiple of 4096 (got 1000) ${USAGE}`);
});
