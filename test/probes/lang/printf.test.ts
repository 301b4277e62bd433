import test from 'node:test';
import assert from 'node:assert/strict';
import { checkPrintfArgs, compilePrintf, formatPrintf, parsePrintf, type PrintfArgType } from '../../../probes/lang/printf.js';
import { BufferValue, PointerValue, SymbolValue, record, tuple, type Value } from '../../../probes/lang/values.js';

const X = 0x12345678abcdefn;

test('formatPrintf: C semantics, bpftrace casts', () => {
  const cases: [string, Value[], string][] = [
    // Integer conversions cast like C: %d/%i to int32, %u %x %X %o to uint32 unless widened.
    ['%d', [5000000000n], '705032704'],
    ['%ld', [5000000000n], '5000000000'],
    ['%lld', [5000000000n], '5000000000'],
    ['%i', [4294967295n], '-1'],
    ['%u', [-1n], '4294967295'],
    ['%lu', [-1n], '18446744073709551615'],
    ['%hhx %hx %x %jx', [X, X, X, X], 'ef cdef 78abcdef 12345678abcdef'],
    ['%zx %tx %llx %lx', [X, X, X, X], '12345678abcdef 12345678abcdef 12345678abcdef 12345678abcdef'],
    ['%hhd %hd', [0xffn, 0x8000n], '-1 -32768'],
    ['%hhu', [257n], '1'],
    ['%X', [0xabcn], 'ABC'],
    ['%o', [8n], '10'],
    ['%d', [-10n / 3n], '-3'],
    ['%d', [BigInt.asUintN(64, -10n) / 3n], '1431655762'],
    // Flags, width, precision.
    ['[%5d]', [42n], '[   42]'],
    ['[%-5d]', [42n], '[42   ]'],
    ['[%05d]', [42n], '[00042]'],
    ['[%05d]', [-42n], '[-0042]'],
    ['[%-05d]', [42n], '[42   ]'],
    ['[%+d] [%+d]', [5n, -5n], '[+5] [-5]'],
    ['[% d]', [5n], '[ 5]'],
    ['[%.3d]', [7n], '[007]'],
    ['[%8.3d]', [7n], '[     007]'],
    ['[%08.3d]', [7n], '[     007]'],
    ['[%.0d]', [0n], '[]'],
    ['[%#x] [%#X] [%#o] [%#x]', [255n, 255n, 8n, 0n], '[0xff] [0XFF] [010] [0]'],
    ['[%#010x]', [255n], '[0x000000ff]'],
    ['[%-#8x]', [255n], '[0xff    ]'],
    // Characters, strings, pointers, percent.
    ['%c%c%c%c', [0x41n, 0x42n, 0x43n, 0x44n], 'ABCD'],
    ['[%3c]', [0x41n], '[  A]'],
    ['%s', ['bash'], 'bash'],
    ['[%10s]', ['bash'], '[      bash]'],
    ['[%-10s]', ['bash'], '[bash      ]'],
    ['[%.2s]', ['bash'], '[ba]'],
    ['%s', [tuple(1n, 2n, 'string')], '(1, 2, string)'],
    ['%s', [record({ a: 1n, b: 'x' })], '{ .a = 1, .b = x }'],
    ['%s %s', [true, false], 'true false'],
    ['%d %d', [true, false], '1 0'],
    ['%s', [-5n], '-5'],
    ['%s %d', [new SymbolValue('READ', 0n), new SymbolValue('WRITE', 1n)], 'READ 1'],
    ['%p', [new PointerValue(0xffff8880deadbeefn)], '0xffff8880deadbeef'],
    ['%p', [0n], '(nil)'],
    ['%s', [new PointerValue(0x1fn)], '0x1f'],
    ['100%%', [], '100%'],
    ['%d%%', [50n], '50%'],
    ['value: %dms100\n', [100n], 'value: 100ms100\n'],
    ['%dst: %sa; %dnd: %sb;;', [1n, 'a', 2n, 'ab'], '1st: aa; 2nd: abb;;'],
    // A `%` that starts no spec stays literal.
    ['%y %', [], '%y %'],
    // Buffers.
    ['%r', [new BufferValue(new Uint8Array([0x48, 0x69, 0x00]))], 'Hi\\x00'],
    ['%rx', [new BufferValue(new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]))], '\\x48\\x65\\x6c\\x6c\\x6f\\x00'],
    ['%rh', [new BufferValue(new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]))], '48 65 6c 6c 6f 00'],
    // Bad values print !{error}.
    ['%d', ['abc'], '!{invalid integer conversion: abc}'],
  ];
  for (const [fmt, args, want] of cases) assert.equal(formatPrintf(fmt, args), want, `printf(${JSON.stringify(fmt)})`);
});

test('compilePrintf: bound formatter', () => {
  const f = compilePrintf('%s read %d bytes\n');
  assert.equal(f(['dd', 4096n]), 'dd read 4096 bytes\n');
  assert.equal(f(['fio', 512n]), 'fio read 512 bytes\n');
  assert.equal(compilePrintf('hi!\n')([]), 'hi!\n');
});

test('parsePrintf: specs for the compiler', () => {
  const p = parsePrintf('%-08lx|%5.2s|%%|%hhd|%rx|%q');
  assert.deepEqual(
    p.specs.map((s) => [s.text, s.offset, s.conversion, s.length, s.width ?? null, s.precision ?? null, s.minus, s.zero]),
    [
      ['%-08lx', 0, 'x', 'l', 8, null, true, true],
      ['%5.2s', 7, 's', '', 5, 2, false, false],
      ['%hhd', 16, 'd', 'hh', null, null, false, false],
      ['%rx', 21, 'rx', '', null, null, false, false],
    ],
  );
  assert.deepEqual(p.fragments, ['', '|', '|%|', '|', '|%q']);
});

test('checkPrintfArgs: bpftrace messages', () => {
  const int: PrintfArgType = { kind: 'integer', name: 'int64' };
  const str: PrintfArgType = { kind: 'string', name: 'string[6]' };
  const buf: PrintfArgType = { kind: 'buffer', name: 'buffer[6]' };
  const cases: [string, PrintfArgType[], string | undefined][] = [
    ['%d %s\n', [int, str], undefined],
    ['%s %s', [int, { kind: 'other', name: '(int8,int8)' }], undefined],
    ['%d %d', [int], 'not enough arguments for format string (1 supplied, 2 expected)'],
    ['%d', [int, int], 'too many arguments for format string (2 supplied, 1 expected)'],
    ['no specs', [int], 'too many arguments for format string (1 supplied, 0 expected)'],
    ['%d', [str], "unsupported format specifier for type 'string[6]': d"],
    ['%x %p %c', [{ kind: 'bool', name: 'bool' }, { kind: 'pointer', name: 'struct file *' }, int], undefined],
    ['%f', [int], 'unsupported format specifier: f'],
    ['%r', [buf], undefined],
    ['%r', [int], "unsupported format specifier for type 'int64': r"],
    ['100%% %d', [int], undefined],
  ];
  for (const [fmt, args, want] of cases) assert.equal(checkPrintfArgs(parsePrintf(fmt), args), want, fmt);
});
