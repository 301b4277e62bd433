// zero-copy: serving a file to a TCP socket over the NIC costs the server 2 copies per byte by
// read()+write(), 0 by sendfile() (page-cache pages go to the NIC by reference) and exactly 1 by
// sendfile() from a byte that is not page aligned, where every one-page segment straddles two pages
// and the NIC, which takes one buffer per packet, gets it linearized. The CPU per byte follows.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootExperiment, oncePerFile } from '../helpers/experiment.js';

/** When file-server starts (the scenario's first event): what the warm-up did before is not counted. */
const SERVE_AT_NS = 10_000_000;

const serve = oncePerFile((file: string) => {
  const { m, durationNs, name } = bootExperiment(file);
  const busyNs = () => m.k.sched.cpus.reduce((sum, c) => sum + c.busyTimeNs(), 0);
  m.run(SERVE_AT_NS);
  const busy0 = busyNs();
  const userCopies0 = m.k.stat.userCopyBytes;
  m.run(durationNs);
  const events = m.report(name, 1).events ?? [];
  const sent = /file-server: sent (\d+) bytes/.exec(events[0]!.output);
  const got = /fetch: received (\d+) bytes/.exec(events[1]!.output);
  const c = m.k.net.copies;
  const bytes = Number(sent?.[1] ?? 0);
  return {
    bytes,
    received: Number(got?.[1] ?? 0),
    // read()'s and write()'s copies, the stack's page-cache copies and the driver's linearization
    copiedBytes: m.k.stat.userCopyBytes - userCopies0 + c.pageToSkbBytes + c.linearizeBytes,
    linearizedBytes: c.linearizeBytes,
    cpuNsPerKiB: ((busyNs() - busy0) * 1024) / bytes,
  };
});

test('copies per byte: read()+write() 2, sendfile() 0, sendfile() from a misaligned offset 1 (every packet linearized)', () => {
  const rw = serve('zero-copy.json');
  const sf = serve('zero-copy-sendfile.json');
  const mis = serve('zero-copy-misaligned.json');
  // the 4 MiB + 2 KiB file from byte 0, and from byte 2048: exactly 4 MiB
  assert.deepEqual([rw.bytes, sf.bytes, mis.bytes], [4196352, 4196352, 4194304]);
  assert.deepEqual([rw.received, sf.received, mis.received], [rw.bytes, sf.bytes, mis.bytes]);
  assert.deepEqual([rw.copiedBytes / rw.bytes, sf.copiedBytes / sf.bytes, mis.copiedBytes / mis.bytes], [2, 0, 1]);
  // the one copy is the driver's: every byte went through skb_linearize
  assert.equal(mis.linearizedBytes, mis.bytes);
  assert.equal(sf.linearizedBytes, 0);
});

test('CPU per byte falls with the copies: read()+write() > misaligned sendfile() > sendfile()', () => {
  const rw = serve('zero-copy.json');
  const sf = serve('zero-copy-sendfile.json');
  const mis = serve('zero-copy-misaligned.json');
  assert.ok(rw.cpuNsPerKiB > mis.cpuNsPerKiB && mis.cpuNsPerKiB > sf.cpuNsPerKiB, `rw ${rw.cpuNsPerKiB}, misaligned ${mis.cpuNsPerKiB}, sendfile ${sf.cpuNsPerKiB} ns/KiB`);
  // dropping both copies saves more than a quarter of the server's CPU; the linearizing copy gives most of it back
  assert.ok(sf.cpuNsPerKiB < 0.75 * rw.cpuNsPerKiB, `sendfile ${sf.cpuNsPerKiB} vs rw ${rw.cpuNsPerKiB} ns/KiB`);
  assert.ok(mis.cpuNsPerKiB - sf.cpuNsPerKiB > 0.5 * (rw.cpuNsPerKiB - sf.cpuNsPerKiB), `misaligned ${mis.cpuNsPerKiB} ns/KiB`);
});
