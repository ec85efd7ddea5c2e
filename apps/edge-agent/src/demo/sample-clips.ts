// Sample clips for the demo: a committed 6 s H.264/AAC MP4 (assets/sample-clip.mp4, 77 KiB,
// made with ffmpeg testsrc2 + sine, faststart) and its JPEG thumbnail, copied under a few
// names with staggered mtimes, plus optional large synthetic files for transfer tests.
import { copyFile, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSyntheticFile } from './synthetic.js';

export const ASSETS_DIR = new URL('../../assets/', import.meta.url);
export const SAMPLE_CLIP = new URL('sample-clip.mp4', ASSETS_DIR);
export const SAMPLE_THUMB = new URL('sample-thumb.jpg', ASSETS_DIR);

export interface SampleClipsOptions {
  /** Also write a synthetic file of this many bytes (`large-<n>.bin`). */
  largeBytes?: number;
  now?: number;
}

export async function writeSampleClips(
  dir: string,
  options: SampleClipsOptions = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const now = options.now ?? Date.now();
  const written: string[] = [];
  const names = ['front-door-0900.mp4', 'front-door-1200.mp4', 'driveway-1530.mp4'];
  for (const [i, name] of names.entries()) {
    const path = join(dir, name);
    await copyFile(SAMPLE_CLIP, path);
    const t = (now - (names.length - i) * 3_600_000) / 1000;
    await utimes(path, t, t);
    written.push(name);
  }
  await copyFile(SAMPLE_THUMB, join(dir, 'front-door-0900.jpg'));
  written.push('front-door-0900.jpg');
  if (options.largeBytes !== undefined) {
    const name = `large-${options.largeBytes}.bin`;
    await writeSyntheticFile(join(dir, name), options.largeBytes);
    written.push(name);
  }
  return written;
}
