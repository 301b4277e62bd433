// `kiotrace --info`: what the simulated kernel offers a program, in bpftrace --info's layout
// (System, Build, Kernel helpers, Kernel features, Map types, Probe types; two columns of 35).
// The answers are kiotrace's own: a helper is "yes" only where the language has what the
// helper gives bpftrace (probe_read_kernel: member reads; get_func_ip: func).

import { FIRING_BUDGET } from '../probes/lang/compile.js';

type Row = readonly [name: string, value: string];

const yes = (on: boolean): string => (on ? 'yes' : 'no');

/** bpftrace's tabulate(): rows two to a line, each cell padded to 35 columns. */
function tabulate(rows: readonly Row[]): string {
  const WIDTH = 35;
  let out = '';
  for (let i = 0; i < rows.length; i += 2) {
    out += `  ${rows[i]![0]}: ${rows[i]![1]}`.padEnd(WIDTH);
    const next = rows[i + 1];
    out += next !== undefined ? `${next[0]}: ${next[1]}`.padEnd(WIDTH) : '';
    out += '\n';
  }
  return out;
}

export function kernelInfo(version: string): string {
  const helpers: Row[] = [
    // the simulated machine runs no user code, so there is no user memory to read
    ['probe_read_user', yes(false)],
    ['probe_read_user_str', yes(false)],
    ['probe_read_kernel', yes(true)],
    ['probe_read_kernel_str', yes(true)],
    ['send_signal', yes(false)],
    ['get_boot_ns', yes(false)],
    ['dpath', yes(false)],
    ['skboutput', yes(false)],
    ['get_tai_ns', yes(false)],
    ['get_func_ip', yes(true)],
    ['jiffies64', yes(false)],
    ['for_each_map_elem', yes(true)],
    ['get_ns_current_pid_tgid', yes(false)],
    ['lookup_percpu_elem', yes(false)],
  ];
  const features: Row[] = [
    // the budget of one firing, what the verifier's instruction limit bounds in bpftrace
    ['Instruction limit', String(FIRING_BUDGET)],
    ['btf', yes(true)],
    ['module btf', yes(false)],
    ['map batch', yes(false)],
  ];
  const maps: Row[] = [
    ['hash', yes(true)],
    ['array', yes(true)],
    ['percpu array', yes(false)],
    ['stack_trace', yes(true)],
    ['ringbuf', yes(false)],
  ];
  const probes: Row[] = [
    ['kprobe', yes(true)],
    ['tracepoint', yes(true)],
    // profile: and interval: probes
    ['perf_event', yes(true)],
    // fentry/fexit: views of the kprobe sites with typed args
    ['fentry', yes(true)],
    // a wildcard attaches every matching function at once
    ['kprobe_multi', yes(true)],
    ['uprobe_multi', yes(false)],
    ['kprobe_session', yes(false)],
    ['iter', yes(false)],
  ];
  return [
    'System\n  OS: Linux 6.18.0-kiotrace #1 SMP PREEMPT_DYNAMIC (simulated)\n  Arch: x86_64\n',
    `Build\n  version: kiotrace ${version}\n  LLVM: none (programs are interpreted, not compiled)\n  bfd: no\n  libdw (DWARF support): no\n  libsystemd (systemd notify support): no\n  blazesym (advanced symbolization): no\n`,
    `Kernel helpers\n${tabulate(helpers)}`,
    `Kernel features\n${tabulate(features)}`,
    `Map types\n${tabulate(maps)}`,
    `Probe types\n${tabulate(probes)}`,
  ].join('\n');
}
