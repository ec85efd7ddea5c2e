// Cheap MP4/QuickTime duration: walk the top-level boxes to `moov`, then to `mvhd`, and
// read timescale + duration (ISO/IEC 14496-12 §8.2.2). A handful of small positioned reads,
// never the media data. Anything unexpected → undefined (duration is optional metadata).
import type { FileHandle } from 'node:fs/promises';

const MAX_BOXES = 256;

interface BoxHeader {
  type: string;
  /** Offset of the box payload. */
  body: number;
  /** Offset just past the box. */
  end: number;
}

async function readAt(
  fh: FileHandle,
  position: number,
  length: number,
): Promise<Buffer | undefined> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return bytesRead === length ? buf : undefined;
}

async function readHeader(
  fh: FileHandle,
  offset: number,
  limit: number,
): Promise<BoxHeader | undefined> {
  if (offset + 8 > limit) return undefined;
  const h = await readAt(fh, offset, 8);
  if (!h) return undefined;
  let size = h.readUInt32BE(0);
  const type = h.toString('latin1', 4, 8);
  let body = offset + 8;
  if (size === 1) {
    const large = await readAt(fh, offset + 8, 8);
    if (!large) return undefined;
    const big = large.readBigUInt64BE(0);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    size = Number(big);
    body = offset + 16;
  } else if (size === 0) {
    size = limit - offset; // extends to the end of the enclosing container
  }
  if (size < body - offset || offset + size > limit) return undefined;
  return { type, body, end: offset + size };
}

async function findBox(
  fh: FileHandle,
  from: number,
  limit: number,
  type: string,
): Promise<BoxHeader | undefined> {
  let offset = from;
  for (let i = 0; i < MAX_BOXES && offset < limit; i++) {
    const box = await readHeader(fh, offset, limit);
    if (!box) return undefined;
    if (box.type === type) return box;
    if (box.end <= offset) return undefined;
    offset = box.end;
  }
  return undefined;
}

/** Duration in seconds from the movie header, or undefined if not an MP4 we can read. */
export async function mp4DurationSeconds(
  fh: FileHandle,
  size: number,
): Promise<number | undefined> {
  try {
    const first = await readHeader(fh, 0, size);
    if (!first || !['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide'].includes(first.type)) {
      return undefined;
    }
    const moov = await findBox(fh, 0, size, 'moov');
    if (!moov) return undefined;
    const mvhd = await findBox(fh, moov.body, moov.end, 'mvhd');
    if (!mvhd) return undefined;
    const head = await readAt(fh, mvhd.body, Math.min(32, mvhd.end - mvhd.body));
    if (!head || head.length < 20) return undefined;
    const version = head.readUInt8(0);
    let timescale: number;
    let duration: number;
    if (version === 1) {
      if (head.length < 32) return undefined;
      timescale = head.readUInt32BE(20);
      duration = Number(head.readBigUInt64BE(24));
    } else {
      timescale = head.readUInt32BE(12);
      duration = head.readUInt32BE(16);
      if (duration === 0xffffffff) return undefined; // unknown
    }
    if (timescale === 0) return undefined;
    return Math.round((duration / timescale) * 1000) / 1000;
  } catch {
    return undefined;
  }
}
