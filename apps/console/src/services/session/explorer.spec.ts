import { describe, expect, it } from 'vitest';
import { methodAllowed, normalizePath, parseHeaderLines, prettyBody } from './explorer.js';

describe('explorer helpers', () => {
  it('lets viewers read only, operators and admins do everything', () => {
    expect(methodAllowed('viewer', 'GET')).toBe(true);
    expect(methodAllowed('viewer', 'HEAD')).toBe(true);
    expect(methodAllowed('viewer', 'POST')).toBe(false);
    expect(methodAllowed('viewer', 'DELETE')).toBe(false);
    expect(methodAllowed('operator', 'POST')).toBe(true);
    expect(methodAllowed('admin', 'PATCH')).toBe(true);
    expect(methodAllowed(null, 'PUT')).toBe(false);
  });
  it('parses header lines and refuses malformed ones', () => {
    expect(parseHeaderLines('Accept: application/json\n\n x-a : 1:2 ')).toEqual([
      ['accept', 'application/json'],
      ['x-a', '1:2'],
    ]);
    expect(() => parseHeaderLines('no colon')).toThrow(/Line 1/);
    expect(() => parseHeaderLines('bad name: x')).toThrow(/Line 1/);
  });
  it('normalises paths and pretty-prints JSON', () => {
    expect(normalizePath('api/hello')).toBe('/api/hello');
    expect(normalizePath('http://localhost:8778/api/x?y=1')).toBe('/api/x?y=1');
    expect(prettyBody('{"a":1}', 'application/json')).toBe('{\n  "a": 1\n}');
    expect(prettyBody('plain', 'text/plain')).toBe('plain');
    expect(prettyBody('{broken', null)).toBe('{broken');
  });
});
