import { describe, expect, it } from 'vitest';
import { inviteLink, inviteTokenFrom } from './invite-link.js';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCde';

describe('invitation links', () => {
  it('puts the token in the fragment, never the path or query', () => {
    const link = inviteLink('https://pf.example.com/console/invite?x=1', TOKEN);
    expect(link).toBe(`https://pf.example.com/console/invite#${TOKEN}`);
    const url = new URL(link);
    expect(url.pathname + url.search).not.toContain(TOKEN);
  });

  it('reads back only a well-formed token', () => {
    expect(inviteTokenFrom(`#${TOKEN}`)).toBe(TOKEN);
    expect(inviteTokenFrom(TOKEN)).toBe(TOKEN);
    expect(inviteTokenFrom('')).toBeNull();
    expect(inviteTokenFrom('#short')).toBeNull();
    expect(inviteTokenFrom(`#${TOKEN}x`)).toBeNull();
    expect(inviteTokenFrom(`#${TOKEN.slice(0, 42)}%`)).toBeNull();
  });
});
