import { startEngine } from './browsers.mjs';
import { spawn } from 'node:child_process';
const srv = spawn('python3', ['-m', 'http.server', '8767', '--bind', '127.0.0.1', '--directory', '/tmp/probe2'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 800));
for (const name of (process.argv[2] || 'webkit').split(',')) {
  const engine = await startEngine(name);
  const d = await engine.session();
  try {
    await d.get('http://127.0.0.1:8767/');
    await d.wait(async () => (await d.executeScript('return document.getElementById("out").textContent')) !== '…', 300000);
    console.log(name, await d.executeScript('return document.getElementById("out").textContent'));
  } finally { await d.quit(); engine.stop(); }
}
srv.kill();
