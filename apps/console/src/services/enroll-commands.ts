// The commands a person pastes on a device to enroll it with a claim code.

/** The edge-agent image (multi-arch). */
export const AGENT_IMAGE = 'ghcr.io/peerfetch/edge-agent:latest';
/** The edge-agent package for hosts without a container engine. */
export const AGENT_PACKAGE = '@peerfetch/edge-agent';

/** POSIX shell quoting: leaves safe words bare, single-quotes everything else. */
export function shellQuote(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface EnrollCommands {
  docker: string;
  node: string;
}

export function enrollCommands(registrarUrl: string, code: string): EnrollCommands {
  const url = shellQuote(registrarUrl.replace(/\/+$/, ''));
  const c = shellQuote(code);
  return {
    docker: [
      'docker run -d --name peerfetch-agent --restart unless-stopped',
      '-v peerfetch-agent:/var/lib/peerfetch',
      `-e PEERFETCH_REGISTRAR_URL=${url}`,
      `-e PEERFETCH_CLAIM_CODE=${c}`,
      AGENT_IMAGE,
    ].join(' '),
    node: `npx --yes ${AGENT_PACKAGE} --registrar ${url} --claim-code ${c}`,
  };
}

/**
 * What the QR code carries: a `peerfetch:` URI with the registrar and the code, for a
 * device-side setup tool with a camera (or a phone) to pick up without typing.
 */
export function enrollUri(registrarUrl: string, code: string): string {
  const params = new URLSearchParams({ registrar: registrarUrl.replace(/\/+$/, ''), code });
  return `peerfetch:enroll?${params.toString()}`;
}
