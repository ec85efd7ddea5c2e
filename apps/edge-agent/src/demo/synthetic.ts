// Generators for demo and test files: large synthetic files with known content, and a
// minimal ISO-BMFF skeleton (ftyp + moov/mvhd + mdat) with a chosen duration.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * Writes `size` bytes of deterministic pseudo-random content (xorshift32 from `seed`) in
 * 1 MiB chunks, so memory stays bounded. Returns the SHA-256 (hex) of the content.
 */
export async function writeSyntheticFile(path: string, size: number, seed = 1): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w', 0o644);
  try {
    let x = seed >>> 0 || 1;
    const chunk = Buffer.alloc(1 << 20);
    for (let written = 0; written < size;) {
      const n = Math.min(chunk.length, size - written);
      for (let i = 0; i < n; i += 4) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        chunk.writeUInt32LE(x, i);
      }
      const part = chunk.subarray(0, n);
      hash.update(part);
      await fh.write(part, 0, n);
      written += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** An MP4 skeleton whose movie header says `durationS` (timescale 1000). Not playable. */
export function mp4Skeleton(
  durationS: number,
  options: { version?: 0 | 1; moovLast?: boolean } = {},
): Buffer {
  const version = options.version ?? 0;
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1'));
  let mvhdBody: Buffer;
  if (version === 1) {
    mvhdBody = Buffer.alloc(4 + 8 + 8 + 4 + 8 + 80);
    mvhdBody.writeUInt8(1, 0);
    mvhdBody.writeUInt32BE(1000, 20);
    mvhdBody.writeBigUInt64BE(BigInt(Math.round(durationS * 1000)), 24);
  } else {
    mvhdBody = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 80);
    mvhdBody.writeUInt32BE(1000, 12);
    mvhdBody.writeUInt32BE(Math.round(durationS * 1000), 16);
  }
  const moov = box('moov', box('mvhd', mvhdBody));
  const mdat = box('mdat', Buffer.alloc(4096, 0x42));
  return options.moovLast ? Buffer.concat([ftyp, mdat, moov]) : Buffer.concat([ftyp, moov, mdat]);
}
