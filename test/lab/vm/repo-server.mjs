// The lab's package repository server: plain HTTP, read-only, files under ROOT, bound to one address
// (the lab bridge's). Usage: node repo-server.mjs ROOT ADDRESS PORT
// The access log (stdout): one line per request, the client's address first.
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
    process.stdout.write(`${req.socket.remoteAddress} ${req.method} ${req.url} 404\n`);
    return;
  }
  // a single byte range, as apt (and kbootstrap bundle) ask for when they resume a partial file (RFC 9110 section 14.2)
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && Number(range[1]) >= st.size) {
    res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
    process.stdout.write(`${req.socket.remoteAddress} ${req.method} ${req.url} 416\n`);
    return;
  }
  const start = range ? Number(range[1]) : 0;
  const status = range ? 206 : 200;
  res.writeHead(status, {
    'content-length': st.size - start, 'last-modified': st.mtime.toUTCString(), 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes',
    ...(range ? { 'content-range': `bytes ${start}-${st.size - 1}/${st.size}` } : {}),
  });
  process.stdout.write(`${req.socket.remoteAddress} ${req.method} ${req.url} ${status}${range ? ` ${req.headers.range}` : ''}\n`);
  if (req.method === 'HEAD') res.end();
  else createReadStream(file, { start }).pipe(res);
}).listen(Number(port), address);
