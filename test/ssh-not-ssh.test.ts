/** A port where something other than sshd answers is named as such, not as a timeout (loopback only). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { sshConnect } from '../src/ssh/transport.js';
import type { HostSpec } from '../src/inventory/model.js';

function spec(port: number): HostSpec {
  return {
    index: 0, name: 'web', address: '127.0.0.1', role: 'worker', labels: {},
    ssh: { user: 'root', port, connectTimeoutSeconds: 2, knownHostsPath: '/dev/null', target: '127.0.0.1', explicit: {}, fieldPaths: {} },
  };
}

const opts = { creds: { keys: new Map<string, string>(), password: 'x' }, acceptNewHostKeys: false, commandTimeoutMs: 5000, connectAttempts: 1 };

describe('connecting to something that is not sshd', () => {
  let http: Server;
  let silent: Server;
  const ports: number[] = [];
  beforeAll(async () => {
    // a web server: reads the client's first line and answers with an HTTP error, as nginx does
    http = createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n')));
    // a service that accepts and never says a word
    silent = createServer(() => undefined);
    for (const srv of [http, silent]) {
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      ports.push((srv.address() as AddressInfo).port);
    }
  });
  afterAll(() => { http.close(); silent.close(); });

  it('a web server on the SSH port is reported with what it said', async () => {
    await expect(sshConnect(spec(ports[0]!), opts)).rejects.toThrow(`web: 127.0.0.1:${ports[0]} answered, but not with SSH (it said "HTTP/1.1 400 Bad Request"): check ssh.port or the address`);
  });

  it('a port that accepts and stays silent is a timeout, as before', async () => {
    await expect(sshConnect(spec(ports[1]!), opts)).rejects.toThrow(`web: no answer from 127.0.0.1:${ports[1]} within 2s`);
  }, 15_000);
});
