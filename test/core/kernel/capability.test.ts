// capable() through cap_capable, as capable.bt sees it: opening /dev/mem checks CAP_DAC_OVERRIDE
// then CAP_SYS_RAWIO; a user without them is refused at the first (-EPERM from cap_capable).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';

test('devmem2 as root passes both capability checks; as a user the first one fails', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const seen: string[] = [];
  attach(m, 'kprobe:cap_capable', (h) => seen.push(`${h.comm}/${h.pid} cap ${h.argValue(2)} opts ${h.argValue(3)}`));
  attach(m, 'kretprobe:cap_capable', (h) => seen.push(`ret ${h.retval ?? NaN}`));
  m.scheduleEvents([
    { kind: 'run', atNs: 1_000_000, argv: 'sudo -u alice devmem2 0x380000000008'.split(' ') },
    { kind: 'run', atNs: 2_000_000, argv: 'devmem2 0x380000000008'.split(' ') },
  ]);
  m.run(50_000_000);
  const [user, root] = [m.k.tasks.find((t) => t.comm === 'devmem2')!.pid, m.k.tasks.filter((t) => t.comm === 'devmem2')[1]!.pid];
  assert.deepEqual(seen, [`devmem2/${user} cap 1 opts 0`, 'ret -1', `devmem2/${root} cap 1 opts 0`, 'ret 0', `devmem2/${root} cap 17 opts 0`, 'ret 0']);
});
