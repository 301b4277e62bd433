// The parser: every tutorial one-liner and the I/O tools of bpftrace-tools.md, precedence,
// statements, attach points and node details, asserted through printAst's compact form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../../probes/lang/ast.js';
import { renderDiagnostics } from '../../../probes/lang/diagnostics.js';
import { parse, printAst, splitAttachPoint } from '../../../probes/lang/parser.js';
import { SourceFile } from '../../../probes/lang/source.js';

function program(text: string, name = 'stdin'): A.Program {
  const source = new SourceFile(name, text);
  const r = parse(source);
  assert.equal(renderDiagnostics(r.diagnostics, source), '', 'no diagnostics');
  assert.ok(r.program);
  return r.program;
}

const printed = (text: string): string => printAst(program(text));

/** The printed form of one expression, parsed as the value of `$r = ...;`. */
function expr(text: string): string {
  const stmt = program(`BEGIN { $r = ${text}; }`).probes[0]!.block.stmts[0]!;
  assert.equal(stmt.kind, 'Assign');
  return printAst(stmt.kind === 'Assign' ? stmt.value : stmt);
}

/** The printed statements of a BEGIN block. */
function stmts(body: string): string[] {
  return program(`BEGIN { ${body} }`).probes[0]!.block.stmts.map(printAst);
}

test('the tutorial one-liners', () => {
  const table: [string, string][] = [
    ['BEGIN { printf("hello world\\n"); }', 'BEGIN { printf("hello world\\n") }'],
    ['tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args.filename)); }', 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args.filename)) }'],
    ['tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }', 'tracepoint:raw_syscalls:sys_enter { (= @[comm] count()) }'],
    ['tracepoint:syscalls:sys_exit_read /pid == 18644/ { @bytes = hist(args.ret); }', 'tracepoint:syscalls:sys_exit_read /(== pid 18644)/ { (= @bytes hist(args.ret)) }'],
    ['kretprobe:vfs_read { @bytes = lhist(retval, 0, 2000, 200); }', 'kretprobe:vfs_read { (= @bytes lhist(retval, 0, 2000, 200)) }'],
    [
      'kprobe:vfs_read { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); delete(@start, tid); }',
      'kprobe:vfs_read { (= @start[tid] nsecs) }\nkretprobe:vfs_read /@start[tid]/ { (= @ns[comm] hist((- nsecs @start[tid]))); delete(@start, tid) }',
    ],
    ['tracepoint:sched:sched* { @[probe] = count(); } interval:s:5 { exit(); }', 'tracepoint:sched:sched* { (= @[probe] count()) }\ninterval:s:5 { exit() }'],
    ['profile:hz:99 { @[kstack] = count(); }', 'profile:hz:99 { (= @[kstack] count()) }'],
    ['tracepoint:sched:sched_switch { @[kstack] = count(); }', 'tracepoint:sched:sched_switch { (= @[kstack] count()) }'],
    ['tracepoint:block:block_rq_issue { @ = hist(args.bytes); }', 'tracepoint:block:block_rq_issue { (= @ hist(args.bytes)) }'],
    [
      '#ifndef BPFTRACE_HAVE_BTF\n#include <linux/path.h>\n#include <linux/dcache.h>\n#endif\n\nkprobe:vfs_open\n{\n\tprintf("open path: %s\\n", str(((struct path *)arg0)->dentry->d_name.name));\n}\n',
      'kprobe:vfs_open { printf("open path: %s\\n", str((cast struct path * arg0)->dentry->d_name.name)) }',
    ],
  ];
  for (const [text, expected] of table) assert.equal(printed(text), expected, text);
});

test('other documented one-liners parse', () => {
  const table: [string, string][] = [
    ['kprobe:do_nanosleep { printf("%d sleeping\\n", pid); }', 'kprobe:do_nanosleep { printf("%d sleeping\\n", pid) }'],
    [
      'tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat { printf("%-6d %-16s %s\\n", pid, comm, str(args.filename)); }',
      'tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat { printf("%-6d %-16s %s\\n", pid, comm, str(args.filename)) }',
    ],
    ['kprobe:vfs_read /arg2 < 16/ { printf("small read: %d byte buffer\\n", arg2); }', 'kprobe:vfs_read /(< arg2 16)/ { printf("small read: %d byte buffer\\n", arg2) }'],
    ['kprobe:vfs_read /comm == "bash"/ { printf("read by %s\\n", comm); }', 'kprobe:vfs_read /(== comm "bash")/ { printf("read by %s\\n", comm) }'],
    [
      'tracepoint:raw_syscalls:sys_enter { @syscalls = count(); } interval:1s { print(@syscalls); clear(@syscalls); }',
      'tracepoint:raw_syscalls:sys_enter { (= @syscalls count()) }\ninterval:1s { print(@syscalls); clear(@syscalls) }',
    ],
    ['software:faults:100 { @[comm] = count(); }', 'software:faults:100 { (= @[comm] count()) }'],
    ['hardware:cache-misses:1e6 { @[pid] = count(); }', 'hardware:cache-misses:1e6 { (= @[pid] count()) }'],
    [
      'kprobe:d_lookup { $name = (struct qstr *)arg1; @fname[tid] = $name.name; } kretprobe:d_lookup /@fname[tid]/ { printf("%-8d %-6d %-16s M %s\\n", elapsed / 1e6, pid, comm, str(@fname[tid])); }',
      'kprobe:d_lookup { (= $name (cast struct qstr * arg1)); (= @fname[tid] $name.name) }\nkretprobe:d_lookup /@fname[tid]/ { printf("%-8d %-6d %-16s M %s\\n", (/ elapsed 1000000), pid, comm, str(@fname[tid])) }',
    ],
    [
      'kprobe:do_nanosleep { @start[tid] = nsecs; } kretprobe:do_nanosleep /has_key(@start, tid)/ { printf("slept for %d ms\\n", (nsecs - @start[tid]) / 1000000); delete(@start, tid); }',
      'kprobe:do_nanosleep { (= @start[tid] nsecs) }\nkretprobe:do_nanosleep /has_key(@start, tid)/ { printf("slept for %d ms\\n", (/ (- nsecs @start[tid]) 1000000)); delete(@start, tid) }',
    ],
    ['kprobe:vfs_read { @bytes[comm] = stats(arg2); }', 'kprobe:vfs_read { (= @bytes[comm] stats(arg2)) }'],
    ['tracepoint:block:block_rq_issue /args.bytes > $1/ { @ = count(); }', 'tracepoint:block:block_rq_issue /(> args.bytes $1)/ { (= @ count()) }'],
    ['i:ms:$1 { exit() }', 'i:ms:$1 { exit() }'],
    ['begin { @a[1, "x"] = 5; @c = count(); exit(); } end { }', 'begin { (= @a[(tuple 1 "x")] 5); (= @c count()); exit() }\nend { }'],
  ];
  for (const [text, expected] of table) assert.equal(printed(text), expected, text);
});

// The tools below are written for these tests from the descriptions in bpftrace-tools.md.

const BIOLATENCY = `#!/usr/bin/env bpftrace
/*
 * biolatency - block I/O latency as a histogram (tracepoint version).
 */
BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\\n");
}

tracepoint:block:block_bio_queue
{
	@start[args.sector] = nsecs;
}

tracepoint:block:block_rq_complete,
tracepoint:block:block_bio_complete
/@start[args.sector]/
{
	@usecs = hist((nsecs - @start[args.sector]) / 1000);
	delete(@start, args.sector);
}

END
{
	clear(@start);
}
`;

const BIOSNOOP = `#!/usr/bin/env bpftrace
// biosnoop - one line per block I/O with its latency (Linux 6.5+ tracepoints)

BEGIN
{
	printf("%-12s %-7s %-16s %-6s %7s\\n", "TIME(ms)", "DISK", "COMM", "PID", "LAT(ms)");
}

tracepoint:block:block_io_start
{
	$key = (args.dev, args.sector);
	@start[$key] = nsecs;
	@iopid[$key] = pid;
	@iocomm[$key] = comm;
}

tracepoint:block:block_io_done
/has_key(@start, (args.dev, args.sector))/
{
	$key = (args.dev, args.sector);
	$now = nsecs;
	$major = args.dev >> 20;
	$minor = args.dev & ((1 << 20) - 1);
	printf("%-12u %-3d %-3d %-16s %-6d %7d\\n", elapsed / 1e6, $major, $minor,
	    @iocomm[$key], @iopid[$key], ($now - @start[$key]) / 1e6);
	delete(@start, $key);
	delete(@iopid, $key);
	delete(@iocomm, $key);
}

END
{
	clear(@start);
	clear(@iopid);
	clear(@iocomm);
}
`;

const BITESIZE = `#!/usr/bin/env bpftrace
// bitesize - disk I/O size histogram per process

BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\\n");
}

tracepoint:block:block_rq_issue
{
	@[args.comm] = hist(args.bytes);
}

END
{
	printf("\\nI/O size (bytes) histograms by process name:");
}
`;

const VFSCOUNT = `#!/usr/bin/env bpftrace
// vfscount - count VFS calls by function name

BEGIN
{
	printf("Tracing VFS calls... Hit Ctrl-C to end.\\n");
}

kprobe:vfs_*
{
	@[func] = count();
}
`;

const VFSSTAT = `#!/usr/bin/env bpftrace
// vfsstat - count key VFS calls, printed each second

BEGIN
{
	printf("Tracing key VFS calls... Hit Ctrl-C to end.\\n");
}

kprobe:vfs_read*,
kprobe:vfs_write*,
kprobe:vfs_fsync,
kprobe:vfs_open,
kprobe:vfs_create
{
	@[func] = count();
}

interval:1s
{
	time();
	print(@);
	clear(@);
}

END
{
	clear(@);
}
`;

const SYSCOUNT = `#!/usr/bin/env bpftrace
// syscount - count system calls by id (or name) and by process

macro display_map(description, @map)
{
	printf(description);
	print(@map, 10);
	clear(@map);
}

BEGIN
{
	printf("Counting syscalls... Hit Ctrl-C to end.\\n");
}

tracepoint:raw_syscalls:sys_enter
{
	if (getopt("sysname", false, "show syscall names instead of ids")) {
		@syscall_name[syscall_name(args.id)] = count();
	} else {
		@syscall[args.id] = count();
	}
	@process[comm] = count();
}

END
{
	display_map("\\nTop 10 syscalls IDs:\\n", @syscall);
	display_map("\\nTop 10 syscall names:\\n", @syscall_name);
	display_map("\\nTop 10 processes:\\n", @process);
}
`;

const WRITEBACK = `#!/usr/bin/env bpftrace
// writeback - trace file system writeback events with their duration

BEGIN
{
	printf("Tracing writeback... Hit Ctrl-C to end.\\n");
	printf("%-9s %-8s %-8s %-16s %s\\n", "TIME", "DEVICE", "PAGES", "REASON", "ms");

	// enum wb_reason
	@reason[0] = "background";
	@reason[1] = "vmscan";
	@reason[2] = "sync";
	@reason[3] = "periodic";
	@reason[4] = "laptop_timer";
	@reason[5] = "free_more_memory";
	@reason[6] = "fs_free_space";
	@reason[7] = "forker_thread";
}

tracepoint:writeback:writeback_start
{
	@start[args.sb_dev] = nsecs;
}

tracepoint:writeback:writeback_written
{
	$sb_dev = args.sb_dev;
	$s = @start[$sb_dev];
	delete(@start, $sb_dev);
	$lat = $s ? (nsecs - $s) / 1000 : 0;

	time("%H:%M:%S  ");
	printf("%-8s %-8d %-16s %d.%03d\\n", args.name, args.nr_pages & 0xffff,
	    @reason[args.reason], $lat / 1000, $lat % 1000);
}

END
{
	clear(@reason);
	clear(@start);
}
`;

const RUNQLAT = `#!/usr/bin/env bpftrace
/*
 * runqlat - CPU scheduler run queue latency as a histogram.
 */
#ifndef BPFTRACE_HAVE_BTF
#include <linux/sched.h>
#else
#define TASK_RUNNING 0
#endif

BEGIN
{
	printf("Tracing CPU scheduler... Hit Ctrl-C to end.\\n");
}

tracepoint:sched:sched_wakeup,
tracepoint:sched:sched_wakeup_new
{
	@qtime[args.pid] = nsecs;
}

tracepoint:sched:sched_switch
{
	if (args.prev_state == TASK_RUNNING) {
		@qtime[args.prev_pid] = nsecs;
	}

	$ns = @qtime[args.next_pid];
	if $ns {
		@usecs = hist((nsecs - $ns) / 1000);
	}
	$ignore = delete(@qtime, args.next_pid);
	if (!$ns) {
		return;
	}
}

END
{
	clear(@qtime);
}
`;

test('tools: biolatency, biosnoop, bitesize, vfscount, vfsstat, syscount, writeback, runqlat', () => {
  const table: [string, string, string][] = [
    [
      'biolatency.bt',
      BIOLATENCY,
      `BEGIN { printf("Tracing block device I/O... Hit Ctrl-C to end.\\n") }
tracepoint:block:block_bio_queue { (= @start[args.sector] nsecs) }
tracepoint:block:block_rq_complete, tracepoint:block:block_bio_complete /@start[args.sector]/ { (= @usecs hist((/ (- nsecs @start[args.sector]) 1000))); delete(@start, args.sector) }
END { clear(@start) }`,
    ],
    [
      'biosnoop.bt',
      BIOSNOOP,
      `BEGIN { printf("%-12s %-7s %-16s %-6s %7s\\n", "TIME(ms)", "DISK", "COMM", "PID", "LAT(ms)") }
tracepoint:block:block_io_start { (= $key (tuple args.dev args.sector)); (= @start[$key] nsecs); (= @iopid[$key] pid); (= @iocomm[$key] comm) }
tracepoint:block:block_io_done /has_key(@start, (tuple args.dev args.sector))/ { (= $key (tuple args.dev args.sector)); (= $now nsecs); (= $major (>> args.dev 20)); (= $minor (& args.dev (- (<< 1 20) 1))); printf("%-12u %-3d %-3d %-16s %-6d %7d\\n", (/ elapsed 1000000), $major, $minor, @iocomm[$key], @iopid[$key], (/ (- $now @start[$key]) 1000000)); delete(@start, $key); delete(@iopid, $key); delete(@iocomm, $key) }
END { clear(@start); clear(@iopid); clear(@iocomm) }`,
    ],
    [
      'bitesize.bt',
      BITESIZE,
      `BEGIN { printf("Tracing block device I/O... Hit Ctrl-C to end.\\n") }
tracepoint:block:block_rq_issue { (= @[args.comm] hist(args.bytes)) }
END { printf("\\nI/O size (bytes) histograms by process name:") }`,
    ],
    [
      'vfscount.bt',
      VFSCOUNT,
      `BEGIN { printf("Tracing VFS calls... Hit Ctrl-C to end.\\n") }
kprobe:vfs_* { (= @[func] count()) }`,
    ],
    [
      'vfsstat.bt',
      VFSSTAT,
      `BEGIN { printf("Tracing key VFS calls... Hit Ctrl-C to end.\\n") }
kprobe:vfs_read*, kprobe:vfs_write*, kprobe:vfs_fsync, kprobe:vfs_open, kprobe:vfs_create { (= @[func] count()) }
interval:1s { time(); print(@); clear(@) }
END { clear(@) }`,
    ],
    [
      'syscount.bt',
      SYSCOUNT,
      `macro display_map(description, @map) { printf((ident description)); print(@map, 10); clear(@map) }
BEGIN { printf("Counting syscalls... Hit Ctrl-C to end.\\n") }
tracepoint:raw_syscalls:sys_enter { (if getopt("sysname", false, "show syscall names instead of ids") { (= @syscall_name[syscall_name(args.id)] count()) } else { (= @syscall[args.id] count()) }); (= @process[comm] count()) }
END { display_map("\\nTop 10 syscalls IDs:\\n", @syscall); display_map("\\nTop 10 syscall names:\\n", @syscall_name); display_map("\\nTop 10 processes:\\n", @process) }`,
    ],
    [
      'writeback.bt',
      WRITEBACK,
      `BEGIN { printf("Tracing writeback... Hit Ctrl-C to end.\\n"); printf("%-9s %-8s %-8s %-16s %s\\n", "TIME", "DEVICE", "PAGES", "REASON", "ms"); (= @reason[0] "background"); (= @reason[1] "vmscan"); (= @reason[2] "sync"); (= @reason[3] "periodic"); (= @reason[4] "laptop_timer"); (= @reason[5] "free_more_memory"); (= @reason[6] "fs_free_space"); (= @reason[7] "forker_thread") }
tracepoint:writeback:writeback_start { (= @start[args.sb_dev] nsecs) }
tracepoint:writeback:writeback_written { (= $sb_dev args.sb_dev); (= $s @start[$sb_dev]); delete(@start, $sb_dev); (= $lat (? $s (/ (- nsecs $s) 1000) 0)); time("%H:%M:%S  "); printf("%-8s %-8d %-16s %d.%03d\\n", args.name, (& args.nr_pages 65535), @reason[args.reason], (/ $lat 1000), (% $lat 1000)) }
END { clear(@reason); clear(@start) }`,
    ],
    [
      'runqlat.bt',
      RUNQLAT,
      `#define TASK_RUNNING 0
BEGIN { printf("Tracing CPU scheduler... Hit Ctrl-C to end.\\n") }
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { (= @qtime[args.pid] nsecs) }
tracepoint:sched:sched_switch { (if (== args.prev_state 0) { (= @qtime[args.prev_pid] nsecs) }); (= $ns @qtime[args.next_pid]); (if $ns { (= @usecs hist((/ (- nsecs $ns) 1000))) }); (= $ignore delete(@qtime, args.next_pid)); (if (! $ns) { (return) }) }
END { clear(@qtime) }`,
    ],
  ];
  for (const [name, text, expected] of table) {
    const p = program(text, name);
    assert.equal(printAst(p), expected, name);
    assert.equal(p.shebang, '#!/usr/bin/env bpftrace', name);
  }
});

test('tool details: probe locations span their attach points; TASK_RUNNING comes from the #else branch', () => {
  const p = program(RUNQLAT, 'runqlat.bt');
  assert.deepEqual(p.defines.map((d) => [d.name, d.value, d.loc.line]), [['TASK_RUNNING', '0', 8]]);
  assert.deepEqual(p.includes, [], 'the #include is in the branch not taken');
  const wakeup = p.probes[1]!;
  assert.deepEqual(wakeup.loc, { line: 16, col: 1, endLine: 17, endCol: 34 });
  assert.deepEqual(wakeup.attachPoints.map((a) => [a.provider, a.parts, a.loc.line]), [
    ['tracepoint', ['sched', 'sched_wakeup'], 16],
    ['tracepoint', ['sched', 'sched_wakeup_new'], 17],
  ]);
  const ifStmt = p.probes[2]!.block.stmts[0]!;
  assert.equal(ifStmt.kind, 'If');
  if (ifStmt.kind === 'If' && ifStmt.cond.kind === 'Binary' && ifStmt.cond.right.kind === 'Int') {
    assert.equal(ifStmt.cond.right.value, 0n);
    assert.equal(ifStmt.cond.right.raw, '0');
    assert.deepEqual(ifStmt.cond.right.loc, { line: 24, col: 25, endLine: 24, endCol: 37 }, 'the use of TASK_RUNNING');
  } else {
    assert.fail('if (args.prev_state == TASK_RUNNING)');
  }
});

test('precedence: C order, left associative, ternary lowest', () => {
  const table: [string, string][] = [
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['1 - 2 - 3', '(- (- 1 2) 3)'],
    ['8 / 4 / 2', '(/ (/ 8 4) 2)'],
    ['a || b && c', '(|| (ident a) (&& (ident b) (ident c)))'],
    ['a && b || c', '(|| (&& (ident a) (ident b)) (ident c))'],
    ['1 | 2 ^ 3 & 4', '(| 1 (^ 2 (& 3 4)))'],
    ['1 == 2 < 3', '(== 1 (< 2 3))'],
    ['1 < 2 << 3', '(< 1 (<< 2 3))'],
    ['1 << 2 + 3', '(<< 1 (+ 2 3))'],
    ['$a % 3 + 1', '(+ (% $a 3) 1)'],
    ['$a >= 1 != $b <= 2', '(!= (>= $a 1) (<= $b 2))'],
    ['-1 - -2', '(- (- 1) (- 2))'],
    ['!$a && ~$b', '(&& (! $a) (~ $b))'],
    ['*$p + 1', '(+ (* $p) 1)'],
    ['&$x', '(& $x)'],
    ['$c ? 1 : 2', '(? $c 1 2)'],
    ['$a > 0 ? $a - 1 : 0', '(? (> $a 0) (- $a 1) 0)'],
    ['$a ? 1 : $b ? 2 : 3', '(? $a 1 (? $b 2 3))'],
    ['$a ?: 5', '(?: $a 5)'],
    ['$a || $b ? 1 : 2', '(? (|| $a $b) 1 2)'],
  ];
  for (const [text, expected] of table) assert.equal(expr(text), expected, text);
});

test('casts, field access, indexing, increments', () => {
  const table: [string, string][] = [
    ['(uint32)$x + 1', '(+ (cast uint32 $x) 1)'],
    ['(uint32)($x + 1)', '(cast uint32 (+ $x 1))'],
    ['(struct request *)arg0', '(cast struct request * arg0)'],
    ['((struct request *)arg0)->__data_len', '(cast struct request * arg0)->__data_len'],
    ['(struct request *)arg0->q', '(cast struct request * arg0->q)'],
    ['(int8[8])12345', '(cast int8[8] 12345)'],
    ['(int8[])"str"', '(cast int8[] "str")'],
    ['(char **)arg1', '(cast char ** arg1)'],
    ['(union u *)$p', '(cast union u * $p)'],
    ['(enum Foo)1', '(cast enum Foo 1)'],
    ['(uint64)-1', '(cast uint64 (- 1))'],
    ['((uint64)$v) - 8', '(- (cast uint64 $v) 8)'],
    ['(pid) * 2', '(* pid 2)'],
    ['(arg0)', 'arg0'],
    ['args.filename', 'args.filename'],
    ['args->filename', 'args->filename'],
    ['$x->y.z', '$x->y.z'],
    ['curtask.fs.pwd.dentry', 'curtask.fs.pwd.dentry'],
    ['$t.0', '$t.0'],
    ['$kv.1.0', '$kv.1.0'],
    ['$t[1]', '$t[1]'],
    ['$path[0] != "/"[0]', '(!= $path[0] "/"[0])'],
    ['@a[1, 2]', '@a[(tuple 1 2)]'],
    ['@a[(1, 2)]', '@a[(tuple 1 2)]'],
    ['@a[1][2]', '@a[1][2]'],
    ['@', '@'],
    ['@x', '@x'],
    ['$1 + $#', '(+ $1 $#)'],
    ['true != false', '(!= true false)'],
    ['kstack(perf, 5)', 'kstack((ident perf), 5)'],
    ['pid()', 'pid()'],
    ['sizeof(struct task_struct)', 'sizeof(struct task_struct)'],
    ['sizeof(uint32)', 'sizeof(uint32)'],
    ['sizeof($x)', 'sizeof($x)'],
    ['sizeof(x)', 'sizeof((ident x))'],
    ['offsetof(struct mount, mnt)', 'offsetof(struct mount, mnt)'],
    ['offsetof(struct a, b.c)', 'offsetof(struct a, b.c)'],
    ['offsetof($x, f)', 'offsetof($x, f)'],
    ['(1, "a", (2, 3))', '(tuple 1 "a" (tuple 2 3))'],
    ['(1,)', '(tuple 1)'],
    ['()', '(tuple)'],
    ['(a = 1, b = "x")', '(record a=1 b="x")'],
    ['(struct mount *)(((uint64)$vfsmnt) - offsetof(struct mount, mnt))', '(cast struct mount * (- (cast uint64 $vfsmnt) offsetof(struct mount, mnt)))'],
  ];
  for (const [text, expected] of table) assert.equal(expr(text), expected, text);
  assert.deepEqual(stmts('$x++; $x--; ++@c; --@c[1]; @x += 2; @x <<= 1; $y -= $x; @h[comm] |= 4;'), [
    '(post++ $x)',
    '(post-- $x)',
    '(pre++ @c)',
    '(pre-- @c[1])',
    '(+= @x 2)',
    '(<<= @x 1)',
    '(-= $y $x)',
    '(|= @h[comm] 4)',
  ]);
});

test('statements: if/else, loops, let, return/break/continue, blocks, discard', () => {
  assert.deepEqual(
    stmts(
      'if ($x > 1) { return; } else if $y { @a = 1 } else { exit(); } ' +
        'for ($kv : @m) { print($kv.0); } for $i : 0..10 { $s += $i; if ($i == 5) { break } continue; } ' +
        'for ($j : ((uint64)0)..((uint64)$n)) { } ' +
        'while ($i < 3) { $i++ } unroll(3) { @x = 1 } unroll 2 { } ' +
        'let $a: uint32 = 5; let $b; let $c = "s"; let $d: struct x *; ' +
        '_ = delete(@m, 1); { $q = 1 }; ; return 2',
    ),
    [
      '(if (> $x 1) { (return) } else (if $y { (= @a 1) } else { exit() }))',
      '(for $kv @m { print($kv.0) })',
      '(for $i 0..10 { (+= $s $i); (if (== $i 5) { (break) }); (continue) })',
      '(for $j (cast uint64 0)..(cast uint64 $n) { })',
      '(while (< $i 3) { (post++ $i) })',
      '(unroll 3 { (= @x 1) })',
      '(unroll 2 { })',
      '(let $a : uint32 = 5)',
      '(let $b)',
      '(let $c = "s")',
      '(let $d : struct x *)',
      '(_= delete(@m, 1))',
      '{ (= $q 1) }',
      '(return 2)',
    ],
  );
});

test('top-level declarations: config, map declarations, imports, C definitions, macros, defines', () => {
  const p = program(
    [
      'config = { missing_probes = warn; max_map_keys = 10_000; str_trunc_trailer = ".."; print_maps_on_exit = false }',
      'import "lib";',
      '#define AF_INET 2',
      '#include <linux/socket.h>',
      'struct qstr2 { const char *name; };',
      'let @rqtp = lruhash(4096);',
      'macro add(@m, $v, k) { @m[k] += $v; }',
      'BEGIN { @x = AF_INET; }',
    ].join('\n'),
  );
  assert.equal(
    printAst(p),
    [
      '#define AF_INET 2',
      '#include <linux/socket.h>',
      'config = { missing_probes = warn; max_map_keys = 10000; str_trunc_trailer = ".."; print_maps_on_exit = false }',
      'import "lib"',
      'struct qstr2 { const char *name; };',
      'let @rqtp = lruhash(4096)',
      'macro add(@m, $v, k) { (+= @m[(ident k)] $v) }',
      'BEGIN { (= @x 2) }',
    ].join('\n'),
  );
  assert.deepEqual(
    p.config.map((c) => [c.key, c.value]),
    [
      ['missing_probes', { kind: 'ident', value: 'warn' }],
      ['max_map_keys', { kind: 'int', value: 10000n }],
      ['str_trunc_trailer', { kind: 'string', value: '..' }],
      ['print_maps_on_exit', { kind: 'bool', value: false }],
    ],
  );
  assert.deepEqual(p.mapDecls[0], { kind: 'MapDecl', loc: { line: 6, col: 1, endLine: 6, endCol: 26 }, name: '@rqtp', mapType: 'lruhash', maxEntries: 4096n });
  assert.deepEqual(p.macros[0]!.params.map((x) => x.kind), ['Map', 'Variable', 'Identifier']);
});

test('attach points: provider, parts, labels, trailing comma', () => {
  const p = program(
    'uprobe:/bin/bash:readline, uprobe:bin:cpp:"ns::f", interval:1s, BEGIN, kprobe:fn+16,\n' +
      '  usdt:*:probe, watchpoint:0x1000:8:rw, profile:hz:99, { }\n' +
      'name=kprobe:vfs_read { }',
  );
  const aps = p.probes[0]!.attachPoints.map((a) => [a.raw, a.provider, a.parts]);
  assert.deepEqual(aps, [
    ['uprobe:/bin/bash:readline', 'uprobe', ['/bin/bash', 'readline']],
    ['uprobe:bin:cpp:"ns::f"', 'uprobe', ['bin', 'cpp', 'ns::f']],
    ['interval:1s', 'interval', ['1s']],
    ['BEGIN', 'BEGIN', []],
    ['kprobe:fn+16', 'kprobe', ['fn+16']],
    ['usdt:*:probe', 'usdt', ['*', 'probe']],
    ['watchpoint:0x1000:8:rw', 'watchpoint', ['0x1000', '8', 'rw']],
    ['profile:hz:99', 'profile', ['hz', '99']],
  ]);
  assert.deepEqual(p.probes[0]!.loc, { line: 1, col: 1, endLine: 2, endCol: 54 });
  const labelled = p.probes[1]!;
  assert.equal(labelled.name, 'name');
  assert.deepEqual(labelled.attachPoints[0], { kind: 'AttachPoint', loc: { line: 3, col: 6, endLine: 3, endCol: 21 }, raw: 'kprobe:vfs_read', provider: 'kprobe', parts: ['vfs_read'] });
  assert.deepEqual(splitAttachPoint('a:"x\\"y":b'), ['a', 'x"y', 'b']);
});

test('predicates: division inside, a slash before the block closes it', () => {
  assert.equal(printed('kprobe:f /arg0 / 2 > 1/ { }'), 'kprobe:f /(> (/ arg0 2) 1)/ { }');
  assert.equal(printed('kprobe:f /(arg0 / 2) > 1/ /* c */ { }'), 'kprobe:f /(> (/ arg0 2) 1)/ { }');
  assert.equal(printed('kprobe:f/pid/{ @ = 1 }'), 'kprobe:f /pid/ { (= @ 1) }');
  assert.equal(printed('BEGIN /$1 > 0 && comm == "x"/ {}'), 'BEGIN /(&& (> $1 0) (== comm "x"))/ { }');
});

test('nodes carry locations and literal details', () => {
  const p = program('BEGIN {\n  @start[tid, 1] = 0x10 + 5ms;\n  $p = ((struct path *)arg0)->dentry;\n}');
  const [assign, cast] = p.probes[0]!.block.stmts;
  assert.ok(assign?.kind === 'Assign' && assign.target.kind === 'MapAccess' && assign.value.kind === 'Binary');
  assert.deepEqual(assign.loc, { line: 2, col: 3, endLine: 2, endCol: 30 }, 'statement without its semicolon');
  assert.deepEqual(assign.target.loc, { line: 2, col: 3, endLine: 2, endCol: 17 });
  assert.deepEqual(assign.target.key.loc, { line: 2, col: 10, endLine: 2, endCol: 16 });
  assert.equal(assign.target.key.kind, 'Tuple');
  const [hex, ms] = [assign.value.left, assign.value.right];
  assert.deepEqual([hex, ms].map((n) => (n.kind === 'Int' ? [n.value, n.raw] : [])), [[16n, '0x10'], [5_000_000n, '5ms']]);
  assert.ok(cast?.kind === 'Assign' && cast.value.kind === 'FieldAccess');
  assert.equal(cast.value.arrow, true);
  // As in bpftrace, grouping parentheses are not part of the inner expression's span.
  assert.deepEqual(cast.value.loc, { line: 3, col: 9, endLine: 3, endCol: 37 });
  assert.deepEqual(p.probes[0]!.block.loc, { line: 1, col: 7, endLine: 4, endCol: 2 });
  assert.deepEqual(p.loc, { line: 1, col: 1, endLine: 4, endCol: 2 });
});

test('an empty script and a comment-only script are empty programs', () => {
  assert.equal(program('').probes.length, 0);
  assert.equal(program('// nothing\n/* here */\n').probes.length, 0);
});

test('robustness: every prefix and every one-character deletion of the tools ends in a program or diagnostics, never a throw', () => {
  for (const text of [BIOLATENCY, BIOSNOOP, BITESIZE, VFSCOUNT, VFSSTAT, SYSCOUNT, WRITEBACK, RUNQLAT]) {
    for (let i = 0; i <= text.length; i++) {
      for (const variant of [text.slice(0, i), text.slice(0, i) + text.slice(i + 1)]) {
        const source = new SourceFile('f.bt', variant);
        const r = parse(source);
        assert.ok(r.program !== undefined || r.diagnostics.length > 0, JSON.stringify(variant));
        renderDiagnostics(r.diagnostics, source);
      }
    }
  }
});

test('childNodes walks every node: the same ones a walk over all properties finds, in source order', () => {
  const text = [
    '#define N 2',
    '#include <linux/sched.h>',
    'config = { max_map_keys = 16 }',
    'import "x";',
    'struct s { int a; };',
    'let @d = hash(4);',
    'macro m($a, @b, c) { $a + c }',
    'kprobe:vfs_read, t:block:*, i:s:1 /pid > 0/ {',
    '  let $v: uint8[2] = (uint8)1; $t = (1, "a"); $r = (x = 1, y = -$v);',
    '  @m[comm, $t.0] = count(); @d[1] = sizeof(struct request *) + offsetof(struct request, __data_len) + sizeof($v);',
    '  if (@m[comm, 1]) { $v++; } else if ($v) { print(((struct request *)arg0)->__data_len); } else { $s = $v ? 1 : 2; $u = $v ?: 3; }',
    '  while ($v < 2) { $v++; continue; } for ($kv : @m) { break; } for ($i : 0..2) { $x = $i[0]; } unroll(2) { @n++; }',
    '  $w = m($v, @d, $#) + $1; $b = true; return;',
    '}',
  ].join('\n');
  const root = program(text);
  // every object with a string `kind` under the tree, found through all of its properties
  const reflected: object[] = [];
  const reflect = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(reflect);
    if (typeof v !== 'object' || v === null) return;
    if ('kind' in v && typeof v.kind === 'string' && !('value' in v && !('loc' in v))) reflected.push(v);
    for (const [key, child] of Object.entries(v)) if (key !== 'loc') reflect(child);
  };
  reflect(root);
  const walked: object[] = [];
  const walk = (n: A.Node): void => {
    walked.push(n);
    for (const c of A.childNodes(n)) walk(c);
  };
  walk(root);
  assert.equal(walked.length, reflected.length);
  assert.ok(walked.every((n, i) => n === reflected[i]));
  // the program has every kind of node
  const kinds = new Set(walked.map((n) => (n as A.Node).kind));
  assert.deepEqual(
    [...kinds].sort(),
    [
      'ArrayType', 'Assign', 'AttachPoint', 'Binary', 'Block', 'Bool', 'Break', 'Builtin', 'CDefinition', 'Call', 'Cast', 'ConfigEntry', 'Continue', 'Define',
      'ExprStmt', 'FieldAccess', 'ForMap', 'ForRange', 'Identifier', 'If', 'Import', 'Include', 'Index', 'Int', 'Let', 'MacroDef', 'Map', 'MapAccess',
      'MapDecl', 'NamedType', 'Offsetof', 'PointerType', 'Positional', 'PositionalCount', 'Probe', 'Program', 'Record', 'Return', 'Sizeof', 'String',
      'TaggedType', 'Ternary', 'Tuple', 'TupleAccess', 'Unary', 'Unroll', 'Variable', 'While',
    ],
  );
});
