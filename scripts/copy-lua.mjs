// Copies every Lua file under src/ into dist/ at the same relative path: the compiled modules read their
// scripts from next to themselves (new URL('./lua/x.lua', import.meta.url)), and tsc copies only .ts output.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyLuaFiles } from './lua-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

copyLuaFiles(src, (file) => join(dist, relative(src, file)), root);
