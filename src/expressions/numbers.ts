/**
 * Numbers as .NET prints and parses them (invariant culture). A C# `int`/`long` is a JS integer;
 * a `double` is boxed as `CsDouble` elsewhere, so these helpers take plain numbers and a flag.
 * @module
 */
import { formatError, overflow } from './errors.ts';

/** `double.ToString()` on .NET Core 3.0+: shortest round-trip digits, scientific below 1E-05 and from 1E+15. */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant = '0', expStr = '0'] = x.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp >= 15 || exp <= -5) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}E${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** `long.ToString()`: full digits even beyond 2^53 (where the value itself is already approximate). */
export function formatInteger(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : Number.isFinite(x) ? BigInt(Math.trunc(x)).toString() : formatDouble(x);
}

/** Math.Round's default: to even at exact midpoints. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

function group(intDigits: string): string {
  return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fixed(x: number, decimals: number, grouping: boolean): string {
  const s = Math.abs(x).toFixed(decimals);
  const [i = '0', f] = s.split('.');
  const body = (grouping ? group(i) : i) + (f === undefined ? '' : `.${f}`);
  return (x < 0 && /[1-9]/.test(s) ? '-' : '') + body;
}

/** Standard (`N2`, `F0`, `D5`, `X`, `P1`, `E3`, `G`, `R`) and simple custom (`0.00`, `#,##0`) numeric formats. */
export function formatNumber(x: number, isInt: boolean, fmt: string): string {
  const plain = (): string => (isInt ? formatInteger(x) : formatDouble(x));
  if (fmt === '') return plain();
  const m = /^([A-Za-z])(\d{0,2})$/.exec(fmt);
  if (m !== null) {
    const spec = (m[1] ?? 'G').toUpperCase();
    const p = m[2] === undefined || m[2] === '' ? null : Number(m[2]);
    if (!Number.isFinite(x) && spec !== 'X' && spec !== 'D') return plain();
    switch (spec) {
      case 'G':
      case 'R':
        return p === null || p === 0 ? plain() : formatDouble(Number(x.toPrecision(p)));
      case 'N':
        return fixed(x, p ?? 2, true);
      case 'F':
        return fixed(x, p ?? 2, false);
      case 'P':
        return `${fixed(x * 100, p ?? 2, true)} %`;
      case 'E': {
        const [mant = '0', e = '0'] = x.toExponential(p ?? 6).split('e');
        const en = Number(e);
        const out = `${mant}${m[1] === 'e' ? 'e' : 'E'}${en < 0 ? '-' : '+'}${Math.abs(en).toString().padStart(3, '0')}`;
        return out;
      }
      case 'D':
        if (!isInt) throw formatError('Format specifier was invalid.');
        return (x < 0 ? '-' : '') + formatInteger(Math.abs(x)).padStart(p ?? 0, '0');
      case 'X': {
        if (!isInt) throw formatError('Format specifier was invalid.');
        const h = (x < 0 ? BigInt.asUintN(x >= -0x80000000 ? 32 : 64, BigInt(x)) : BigInt(x)).toString(16).padStart(p ?? 0, '0');
        return m[1] === 'x' ? h : h.toUpperCase();
      }
      default:
        throw formatError('Format specifier was invalid.');
    }
  }
  return customNumber(x, fmt);
}

/** Custom numeric formats in their common forms: `0`, `0.00`, `#,##0.##`, `000`, with a literal prefix/suffix. */
function customNumber(x: number, fmt: string): string {
  const m = /^([^0#.,]*)([0#,]+)(?:\.([0#]+))?([^0#.,]*)$/.exec(fmt);
  if (m === null) throw formatError(`Unsupported numeric format '${fmt}'.`);
  const [, pre = '', int = '', frac = '', post = ''] = m;
  const minFrac = (frac.match(/0/g) ?? []).length;
  const maxFrac = frac.length;
  const minInt = (int.match(/0/g) ?? []).length;
  let s = Math.abs(x).toFixed(maxFrac);
  let [i = '0', f = ''] = s.split('.');
  while (f.length > minFrac && f.endsWith('0')) f = f.slice(0, -1);
  if (minInt === 0 && i === '0') i = '';
  i = i.padStart(minInt, '0');
  if (int.includes(',')) i = group(i);
  s = i + (f === '' ? '' : `.${f}`);
  if (s === '') s = '0';
  return pre + (x < 0 && /[1-9]/.test(s) ? '-' : '') + s + post;
}

const INT_RE = /^\s*[+-]?\d+\s*$/;

/** `int.Parse` / `long.Parse` (NumberStyles.Integer). */
export function parseInteger(s: string, bits: 32 | 64): number {
  if (!INT_RE.test(s)) throw formatError(`The input string '${s}' was not in a correct format.`);
  const n = Number(s.trim());
  const limit = bits === 32 ? 2147483648 : 9223372036854775808;
  if (n > limit - 1 || n < -limit) throw overflow(bits === 32 ? 'an Int32' : 'an Int64');
  return n === 0 ? 0 : n;
}

const FLOAT_RE = /^\s*[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** `double.Parse` (NumberStyles.Float | AllowThousands, invariant culture). */
export function parseDouble(s: string): number {
  const t = s.trim();
  if (t === 'NaN') return NaN;
  if (t === 'Infinity' || t === '∞') return Infinity;
  if (t === '-Infinity' || t === '-∞') return -Infinity;
  if (!FLOAT_RE.test(s)) throw formatError(`The input string '${s}' was not in a correct format.`);
  return Number(t.replaceAll(',', ''));
}
