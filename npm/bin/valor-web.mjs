#!/usr/bin/env node
// `npx valor-web init [DIR]`: copies the files a site serves (sw.js, and valor/ with the runtime
// and page.js) into the app's public folder, DIR (default: public).
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const [command, dir = 'public', ...rest] = process.argv.slice(2);

function usage(problem) {
  if (problem) console.error(`valor-web: ${problem}`);
  console.error('usage: npx valor-web init [DIR]   copies sw.js and valor/ into DIR (default: public)');
  process.exit(2);
}

if (command === undefined || command === '--help' || command === '-h') usage();
if (command !== 'init') usage(`unknown command '${command}'`);
if (rest.length > 0) usage(`unexpected '${rest.join(' ')}'`);

const copied = [];
async function copy(from, to) {
  await copyFile(from, to);
  copied.push(relative(process.cwd(), to) || to);
}
await mkdir(join(dir, 'valor'), { recursive: true });
await copy(join(here, 'sw.js'), join(dir, 'sw.js'));
for (const name of await readdir(join(here, 'valor'))) {
  await copy(join(here, 'valor', name), join(dir, 'valor', name));
}
await copy(join(here, 'page.js'), join(dir, 'valor', 'page.js'));
console.log(`valor-web: copied ${copied.length} files into ${dir}/:\n  ${copied.join('\n  ')}`);
console.log(`Next: write ${join(dir, 'plugins.json')}, then in a page:
  import { registerValor } from '/valor/page.js';
  await registerValor('/sw.js');
  await fetch('/api/...');
(An app with its own service worker imports valor/valor-worker.js instead of serving sw.js: see the README.)`);
