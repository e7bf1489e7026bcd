// Builds the app into dist/: its public files, Valor's runtime (from the valor-web package) and
// its service worker, bundled with esbuild with Workbox's precache manifest injected.
//   node build.mjs            APP_BUILD=<id> names the build (shown by /app/build)
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const dist = 'dist';
await rm(dist, { recursive: true, force: true });
await cp('public', dist, { recursive: true });

// Valor's runtime beside the worker (valor/), and its page module (valor/page.js).
const valorWeb = dirname(createRequire(import.meta.url).resolve('valor-web/package.json'));
await cp(join(valorWeb, 'valor'), join(dist, 'valor'), { recursive: true });
await cp(join(valorWeb, 'page.js'), join(dist, 'valor', 'page.js'));

// Workbox precaches the pages and their scripts. Not Valor's files: Valor keeps its runtime and
// the plugins' modules in its own cache.
const precached = [];
async function walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path);
    else precached.push(relative(dist, path));
  }
}
await walk(dist);
const manifest = await Promise.all(precached
  .filter((path) => !path.startsWith('plugins') && (!path.startsWith('valor/') || path === 'valor/page.js'))
  .sort()
  .map(async (path) => ({
    url: `/${path}`,
    revision: createHash('sha256').update(await readFile(join(dist, path))).digest('hex').slice(0, 16),
  })));

await mkdir(dist, { recursive: true });
await build({
  entryPoints: ['src/sw.js'],
  bundle: true,
  format: 'iife',
  minify: true,
  outfile: join(dist, 'sw.js'),
  define: {
    'self.__WB_MANIFEST': JSON.stringify(manifest),
    APP_BUILD: JSON.stringify(process.env.APP_BUILD ?? 'dev'),
    VALOR_VERSION: JSON.stringify(JSON.parse(await readFile(join(valorWeb, 'package.json'), 'utf8')).version),
    'process.env.NODE_ENV': '"production"',
  },
  logLevel: 'warning',
});
console.log(`built ${dist}/: ${manifest.length} precached files, sw.js with Workbox and Valor`);
