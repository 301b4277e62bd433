// Models: lib/errseq.c (errseq_t): a writeback error recorded on a mapping as errno + "seen" flag
// + a counter, so that every file open when it happened reports it once (fsync's semantics since
// Linux 4.13), and a file opened later reports only errors nobody has seen yet.

/** The errno's bits (MAX_ERRNO = 4095). */
const ERRNO_MASK = 0xfff;
/** ERRSEQ_SEEN: someone has reported the current error. */
const ERRSEQ_SEEN = 0x1000;
/** ERRSEQ_CTR_INC: the counter, above the flag. */
const ERRSEQ_CTR_INC = 0x2000;

/** errseq_set: record `err` (negative errno); a new error after a seen one bumps the counter. */
export function errseqSet(eseq: number, err: number): number {
  let next = (eseq & ~(ERRNO_MASK | ERRSEQ_SEEN)) | (-err & ERRNO_MASK);
  if (eseq & ERRSEQ_SEEN) next += ERRSEQ_CTR_INC;
  // the counter wraps in 32 bits as the kernel's does
  return next >>> 0;
}

/** errseq_sample: the cursor a new opener starts from (0 when the current error is unseen: it will see it). */
export function errseqSample(eseq: number): number {
  return eseq & ERRSEQ_SEEN ? eseq : 0;
}

/** errseq_check: the error since `since`, or 0. */
export function errseqCheck(eseq: number, since: number): number {
  if ((eseq | ERRSEQ_SEEN) === (since | ERRSEQ_SEEN)) return 0;
  return -(eseq & ERRNO_MASK);
}

/** What errseq_check_and_advance returns: the error to report and the new values. */
export interface ErrseqAdvance {
  readonly err: number;
  /** The mapping's errseq (now marked seen). */
  readonly eseq: number;
  /** The file's cursor. */
  readonly since: number;
}

/** errseq_check_and_advance: report an error newer than `since` once, marking it seen. */
export function errseqCheckAndAdvance(eseq: number, since: number): ErrseqAdvance {
  if (eseq === since) return { err: 0, eseq, since };
  const seen = (eseq | ERRSEQ_SEEN) >>> 0;
  return { err: -(seen & ERRNO_MASK), eseq: seen, since: seen };
}
