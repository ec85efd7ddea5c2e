/// <reference types="node" />
// @peerfetch/crypto/node — Node-only helpers: key files on disk, and Ed25519 through
// node:crypto (`nodeSigner`, `nodeVerify`: ed25519.ts).
//
// The device identity key is a private JWK (RFC 8037, with `d`) in a file of mode 0600
// owned by the agent's user. `readKeyFile` refuses a file that group or others can read
// or write, or that is not a regular file (e.g. a symlink), like ssh refuses loose keys.
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { CryptoError } from '../errors.js';
import {
  type Ed25519KeyPair,
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
} from '../keys.js';

export { nodeSigner, nodeVerify } from './ed25519.js';

const MAX_KEY_FILE = 4096;

/**
 * Writes the key pair as a private JWK to `path` with mode 0600, atomically (temporary
 * file in the same directory, fsync, rename). Refuses to overwrite an existing file
 * unless `overwrite` is set (a device key is not replaced by accident).
 */
export async function writeKeyFile(
  path: string,
  keyPair: Ed25519KeyPair,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  if (!options.overwrite) {
    const exists = await lstat(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (exists) throw new CryptoError('BAD_KEY', `key file ${path} already exists`);
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
    0o600,
  );
  try {
    await handle.chmod(0o600); // the umask may have narrowed it further; never wider
    await handle.writeFile(`${JSON.stringify(exportPrivateJwk(keyPair))}\n`, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, path);
}

/** Reads a key file written by `writeKeyFile`. Throws `CryptoError` BAD_KEY if it is unsafe or invalid. */
export async function readKeyFile(path: string): Promise<Ed25519KeyPair> {
  const handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ELOOP') {
        throw new CryptoError('BAD_KEY', `key file ${path} is a symbolic link`);
      }
      throw error;
    },
  );
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CryptoError('BAD_KEY', `key file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new CryptoError(
        'BAD_KEY',
        `key file ${path} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new CryptoError('BAD_KEY', `key file ${path} is not owned by this user`);
    }
    if (stat.size > MAX_KEY_FILE) throw new CryptoError('BAD_KEY', `key file ${path} is too large`);
    const text = await handle.readFile('utf8');
    let jwk: unknown;
    try {
      jwk = JSON.parse(text);
    } catch (cause) {
      throw new CryptoError('BAD_KEY', `key file ${path} is not JSON`, { cause });
    }
    return importPrivateJwk(jwk);
  } finally {
    await handle.close();
  }
}

/** Reads the key at `path`, or generates one and writes it (0600) if there is none. */
export async function loadOrCreateKeyFile(
  path: string,
): Promise<{ keyPair: Ed25519KeyPair; created: boolean }> {
  try {
    return { keyPair: await readKeyFile(path), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const keyPair = generateKeyPair();
  await writeKeyFile(path, keyPair);
  return { keyPair, created: true };
}
