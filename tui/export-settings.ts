// What a run's trace outputs will do, decided before the run: the flags' values checked, and the
// OpenTelemetry SDK's environment variables (OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER[_ARG],
// OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, _ENDPOINT, _TIMEOUT, _HEADERS and _COMPRESSION) read the way the specification says, each
// one honoured or refused with a message. No OpenTelemetry code loads here: the command checks
// its flags with this before anything heavy is imported.

import type { OtlpProtocol } from '../exporters/otlp.js';

export interface ExportRequest {
  readonly perfetto?: string;
  readonly jaeger?: string;
  readonly otlpFile?: string;
  /** Send spans over OTLP; `url` undefined means OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT or the default. */
  readonly otlp?: { readonly url: string | undefined };
  /** --sample; undefined: not given (OTEL_TRACES_SAMPLER, else every I/O). */
  readonly sampleRatio?: number;
  /** Wall-clock ns of simulated t=0; undefined: now. */
  readonly epochNs?: bigint;
  /** Ignore every OTEL_* variable (the shipped example files). */
  readonly ignoreEnvironment?: boolean;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** The largest --epoch: OTLP carries times as unsigned 64-bit nanoseconds. */
export const MAX_EPOCH_NS = (1n << 64n) - 1n;

/** --epoch's value, or what is wrong with it. */
export function parseEpochNs(text: string): bigint | { readonly error: string } {
  if (!/^\d+$/.test(text)) return { error: `--epoch: must be nanoseconds since 1970 as an integer, like 1700000000000000000 (got "${text}")` };
  const ns = BigInt(text);
  if (ns > MAX_EPOCH_NS) return { error: `--epoch: at most ${MAX_EPOCH_NS} (2^64-1 ns, in the year 2554), which OTLP's 64-bit times can hold (got "${text}")` };
  return ns;
}

/** What is wrong with an output file flag's value before anything is opened, or undefined. */
export function outputPathProblem(flag: string, path: string): string | undefined {
  if (path === '') return `${flag} needs a file name, not an empty string (e.g. ${flag} ${flag === '--perfetto' ? 'trace.pftrace' : 'trace.json'})`;
  return undefined;
}

/** Where spans go over OTLP, and which setting said so (for the messages). */
export interface OtlpTarget {
  readonly protocol: OtlpProtocol;
  readonly url: string;
}

/** How spans are built and sent in this run. */
export interface SpanSettings {
  /** OTEL_SDK_DISABLED=true: no spans at all. */
  readonly disabled: boolean;
  /** Fraction of I/Os traced: 0 (none) .. 1 (every one). */
  readonly sampleRatio: number;
  readonly otlp: OtlpTarget | undefined;
  /** Lines for stderr about settings that met (e.g. --sample over OTEL_TRACES_SAMPLER). */
  readonly notes: readonly string[];
}

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const DEFAULT_URLS: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': 'http://localhost:4318/v1/traces',
  'http/json': 'http://localhost:4318/v1/traces',
  grpc: 'http://localhost:4317',
};

/** A variable as the SDK reads it: trimmed, and empty counts as unset. */
function variable(env: Environment, name: string): { readonly name: string; readonly value: string } | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : { name, value };
}

/** A ratio in [0, 1] written as a plain decimal (0.1, .5, 1, 1e-3), or undefined. */
export function parseRatio(text: string): number | undefined {
  const ratio = Number(text);
  return /^(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?$/i.test(text) && ratio >= 0 && ratio <= 1 ? ratio : undefined;
}

export function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** OTEL_TRACES_SAMPLER[_ARG] as a ratio; every root is a root here, so parentbased_X is X. */
function samplerRatio(env: Environment): { readonly ratio: number; readonly shown: string } | { readonly error: string } | undefined {
  const sampler = variable(env, 'OTEL_TRACES_SAMPLER');
  if (!sampler) return undefined;
  const name = sampler.value.toLowerCase();
  const base = name.startsWith('parentbased_') ? name.slice('parentbased_'.length) : name;
  if (base === 'always_on') return { ratio: 1, shown: `OTEL_TRACES_SAMPLER=${sampler.value}` };
  if (base === 'always_off') return { ratio: 0, shown: `OTEL_TRACES_SAMPLER=${sampler.value}` };
  if (base === 'traceidratio') {
    const arg = variable(env, 'OTEL_TRACES_SAMPLER_ARG');
    if (!arg) return { ratio: 1, shown: `OTEL_TRACES_SAMPLER=${sampler.value}` };
    const ratio = parseRatio(arg.value);
    if (ratio === undefined) {
      return { error: `OTEL_TRACES_SAMPLER_ARG: ${sampler.value} needs a ratio in [0, 1], like 0.1 for one I/O in ten (got "${arg.value}")` };
    }
    return { ratio, shown: `OTEL_TRACES_SAMPLER=${sampler.value} OTEL_TRACES_SAMPLER_ARG=${arg.value}` };
  }
  if (base === 'jaeger_remote' || base === 'xray') {
    return { error: `OTEL_TRACES_SAMPLER: "${sampler.value}" needs a remote sampling service, which a simulation has no use for; use always_on, always_off or traceidratio (or their parentbased_ forms), or --sample R` };
  }
  return {
    error: `OTEL_TRACES_SAMPLER: unknown sampler "${sampler.value}" (expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio)`,
  };
}

/** OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL and the endpoint, in the specification's order of precedence. */
function otlpTarget(flagUrl: string | undefined, env: Environment): OtlpTarget | { readonly error: string } {
  const protocolVar = variable(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? variable(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  let protocol: OtlpProtocol = 'http/protobuf';
  if (protocolVar) {
    const known = PROTOCOLS.find((p) => p === protocolVar.value.toLowerCase());
    if (!known) return { error: `${protocolVar.name}: unknown protocol "${protocolVar.value}" (expected http/protobuf, http/json or grpc)` };
    protocol = known;
  }
  if (flagUrl !== undefined) {
    if (!isHttpUrl(flagUrl)) return { error: `--otlp: not an http(s) URL: "${flagUrl}" (e.g. --otlp ${DEFAULT_URLS[protocol]})` };
    return { protocol, url: flagUrl };
  }
  // the signal's own endpoint is used as it is; the general one gets the signal's path over HTTP
  const specific = variable(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const general = variable(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const chosen = specific ?? general;
  if (!chosen) return { protocol, url: DEFAULT_URLS[protocol] };
  if (!isHttpUrl(chosen.value)) {
    const example = chosen === specific ? DEFAULT_URLS[protocol] : DEFAULT_URLS[protocol].replace(/\/v1\/traces$/, '');
    return { error: `${chosen.name}: not an http(s) URL: "${chosen.value}" (e.g. ${chosen.name}=${example}, or unset it)` };
  }
  // gRPC takes the endpoint as it is; HTTP as its URL parses (what the exporter sends to)
  if (protocol === 'grpc') return { protocol, url: chosen.value };
  if (chosen === specific) return { protocol, url: new URL(chosen.value).href };
  return { protocol, url: `${chosen.value}${chosen.value.endsWith('/') ? '' : '/'}v1/traces` };
}

/** setTimeout's longest wait: the SDK cuts a longer export timeout to it, with a Node warning on stderr. */
const MAX_EXPORT_TIMEOUT_MS = 2 ** 31 - 1;

/** OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT, which the OTLP exporter reads itself: what is wrong with it, or undefined. */
function exportTimeoutProblem(env: Environment): string | undefined {
  const timeout = variable(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? variable(env, 'OTEL_EXPORTER_OTLP_TIMEOUT');
  if (timeout === undefined) return undefined;
  const ms = Number(timeout.value);
  if (/^\d+$/.test(timeout.value) && ms >= 1 && ms <= MAX_EXPORT_TIMEOUT_MS) return undefined;
  return `${timeout.name}: milliseconds an export may take, a whole number from 1 to ${MAX_EXPORT_TIMEOUT_MS} (got "${timeout.value}"), or unset it for 10000`;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * OTEL_EXPORTER_OTLP_[TRACES_]HEADERS and _COMPRESSION, which the exporter reads itself and would
 * skip with a diagnostic nobody sees: what is wrong with them, or undefined.
 */
function exporterVariableProblem(env: Environment): string | undefined {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS']) {
    const headers = variable(env, name);
    if (headers === undefined) continue;
    for (const entry of headers.value.split(',')) {
      const eq = entry.indexOf('=');
      const key = (eq < 0 ? entry : entry.slice(0, eq)).trim();
      let valueOk = eq >= 0;
      try {
        if (valueOk) decodeURIComponent(entry.slice(eq + 1));
      } catch {
        valueOk = false;
      }
      if (!HEADER_NAME.test(key) || !valueOk) {
        return `${name}: "${entry.trim()}" is not a header; write name=value pairs separated by commas, values percent-encoded, like api-key=abc123,team=io`;
      }
    }
  }
  const compression = variable(env, 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION') ?? variable(env, 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (compression !== undefined && compression.value !== 'gzip' && compression.value !== 'none') {
    return `${compression.name}: must be gzip or none (got "${compression.value}")`;
  }
  return undefined;
}

/**
 * The span side of a run as flags and environment decide it, or the message that refuses them
 * (exit 2, before the run). `durationNs`: the run's length, which must end within --epoch's range.
 */
export function resolveSpanSettings(req: ExportRequest, env: Environment, durationNs: number): SpanSettings | { readonly error: string } {
  if (req.epochNs !== undefined && req.epochNs + BigInt(Math.ceil(durationNs)) > MAX_EPOCH_NS) {
    return { error: `--epoch: the run would end after ${MAX_EPOCH_NS} ns (2^64-1), beyond OTLP's 64-bit times; use an earlier --epoch` };
  }
  const wantsSpans = req.jaeger !== undefined || req.otlpFile !== undefined || req.otlp !== undefined;
  const vars: Environment = req.ignoreEnvironment === true || !wantsSpans ? {} : env;
  const notes: string[] = [];

  const disabledVar = variable(vars, 'OTEL_SDK_DISABLED');
  const disabledText = disabledVar?.value.toLowerCase();
  if (disabledText !== undefined && disabledText !== 'true' && disabledText !== 'false') {
    return { error: `OTEL_SDK_DISABLED: must be true or false (got "${disabledVar!.value}")` };
  }

  const fromEnv = samplerRatio(vars);
  if (fromEnv && 'error' in fromEnv) return fromEnv;
  const sampleRatio = req.sampleRatio ?? fromEnv?.ratio ?? 1;
  if (req.sampleRatio !== undefined && fromEnv) notes.push(`sample: --sample ${req.sampleRatio} is used, not ${fromEnv.shown} (the command line wins)`);

  let otlp: OtlpTarget | undefined;
  if (req.otlp !== undefined) {
    const target = otlpTarget(req.otlp.url, vars);
    if ('error' in target) return target;
    const problem = exportTimeoutProblem(vars) ?? exporterVariableProblem(vars);
    if (problem !== undefined) return { error: problem };
    otlp = target;
  }
  // disabled: nothing is built, so no sampler meets another
  if (disabledText === 'true') return { disabled: true, sampleRatio: 0, otlp, notes: [] };
  return { disabled: false, sampleRatio, otlp, notes };
}

/** The message that refuses a run's export settings before it starts, or undefined when they are fine. */
export function exportSettingsProblem(req: ExportRequest, env: Environment, durationNs: number): string | undefined {
  const s = resolveSpanSettings(req, env, durationNs);
  return 'error' in s ? s.error : undefined;
}
