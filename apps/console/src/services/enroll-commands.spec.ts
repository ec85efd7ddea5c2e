import { describe, expect, it } from 'vitest';
import { enrollCommands, enrollUri, shellQuote } from './enroll-commands.js';

describe('enroll commands', () => {
  it('builds the docker and npx lines from the registrar URL and code', () => {
    const c = enrollCommands('https://reg.example.com/', 'PFC-AB12-CD34');
    expect(c.docker).toBe(
      'docker run -d --name peerfetch-agent --restart unless-stopped -v peerfetch-agent:/var/lib/peerfetch ' +
        '-e PEERFETCH_REGISTRAR_URL=https://reg.example.com -e PEERFETCH_CLAIM_CODE=PFC-AB12-CD34 ' +
        'ghcr.io/peerfetch/edge-agent:latest',
    );
    expect(c.node).toBe(
      'npx --yes @peerfetch/edge-agent --registrar https://reg.example.com --claim-code PFC-AB12-CD34',
    );
  });

  it('quotes anything a shell would interpret', () => {
    expect(shellQuote('plain-VALUE_1.2')).toBe('plain-VALUE_1.2');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("$(rm -rf ~)'")).toBe("'$(rm -rf ~)'\\'''");
    expect(enrollCommands('https://r', 'x;y').node).toContain("--claim-code 'x;y'");
  });

  it('puts registrar and code in the QR URI', () => {
    const uri = enrollUri('https://reg.example.com/', 'PFC-1');
    expect(uri).toBe('peerfetch:enroll?registrar=https%3A%2F%2Freg.example.com&code=PFC-1');
  });
});
