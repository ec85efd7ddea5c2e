// The commands a person pastes on a device to enroll it with a claim code. Names follow
// apps/edge-agent: environment REGISTRAR_URL / CLAIM_CODE / DEVICE_NAME, state in
// DATA_DIR (/data in the image); CLI `edge-agent enroll --registrar URL --code CODE
// [--name NAME]` then `edge-agent run` (which also enrolls by itself from the env).

/** The edge-agent image (multi-arch; published by the release pipeline). */
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

export function enrollCommands(
  registrarUrl: string,
  code: string,
  name?: string | null,
): EnrollCommands {
  const url = shellQuote(registrarUrl.replace(/\/+$/, ''));
  const c = shellQuote(code);
  const n = name ? shellQuote(name) : null;
  return {
    docker: [
      'docker run -d --name peerfetch-agent --restart unless-stopped',
      '-v peerfetch-agent:/data',
      `-e REGISTRAR_URL=${url}`,
      `-e CLAIM_CODE=${c}`,
      ...(n ? [`-e DEVICE_NAME=${n}`] : []),
      AGENT_IMAGE,
    ].join(' '),
    node: [
      `npx --yes ${AGENT_PACKAGE} enroll --registrar ${url} --code ${c}`,
      ...(n ? [`--name ${n}`] : []),
      `&& npx --yes ${AGENT_PACKAGE} run`,
    ].join(' '),
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
