// Keeps the bundle's chunks ASCII only (scripts/bundle.mjs says why): rolldown's `charset: 'ascii'` escapes
// every string, regular expression and name; the legal comments it keeps, on lines of their own, are escaped
// here, and anything else non-ASCII fails the build.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Rewrites every non-ASCII character of a comment line (`/*! … *\/` alone on its line: no code after it, so the
 * source map's columns are untouched) as `\uXXXX`; throws on one anywhere else. Returns the files rewritten.
 */
export function asciiOnly(dir) {
  let rewritten = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    if (!NON_ASCII.test(text)) continue;
    const lines = text.split('\n').map((line, i) => {
      if (!NON_ASCII.test(line)) return line;
      if (!/^\/\*(?:(?!\*\/)[\s\S])*\*\/$/.test(line)) {
        const at = line.search(NON_ASCII);
        throw new Error(`${name}:${i + 1}: a non-ASCII character outside a comment (${JSON.stringify(line.slice(Math.max(0, at - 40), at + 20))}): the chunk's source would cost V8 two bytes per character`);
      }
      return line.replace(new RegExp(NON_ASCII.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    });
    writeFileSync(file, lines.join('\n'));
    rewritten += 1;
  }
  return rewritten;
}
