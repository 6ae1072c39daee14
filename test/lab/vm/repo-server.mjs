// The lab's package repository server: plain HTTP, read-only, files under ROOT, bound to one address
// (the lab bridge's). Usage: node repo-server.mjs ROOT ADDRESS PORT
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

const [root, address, port] = process.argv.slice(2);
createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  const file = join(root, path);
  let st;
  try { st = statSync(file); } catch { /* missing */ }
  // normalize() resolves '..', so the join stays under root
  if (!st?.isFile() || !file.startsWith(root) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found\n');
    process.stdout.write(`${req.method} ${req.url} 404\n`);
    return;
  }
  res.writeHead(200, { 'content-length': st.size, 'last-modified': st.mtime.toUTCString(), 'content-type': 'application/octet-stream' });
  process.stdout.write(`${req.method} ${req.url} 200\n`);
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}).listen(Number(port), address);
