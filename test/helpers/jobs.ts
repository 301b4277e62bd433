// Test helper: a fio job with fio's defaults, so each test names only what it is about.
import { completeJob, type JobSpec } from '../../core/index.js';

export function jobSpec(over: Partial<JobSpec> & Pick<JobSpec, 'name' | 'filename'>): JobSpec {
  return completeJob(over);
}
