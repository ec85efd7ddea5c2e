import { describe, expect, it } from 'vitest';
import { enrollCommands, enrollUri, shellQuote } from './enroll-commands.js';

describe('enroll commands', () => {
  it('builds the docker and npx lines from the registrar URL and code', () => {
    const c = enrollCommands('https://reg.example.com/', 'PFC-AB12-CD34');
    expect(c.docker).toBe(
      'docker run -d --name peerfetch-agent --restart unless-stopped -v peerfetch-agent:/data ' +
        '-e REGISTRAR_URL=https://reg.example.com -e CLAIM_CODE=PFC-AB12-CD34 ' +
        'ghcr.io/peerfetch/edge-agent:latest',
    );
    expect(c.node).toBe(
      'npx --yes @peerfetch/edge-agent enroll --registrar https://reg.example.com --code PFC-AB12-CD34 ' +
        '&& npx --yes @peerfetch/edge-agent run',
    );
  });

  it('passes the device name when the code has a label', () => {
    const c = enrollCommands('https://r', 'C', 'front gate');
    expect(c.docker).toContain("-e DEVICE_NAME='front gate' ghcr.io");
    expect(c.node).toContain("--code C --name 'front gate' &&");
  });

  it('quotes anything a shell would interpret', () => {
    expect(shellQuote('plain-VALUE_1.2')).toBe('plain-VALUE_1.2');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("$(rm -rf ~)'")).toBe("'$(rm -rf ~)'\\'''");
    expect(enrollCommands('https://r', 'x;y').node).toContain("--code 'x;y'");
  });

  it('puts registrar and code in the QR URI', () => {
    const uri = enrollUri('https://reg.example.com/', 'PFC-1');
    expect(uri).toBe('peerfetch:enroll?registrar=https%3A%2F%2Freg.example.com&code=PFC-1');
  });
});
