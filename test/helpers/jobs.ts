// Test helper: a fio job with fio's defaults, so each test names only what it is about.
import type { JobSpec } from '../../core/index.js';

export function jobSpec(over: Partial<JobSpec> & Pick<JobSpec, 'name' | 'filename'>): JobSpec {
  return {
    rw: 'read',
    bs: 4096,
    size: 1024 * 1024,
    iodepth: 1,
    ioengine: 'psync',
    direct: false,
    numjobs: 1,
    runtimeNs: 0,
    timeBased: false,
    fsync: 0,
    rwmixread: 50,
    thinktimeNs: 0,
    startdelayNs: 0,
    ...over,
  };
}
