import argon2 from 'argon2';

/** argon2id with the library's defaults (m=64 MiB, t=3, p=4), PHC-encoded. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

// A real hash to verify against when the user does not exist, so that an unknown e-mail
// costs as much time as a wrong password.
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('peerfetch-timing-equalizer');
  return dummy;
}
