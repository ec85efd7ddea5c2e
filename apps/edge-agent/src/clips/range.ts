// `Range: bytes=…` parsing (RFC 9110 §14.1.2), single range only.
//
// Result:
// - `{ kind: 'none' }`: no header, or a unit other than `bytes` (ignored, full 200);
// - `{ kind: 'ok', start, end }`: one satisfiable range, `end` inclusive, clamped to size;
// - `{ kind: 'unsatisfiable' }`: a malformed `bytes` spec, several ranges (not served:
//   multipart/byteranges is pointless over a DataChannel and a classic amplification
//   vector), or a range outside the file → 416 with `Content-Range: bytes */size`.

export type RangeResult =
  { kind: 'none' } | { kind: 'ok'; start: number; end: number } | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

export function parseRange(header: string | null, size: number): RangeResult {
  if (header === null) return { kind: 'none' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'unsatisfiable' };
  const unit = header.slice(0, eq).trim().toLowerCase();
  if (unit !== 'bytes') return { kind: 'none' };
  const spec = header.slice(eq + 1).trim();
  if (spec.includes(',')) return { kind: 'unsatisfiable' };
  const m = SPEC.exec(spec);
  if (!m) return { kind: 'unsatisfiable' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'unsatisfiable' };
  if (a.length > 15 || b.length > 15) return { kind: 'unsatisfiable' }; // > 2^53
  if (a === '') {
    // suffix: last N bytes
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'ok', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return { kind: 'unsatisfiable' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'ok', start, end };
}
