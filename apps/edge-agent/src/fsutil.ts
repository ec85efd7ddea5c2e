// Small file-system helpers for secrets and state in the data dir.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

export class InsecureFileError extends Error {
  override readonly name = 'InsecureFileError';
  readonly code = 'INSECURE_FILE_MODE';
}

/** Creates `dir` (and parents) if needed and makes `dir` itself 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Writes `data` to `path` atomically with mode 0600: a temp file in the same directory
 * (created exclusively, 0600), fsync, rename over `path`, fsync of the directory. A crash
 * leaves either the old or the new file, never a torn one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    PRIVATE_FILE_MODE,
  );
  try {
    await fh.writeFile(data);
    await fh.chmod(PRIVATE_FILE_MODE); // umask cannot widen it, but be explicit
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dh = await open(dir, constants.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Reads a secret file, refusing it (InsecureFileError) when group or others have any
 * access: the same rule as ssh for private keys. Returns undefined if it does not exist.
 */
export async function readPrivateFile(path: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InsecureFileError(`${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new InsecureFileError(
        `${path} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
      );
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
