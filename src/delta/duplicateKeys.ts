import type { JsonObject } from './types.js';

/** Members (`"name": value` pairs) of every object in a JSON text: its `:` outside strings. */
function jsonMemberCount(text: string): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 58) n++;
  }
  return n;
}

/** Members of every object of a parsed value. */
function parsedMemberCount(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += parsedMemberCount(x);
    return n;
  }
  for (const k in v as JsonObject) n += 1 + parsedMemberCount((v as JsonObject)[k]);
  return n;
}

/**
 * The dotted path of the first name a JSON object of `text` repeats, or undefined. Only called
 * when the member counts say there is one (`JSON.parse` keeps the last silently).
 */
function firstDuplicateKey(text: string): string | undefined {
  const stack: Array<{ keys: Set<string> | null; path: string; last: string }> = [];
  let expectKey = false;
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return '';
    if (!top.keys) return top.path;
    return top.path ? `${top.path}.${top.last}` : top.last;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        top.last = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 123 || c === 91) {
      const path = childPath();
      stack.push({ keys: c === 123 ? new Set() : null, path, last: '' });
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      stack.pop();
      expectKey = false;
    } else if (c === 44) expectKey = stack.at(-1)?.keys != null;
  }
  return undefined;
}

/**
 * The dotted path of the first name an object of the JSON text `text` repeats (`JSON.parse` keeps
 * the last one in silence, so `{"frame":1,"frame":7}` reads as frame 7), or undefined. `parsed` is
 * `JSON.parse(text)`: a text whose members all survived parsing is passed after one count.
 */
export function duplicateKeyOf(text: string, parsed: unknown): string | undefined {
  return jsonMemberCount(text) === parsedMemberCount(parsed) ? undefined : firstDuplicateKey(text);
}

/** The dotted path of the first `-0` in a parsed value (JSON writes it back as `0`), or undefined. */
export function negativeZeroOf(v: unknown, path = ''): string | undefined {
  if (typeof v === 'number') return Object.is(v, -0) ? path || '(the value)' : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = negativeZeroOf(v[i], `${path}[${i}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  for (const k in v as JsonObject) {
    const p = negativeZeroOf((v as JsonObject)[k], path ? `${path}.${k}` : k);
    if (p !== undefined) return p;
  }
  return undefined;
}
