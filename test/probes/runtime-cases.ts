// The runtime golden cases (program, scenario, seed, duration -> test/probes/goldens/NAME.out),
// shared by runtime.test.ts, which runs them, and lang/fuzz.test.ts, which mutates their programs.

export interface Case {
  readonly name: string;
  readonly program: string;
  readonly scenario: string;
  readonly seed: number;
  readonly durationNs: number;
  readonly format?: 'text' | 'json';
  readonly positional?: readonly string[];
  /** A script under traces/scripts instead of `program`. */
  readonly file?: string;
  /** BPFTRACE_DUMMY_TS_MAP: tseries() takes its time from this map. */
  readonly dummyTsMap?: string;
  /** __BPFTRACE_NOTIFY_PROBES_ATTACHED: the attach notice bpftrace's test framework waits for. */
  readonly notifyProbesAttached?: boolean;
  /** --no-warnings. */
  readonly noWarnings?: boolean;
  /** --unsafe. */
  readonly unsafe?: boolean;
}

export const CASES: readonly Case[] = [
  { name: 'hello', program: 'BEGIN { printf("hello world\\n"); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'opensnoop-like', program: 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args.filename)); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'syscall-count', program: 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }', scenario: 'default', seed: 1, durationNs: 50e6 },
  { name: 'read-size-lhist', program: 'kretprobe:vfs_read { @bytes = lhist(retval, 0, 8192, 1024); }', scenario: 'default', seed: 1, durationNs: 20e6 },
  { name: 'vfs-read-latency', program: 'kprobe:vfs_read { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); delete(@start, tid); }', scenario: 'default', seed: 1, durationNs: 20e6 },
  { name: 'sched-wildcard', program: 'tracepoint:sched:sched* { @[probe] = count(); } interval:ms:50 { exit(); }', scenario: 'default', seed: 1, durationNs: 1e9 },
  { name: 'rq-issue-bytes', program: 'tracepoint:block:block_rq_issue { @ = hist(args.bytes); }', scenario: 'default', seed: 1, durationNs: 50e6 },
  { name: 'vfs-open-path', program: 'kprobe:vfs_open { printf("open path: %s\\n", str(((struct path *)arg0)->dentry->d_name.name)); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'blocking-read-steps', program: 'tracepoint:syscalls:sys_enter_read, tracepoint:filemap:mm_filemap_get_pages, tracepoint:kiotrace:folio_wait, tracepoint:nvme:nvme_setup_cmd, tracepoint:kiotrace:device_fetch, tracepoint:kiotrace:dma_transfer, tracepoint:irq:irq_handler_entry, tracepoint:nvme:nvme_complete_rq, tracepoint:sched:sched_wakeup, tracepoint:syscalls:sys_exit_read /ioid != 0/ { printf("%-10d io=%d %s\\n", nsecs, ioid, probe); }', scenario: 'blocking-read', seed: 1, durationNs: 20e6 },
  { name: 'stats-and-json', program: 'kretprobe:vfs_read { @s = stats(retval); @c[comm] = count(); } interval:ms:20 { exit(); }', scenario: 'default', seed: 1, durationNs: 1e9, format: 'json' },
  // tutorial one-liners 9 and 10: kernel stacks as map keys
  { name: 'profile-kstack', program: 'profile:hz:99 { @[kstack] = count(); }', scenario: 'default', seed: 1, durationNs: 100e6 },
  { name: 'sched-switch-kstack', program: 'tracepoint:sched:sched_switch { @[kstack] = count(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'rq-complete-kstack-json', program: 'tracepoint:block:block_rq_complete /ioid % 50 == 0/ { @[kstack(4)] = count(); }', scenario: 'default', seed: 1, durationNs: 10e6, format: 'json' },
  { name: 'script-iopaths', program: '', file: 'iopaths.bt', scenario: 'default', seed: 1, durationNs: 30e6 },
  { name: 'records', program: 'BEGIN { $r = (a=1, b="x", t=(2, "y")); print($r); printf("%d %s %d\\n", $r.a, $r.b, $r.t.0); @r = (a=2, b="y"); @k[(a=1, b="k")] = 3; exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'records-json', program: 'BEGIN { $r = (a=1, b="x"); print($r); @r = (a=2, b="y"); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6, format: 'json' },
  { name: 'kstack-printf', program: 'kprobe:vfs_read { printf("%s", kstack(3)); exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // a pointer kept in a map (or a variable) and cast at the return, as bpftrace reads the memory
  { name: 'stored-pointer-cast', program: 'kprobe:vfs_open { @path[tid] = arg0; $p = arg0; printf("entry %s\\n", str(((struct path *)$p)->dentry->d_name.name)); } kretprobe:vfs_open /@path[tid]/ { printf("return %s\\n", str(((struct path *)@path[tid])->dentry->d_name.name)); delete(@path, tid); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'bare-struct-cast', program: 'kprobe:vfs_write { @[str(((file *)arg0)->f_path.dentry->d_name.name)] = count(); }', scenario: 'default', seed: 1, durationNs: 20e6 },
  { name: 'include-constants', program: '#include <linux/sched.h>\n#include <linux/socket.h>\nBEGIN { printf("%d %d %d %d\\n", TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, AF_INET6); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  {
    name: 'macros',
    program:
      'macro add1(x) { x + 1 } macro bump($v) { $v = $v + 10 } macro show(desc, @m) { printf(desc); print(@m); clear(@m); } macro local() { $t = 99; $t } BEGIN { $a = 1; bump($a); @c[1] = 5; printf("%d %d\\n", add1(2), $a); show("maps:\\n", @c); $t = 3; printf("%d %d\\n", local(), $t); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  {
    name: 'getopt',
    program: 'BEGIN { printf("%d %d %s %d %s %d\\n", getopt("flag"), getopt("depth", 35, "max depth"), getopt("name", "none"), getopt("off", true), str($1), $#); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
    positional: ['pos1', '--flag', '--depth=7', '--off=false'],
  },
  { name: 'curtask-parent', program: 'kprobe:do_nanosleep { @[comm, curtask->real_parent->pid, curtask->real_parent->comm] = count(); }', scenario: 'default', seed: 1, durationNs: 100e6 },
  { name: 'kstack-len', program: 'kprobe:vfs_read { @d[len(kstack)] = count(); @z[len(ustack), len(kstack(2))] = count(); }', scenario: 'default', seed: 1, durationNs: 5e6 },
  {
    name: 'string-functions',
    program: 'tracepoint:sched:sched_switch /strncmp(args.prev_comm, "kworker", 7) == 0/ { @[args.prev_comm] = count(); } BEGIN { printf("%d %d %d %d %d %d\\n", strcontains("fsync-writer", "sync"), strcontains("a", "b"), strstr("hello", "ll"), strstr("a", "z"), strlen("h\\xc3\\xa9llo"), strncmp("abc", "abd", 3)); }',
    scenario: 'default',
    seed: 1,
    durationNs: 6e9,
  },
  { name: 'positional', program: 'BEGIN { printf("%d %s %d\\n", $1, str($2), $#); }', scenario: 'default', seed: 1, durationNs: 1e6, positional: ['42', 'abc'] },
  // macros as bpftrace's tests use them: the same macro nested in its own argument, and a macro without parameters used as a bare name (syscount's `if sysname`)
  {
    name: 'macro-nested-bare',
    program: 'macro add_one(x) { x + 1 } macro one() { $x = 1; $x } macro flag() { getopt("flag", false) } BEGIN { print(add_one(add_one(add_one(1)))); $a = add_one(add_one(1) + 1); print($a); print(one); if flag { print("flag"); } else { print("no flag"); } }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  // exit() ends the firing at once (with a warning for what follows it) and no probe fires after it
  { name: 'exit-immediate', program: 'BEGIN { printf("one\\n"); exit(); printf("after\\n"); } BEGIN { printf("second begin\\n"); } interval:ms:1 { @++; if (@) { exit(); } @++ } END { printf("end\\n"); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'exit-interval', program: 'interval:ms:1 { @++; if (@) { exit(); } @++ } kprobe:vfs_read { @reads = count(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // the typed pass: values print by their static types (bpftrace's runtime cases call, bool, array, pointers, other, struct, tuples)
  { name: 'print-unset-scalar', program: 'BEGIN { print(@); print(@s); print(@r); } END { @ = 1; @s = stats(1); @r = (a=1, b=(2, "hi")); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'casts-bool-array', program: 'BEGIN { print(((bool)5, (bool)0)); @b = (bool)@c; @c = count(); print((int8[])"hello"); printf("byte: %x\\n", ((int8[])12345)[0]); @a = (bool[2])(uint16)1; @u = (uint8[4])(uint32)0x01020304; exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'pointer-arithmetic', program: 'BEGIN { @ = (int8 *) 0x32; @ += 1; $p = (int32 *)0x10; $p += 2; print($p); print(($p + 1, $p - 1, $p + 1 > $p, $p == (int32 *)0x18)); @q = (uint64 *)0 + 3; exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  {
    name: 'enums',
    program:
      'enum { ONE = 1, TWO = 2 }; enum BAZ { FOO = 333, BAR }; BEGIN { @[ONE] = 11; @[TWO] = 22; @t[ONE, TWO, ONE] = -1; @v = ONE; @w = (ONE, TWO); @n[ONE + 1] = TWO + 1; @n[ONE] = ONE; print((enum BAZ)333); $x = 444; print((enum BAZ)$x); printf("%d %s %-5s|\\n", BAR, BAR, FOO); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  {
    name: 'user-structs',
    program:
      'struct foo { int x; char y; int z; } struct bar { int x; char y; int z; } __attribute__((packed)) struct Out { int a; struct foo e; char z[3]; long l; } BEGIN { $t = ((int8)1, (int64)1, (int8)1, (int64)1); printf("%d %d %d %d %d %d\\n", sizeof(struct foo), sizeof(struct bar), sizeof(struct Out), offsetof(struct Out, e.z), offsetof(struct Out, l), sizeof($t)); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  { name: 'refused-strcontains-int', program: 'BEGIN { strcontains("foo", 1) }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // block expressions (a value after statements, also as a macro argument and an aggregation's), and &$a as an address into the probe's frame
  {
    name: 'block-expressions',
    program:
      'macro inc(x) { $y = x + 1; $z = x + 2; $y + $z } macro thrice(x) { x; x; x; } BEGIN { print({ $x = 1; print("bob"); $x > 1 }); if ({ let $a = true; $a }) { print("yes"); } _ = { print(1); 1 }; $y = 2; print(inc({ $y += 1; $y })); thrice({ printf("hi") }); printf("\\n"); @ = { let $a = 100; avg($a) }; exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  { name: 'variable-address', program: 'BEGIN { $a = 1; $b = &$a; print(($b, *$b)); $t = (1, "hello", 2); print(*(&$t)); $s = "hello"; $p = (int8 *)&$s; printf("%c %c %c\\n", *$p, *++$p, *($p + 3)); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // typed code generation: number comparisons of builtins and literals, hist() of a number, count/sum near their types' edges, pointer ++ in maps
  {
    name: 'typed-numbers',
    program:
      'kprobe:vfs_read /pid > 0 && tid >= 1 && cpu < 64 && 5 != 6/ { @h = hist(arg2); @c[comm] = count(); @s = sum(arg2); } BEGIN { @big = sum(9223372036854775807); @big = sum(1); @u = sum((uint8)200); @u = sum((uint8)100); @p = (int8 *)0x32; @p++; @m[1] = (uint32 *)0; @m[1]++; }',
    scenario: 'default',
    seed: 1,
    durationNs: 5e6,
  },
  // every bpftrace 0.24 config key is taken (license checked), strings end at a NUL, __builtin_ names, pointers to declared structs
  {
    name: 'config-strings-builtins',
    program:
      'config = { license = "Dual BSD/GPL"; on_stack_limit = 0; stack_mode = bpftrace; str_trunc_trailer = ".."; max_cat_bytes = 100; unstable_macro = enable } struct A { int32_t a; int32_t b; char c[28] }; BEGIN { $s = "hello\\0world"; printf("%d %d %d\\n", strcontains($s, "world"), strcontains("hello world", "wo\\0rld"), strlen($s)); printf("%s %d\\n", __builtin_comm, __builtin_pid == pid); $a = (struct A *)1024; printf("%lu - 5 x %lu = %lu\\n", $a, sizeof(struct A), $a - 5); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  { name: 'refused-license', program: 'config = { license = "Potato" } BEGIN { exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // typeof(expr|type) where a type is written: let annotations (in a macro too), casts, sizeof; C integer casts wrap
  {
    name: 'typeof',
    program:
      'macro add(x) { let $y: typeof(x); if (true) { $y = 1 } x + $y } BEGIN { print(add(1)); let $a: typeof(size_t) = 1; let $b: typeof(size_t*) = &$a; $d = (char)1; print(($a, *$b, (uint64_t)1, $d, (int)0x100000001)); $x = (uint16)5; print(((typeof($x))70000, sizeof(typeof($x)), sizeof(typeof(struct task_struct *)), sizeof(typeof((1, "ab"))))); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  // pure-function builtins: buf() and %r/%rx/%rh, pton/ntop, signal_name, jiffies, numaid, username, nsecs(mode), strftime's dates (1970 without --epoch), nested struct definitions
  {
    name: 'pure-builtins',
    program:
      'struct Foo { int x; struct Bar { int x; } bar; union { char c; long l; } u; } BEGIN { @[buf("ok_key", 7), 1] = count(); @b = buf("ok_value", 8); printf("%rx|%rh|%r\\n", buf("Hello\\0", 6), buf("Hello\\0", 6), buf("Hi\\x01", 3)); printf("IP: %s %s %s %x\\n", ntop(2, pton("127.0.0.1")), ntop(10, pton("::1")), ntop(10, pton("fe80::1:0:0:0:2")), (uint32)pton("127.0.0.1")); printf("%s %s %llu %d %s\\n", signal_name(9), signal_name(15), jiffies, numaid, username); printf("%llu %llu %s\\n", nsecs(boot), nsecs(tai), strftime("%m/%d/%y %Y-%m-%d %H:%M:%S %j %a %b %T", nsecs)); printf("%ld %ld %ld %ld\\n", offsetof(struct Foo, x), offsetof(struct Foo, bar.x), offsetof(struct Foo, u), sizeof(struct Foo)); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  // if as an expression, bswap, and assert (bpftrace's stdlib macro: the error where the stdlib has it, exit 1, no further firing)
  {
    name: 'if-expr-assert',
    program:
      'BEGIN { $x = 2; $z = if ($x > 1) { 5 } else { 6 }; print($z); print(if ($x == 1) { "one" } else if ($x == 2) { "two" } else { "many" }); @m = if (pid > 0) { $x * 10 } else { 0 }; printf("%x %x\\n", bswap((uint16)0x1234), bswap((uint32)0x12345678)); assert($x == 2, "fine"); assert($x == 3, "x is not 3"); print("not reached"); } END { print("end"); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  // warnings bpftrace gives: errorf/warnf inside macros say where each was expanded from; a declared map nothing uses
  { name: 'macro-errorf-unused-map', program: 'let @a = percpuhash(1); macro bad() { errorf("Something bad"); } macro worse() { bad(); } BEGIN { worse(); warnf("plain"); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // delete() with a key read from a tuple's field while iterating the map
  { name: 'delete-tuple-field', program: 'BEGIN { @[0, 0, 0] = 1; @[0, 0, 1] = 1; @[0, 1, 0] = 1; @[1, 0, 0] = 1; for ($kv : @) { if ($kv.0.1 == 1) { delete(@, $kv.0); } } exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // typeof() passed to macros: the parameter stands for the type where a type is written
  {
    name: 'macro-typeof-args',
    program:
      'struct Foo { char m; } macro cst(a) { (a*)-1 } macro m(t) { sizeof(t) + 2 } macro n(z) { print(m(typeof(z))); } macro sof(a, b) { sizeof(a[2]) + sizeof(b*) + sizeof(b) } BEGIN { print(cst(typeof(uint8))); n(typeof(uint64*)); print(sof(typeof(uint64*), typeof(struct Foo))); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
  },
  // buffers compare by content, a record takes its variable's field order, kaddr() resolves nothing (no addresses here)
  { name: 'buf-record-kaddr', program: 'BEGIN { $a = buf("hi", 2); $b = buf("bye", 3); printf("equal=%d, unequal=%d\\n", $a == $a, $a != $b); $r = (foo={ printf("hello"); 1 }, bar={ printf("world"); 2 }); $r = (bar={ printf("hello"); 1 }, foo={ printf("world\\n"); 2 }); print($r); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'refused-kaddr', program: 'BEGIN { print(kaddr("asdfzzzzzzz")) }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // probetype, cgroup and config() builtins (also as __builtin_ names and with parentheses)
  { name: 'probetype-cgroup-config', program: 'config = { max_strlen = 64 } BEGIN { if (__builtin_probetype == probetype() && __builtin_probetype == probetype) { print(probetype); } if (config().max_strlen == __builtin_config.max_strlen) { printf("match %d %s\\n", config.max_strlen, config.missing_probes); } print(cgroup); } kprobe:vfs_read { print(probetype); exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // bpftrace's stdlib task aliases: ppid, pcomm, leader_tid, leader_comm, bare or called (with a task)
  { name: 'task-aliases', program: 'tracepoint:syscalls:sys_enter_clock_nanosleep, tracepoint:syscalls:sys_enter_execve { @[ppid, pcomm, leader_tid, leader_comm, ppid(curtask), pcomm()] = count(); }', scenario: 'default', seed: 1, durationNs: 50e6 },
  // execve's argv in the caller's memory: join() with its default and a given separator (execsnoop)
  { name: 'execve-join-argv', program: 'tracepoint:syscalls:sys_enter_execve { printf("%d %d %s: ", pid, ppid, str(args.filename)); join(args.argv); join(args.argv, ","); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // a syscall's struct pointer reads the caller's struct: args.rqtp directly, kept in a map, cast to struct timespec (naptime)
  {
    name: 'nanosleep-rqtp',
    program:
      'tracepoint:syscalls:sys_enter_clock_nanosleep /@n++ < 2/ { $p = args.rqtp; @rq[tid] = $p; printf("%s %d %d %d\\n", comm, $p.tv_sec, ((struct timespec *)args.rqtp)->tv_nsec, @rq[tid]->tv_nsec); } tracepoint:syscalls:sys_exit_clock_nanosleep /has_key(@rq, tid)/ { $t = @rq[tid]; printf("slept %d.%06d\\n", $t.tv_sec, $t.tv_nsec / 1000); delete(@rq, tid); }',
    scenario: 'default',
    seed: 1,
    durationNs: 100e6,
  },
  // kernel struct layouts: offsetof/sizeof, and container_of from a vfsmount back to its struct mount (opensnoop)
  {
    name: 'kernel-offsetof-container',
    program:
      'BEGIN { printf("%d %d %d %d %d\\n", offsetof(struct mount, mnt), offsetof(struct mount, mnt.mnt_root), sizeof(struct path), offsetof(struct __kernel_timespec, tv_nsec), sizeof(struct timespec)); } tracepoint:syscalls:sys_enter_openat /@n++ == 0/ { $v = curtask.fs.pwd.mnt; $mnt = (struct mount *)(((uint64)$v) - offsetof(struct mount, mnt)); printf("%d %d %s %s\\n", $mnt == $mnt.mnt_parent, (uint64)$v - (uint64)$mnt, str($mnt.mnt.mnt_root.d_name.name), str(curtask.fs.pwd.dentry.d_name.name)); }',
    scenario: 'default',
    seed: 1,
    durationNs: 10e6,
  },
  { name: 'refused-offsetof-kernel', program: 'BEGIN { print(offsetof(struct task_struct, pid)); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // kaddr("avenrun") and reading through it: the load average after the first fold at 5.001 s (loads)
  { name: 'kaddr-avenrun', program: 'interval:ms:5100 { $a = kaddr("avenrun"); printf("%d %d %d %d.%03d\\n", *$a, *($a + 8), *($a + 16), *$a >> 11, ((*$a & 2047) * 1000) >> 11); exit(); }', scenario: 'default', seed: 1, durationNs: 6e9 },
  // tseries(): the last value, min/avg aggregation, keyed series with gaps, the zero line, JSON, and the real clock
  {
    name: 'tseries-text',
    program:
      'config = { unstable_tseries = enable } BEGIN { @dir = 1; @c = -5; @ts = (uint64)100ms; } i:ms:1 { for ($i : 0..20) { @ = tseries(@c, 100ms, 20); @mn = tseries(@c, 200ms, 4, "min"); @av = tseries(@c, 200ms, 4, "avg"); @ts += 100ms; @c += @dir; if (@c > 5) { @dir = -1; @c = 4 } else if (@c < -5) { @dir = 1; @c = -4; } } for ($i : 0..3) { @k["one"] = tseries(5, 100ms, 10); @ts += 100ms; } for ($i : 0..3) { @k["two"] = tseries(4, 100ms, 10); @ts += 100ms; } clear(@ts); clear(@c); clear(@dir); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 10e6,
    dummyTsMap: '@ts',
  },
  {
    name: 'tseries-json',
    program: 'BEGIN { @ts = (uint64)1s; } i:ms:1 { for ($i : 0..100) { @a = tseries($i % 10, 100ms, 5, "max"); @k[$i % 2] = tseries($i, 1s, 2, "sum"); @ts += 10ms; } clear(@ts); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 10e6,
    format: 'json',
    dummyTsMap: '@ts',
  },
  { name: 'tseries-clock', program: 'interval:ms:7 { @ = tseries(cpu + (nsecs / 1000000) % 3, 20ms, 4, "max"); } interval:ms:100 { exit(); }', scenario: 'default', seed: 1, durationNs: 1e9 },
  // user stacks: fio's call chain at each syscall (and at a kprobe inside one), a refused mode
  { name: 'ustack-fio', program: 'tracepoint:syscalls:sys_enter_pread64, tracepoint:syscalls:sys_enter_clock_nanosleep, tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_enter_fsync, tracepoint:syscalls:sys_enter_write { @[comm, ustack(6)] = count(); } kprobe:vfs_read /comm == "seq-reader"/ { @u[ustack(bpftrace, 3)] = count(); }', scenario: 'default', seed: 1, durationNs: 30e6 },
  { name: 'refused-ustack-perf', program: 'BEGIN { print(ustack(perf)); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // %gr: GFP flags by name; enums in JSON: map keys and printf %s by name, values as numbers
  { name: 'printf-gfp-flags', program: 'BEGIN { printf("%gr|%gr|%gr|%-24gr|%gr\\n", 0x1, 0xcc0, 0, 0x400cc0, 0x100cca | (1 << 30)); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'enum-json', program: 'enum E { ONE = 1, TWO = 2 }; BEGIN { $r = (a=(enum E)1, b=TWO); print($r); print((enum E)2); printf("%d %s\\n", TWO, TWO); @w = TWO; @k[TWO, ONE] = 1; exit(); }', scenario: 'default', seed: 1, durationNs: 1e6, format: 'json' },
  // usermode (BEGIN/END in user space, kernel probes not), strerror's texts (bpftrace's table), usym of an address no program function has, the attach notice
  {
    name: 'usermode-strerror-usym',
    program: 'BEGIN { printf("%d %d %s|%s|%s\\n", usermode, usermode(), strerror(7), strerror(110), usym(0x1234)); } kprobe:vfs_read { printf("%d\\n", usermode); exit(); } END { print(usermode); }',
    scenario: 'default',
    seed: 1,
    durationNs: 10e6,
    notifyProbesAttached: true,
  },
  // config() holds every option (the program's values over the defaults); an integer literal cast to a wider array; warnf under --no-warnings
  {
    name: 'config-record-literal-array',
    program: 'config = { stack_mode = perf; max_strlen = 64 } BEGIN { printf("%d %s %d %s %d\\n", config().max_strlen, config().stack_mode, config().cpp_demangle, config.license, config.on_stack_limit); printf("first byte: %x\\n", ((int8[8])12345)[0]); warnf("not shown"); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
    noWarnings: true,
  },
  // an unsigned series (a uint64 modulo a literal stays unsigned): a flat line at 0 keeps 0 as its lower bound
  {
    name: 'tseries-unsigned-flat',
    program: 'config = { unstable_tseries = enable } BEGIN { @ts = (uint64)0; } i:ms:1 { for ($i : (uint64)0..100) { @a = tseries($i % 10, 100ms, 5, "min"); @ts += 10ms; } clear(@ts); exit(); }',
    scenario: 'default',
    seed: 1,
    durationNs: 10e6,
    dummyTsMap: '@ts',
  },
  // positional parameters read as C's strtoll base 0 (decimal, octal, hex, past INT64_MAX), as literals where one is needed, str($1) their text; getopt's integers likewise; a macro standing for printf's format
  {
    name: 'positional-bases-getopt',
    program: 'macro fmt() { "macro fmt %d\\n" } begin { printf("got: %d %o 0x%x %lu -%s-\\n", $1, $2, $3, $4, str($1)); @ = lhist(0, $5, $6, $7); print((getopt("aa", 20), getopt("cc", true))); printf(fmt(), 7); exit() }',
    scenario: 'default',
    seed: 1,
    durationNs: 1e6,
    positional: ['123', '0775', '0x123', '0xffffffffffffffff', '0', '10000', '1000', '--aa=0xffffffffffffffff', '--cc=False'],
  },
  { name: 'refused-getopt-integer', program: 'begin { print(getopt("aa", 10)); }', scenario: 'default', seed: 1, durationNs: 1e6, positional: ['--aa=False'] },
  // attach points that match nothing, as bpftrace's safe mode treats them: skipped with a warning (and the emptied probe removed) under missing_probes = warn; kprobe:vmlinux:F is F
  { name: 'missing-probes-warn', program: 'config = { missing_probes = warn } kprobe:vmlinux:vfs_read { @[probe] = count(); exit(); } t:syscalls:nonsense { exit(); } kprobe:vmlinux:nonsense { exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  { name: 'refused-missing-kprobe', program: 'kprobe:vfs_read, kprobe:bad { exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // a block used as a value that ends in an if/else statement takes that if's value (nested ifs); signal_name's strsignal texts
  { name: 'if-statement-value-signals', program: 'begin { let $x=1; let $y=2; let $z=3; print(if ($x) { if ($y) { if ($z) { $x } else { $y } } else { $z } } else { 0 }); $q = { if ($y > 5) { 1 } else if ($y > 1) { 2 } else { 3 } }; print($q); print((signal_name(2), signal_name(0), signal_name(1024), signal_name(40), strerror(0), strerror(-5), strerror(999))); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // perf's cpu-clock software event (alias cpu): a sampling timer every N ns on each CPU, named as written
  { name: 'software-cpu-clock', program: 'software:cpu-clock:100000 { @[probe, cpu] = count(); } software:cpu:1e6 { @n = count(); } interval:ms:2 { exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // program options: -- --help lists what getopt() reads, an option nothing reads is refused; a kprobe module that is not loaded; a wildcard matching nothing leaves its probe without attach points
  { name: 'refused-getopt-help', program: 'begin { print((getopt("aa", 10, "Description of aa"), getopt("bb", 1), getopt("cc"))); }', scenario: 'default', seed: 1, durationNs: 1e6, positional: ['--help'] },
  { name: 'refused-getopt-unexpected', program: 'begin { print(getopt("aa", 10)); }', scenario: 'default', seed: 1, durationNs: 1e6, positional: ['--bb'] },
  { name: 'refused-kprobe-module', program: 'kprobe:nonsense:vfs_read { exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'refused-wildcard-none', program: 'kprobe:rcu_* { exit(); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // a script's declaration of a kernel struct adds the members it names (their memory is not modelled: 0)
  { name: 'declared-kernel-struct-member', program: 'struct task_struct {int x;} i:ms:1 { printf("SUCCESS %d %d\\n", curtask.x, curtask.pid > 0); exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // per-CPU variables: percpu_kaddr(name[, cpu]) and reading through it (process_counts), a CPU's struct rq (nr_running)
  { name: 'percpu-kaddr', program: 'begin { printf("processes: %d\\n", *percpu_kaddr("process_counts", 0)); if (*percpu_kaddr("process_counts") == *percpu_kaddr("process_counts", cpu)) { printf("SUCCESS\\n") } } profile:hz:997 { @[cpu, ((struct rq *)percpu_kaddr("runqueues")).nr_running] = count(); } interval:ms:20 { exit(); }', scenario: 'default', seed: 1, durationNs: 50e6 },
  { name: 'refused-percpu-kaddr', program: 'begin { print(percpu_kaddr("nope", 0)); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  // write_user() needs --unsafe; under --unsafe a kprobe on a function the kernel lacks is kept and fails to attach (exit 1)
  { name: 'refused-write-user', program: 'tracepoint:syscalls:sys_enter_openat { write_user(args.filename, "x", 1); }', scenario: 'default', seed: 1, durationNs: 1e6 },
  { name: 'unsafe-missing-kprobe-attach', program: 'kprobe:vmlinux:nonsense { printf("SUCCESS %d\\n", pid); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6, unsafe: true },
  // a string parameter plus N is its tail (bpftrace's char * arithmetic)
  { name: 'positional-string-offset', program: 'begin { printf("%s|%s|%s\\n", str($1 + 1), str($1), str($1 + 2, 2)); exit(); }', scenario: 'default', seed: 1, durationNs: 1e6, positional: ['hello'] },
  // openat2's tracepoints exist (opensnoop attaches them without a warning) though no simulated program calls it
  { name: 'openat2-tracepoints', program: 'tracepoint:syscalls:sys_enter_openat2 { @[str(args.filename), args.usize] = count(); } tracepoint:syscalls:sys_exit_openat2 { @r = count(); } tracepoint:syscalls:sys_enter_openat { @o = count(); } interval:ms:5 { exit(); }', scenario: 'default', seed: 1, durationNs: 10e6 },
  // the published tools' shapes, as our own scripts in traces/scripts
  ...['biolatency', 'biosnoop', 'bitesize', 'vfscount', 'vfsstat', 'syscount', 'writeback', 'runqlat'].map(
    (tool): Case => ({ name: `tool-${tool}`, program: '', file: `${tool}.bt`, scenario: 'default', seed: 1, durationNs: tool === 'vfsstat' ? 1_050_000_000 : 30e6 }),
  ),
];
