export const CRYPTO_VERSION = 1;
