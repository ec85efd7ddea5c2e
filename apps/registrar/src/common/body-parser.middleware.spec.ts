import { describe, expect, it } from 'vitest';
import { forbiddenKey } from './body-parser.middleware.js';

describe('forbiddenKey', () => {
  it('finds prototype-pollution keys at any depth, in objects and arrays', () => {
    expect(forbiddenKey(JSON.parse('{"a":1,"__proto__":{"x":1}}'), 0)).toBe('__proto__');
    expect(forbiddenKey(JSON.parse('{"a":[{"b":{"constructor":{}}}]}'), 0)).toBe('constructor');
    expect(forbiddenKey({ a: { prototype: 1 } }, 0)).toBe('prototype');
  });

  it('accepts ordinary bodies and primitives', () => {
    expect(forbiddenKey({ name: 'constructor', tags: ['__proto__'] }, 0)).toBeNull();
    expect(forbiddenKey('x', 0)).toBeNull();
    expect(forbiddenKey(null, 0)).toBeNull();
    expect(forbiddenKey(undefined, 0)).toBeNull();
  });
});
