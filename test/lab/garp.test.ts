/**
 * The lab's kube-vip announces a moved VIP the way kube-vip does, and a Linux
 * neighbour applies it at once. A gratuitous ARP reply whose target hardware
 * address is the broadcast address (what the lab sent before) is not
 * "gratuitous" to Linux (net/ipv4/arp.c, arp_is_garp) and is ignored within
 * the neighbour entry's locktime (1 s by default): the machine kept sending
 * to the old holder, and the certs renew e2e saw one connection to the VIP
 * time out (CI, 2026-12-07). Three network namespaces on a bridge: a client,
 * the old holder and the new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LAB_SKIP_REASON } from './support.js';

const GARP = fileURLToPath(new URL('./sim/garp.py', import.meta.url));
const NS = ['kbgarp-c', 'kbgarp-a', 'kbgarp-b'];
const BR = 'kbgarpbr';
const VIP = '10.214.9.100';
const ip = (...a: string[]) => execFileSync('ip', a, { encoding: 'utf8' });
const inNs = (ns: string, ...a: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...a], { encoding: 'utf8' });
const mac = (ns: string) => inNs(ns, 'cat', '/sys/class/net/eth0/address').trim();
const neighbour = () => /lladdr (\S+)/.exec(ip('-n', NS[0]!, 'neigh', 'show', VIP))?.[1];

function cleanup(): void {
  for (const n of NS) spawnSync('ip', ['netns', 'del', n]);
  spawnSync('ip', ['link', 'del', BR]);
}

describe.skipIf(!!LAB_SKIP_REASON)('gratuitous ARP from the lab\'s kube-vip', () => {
  beforeAll(() => {
    cleanup();
    ip('link', 'add', BR, 'type', 'bridge');
    ip('link', 'set', BR, 'up');
    NS.forEach((n, i) => {
      ip('netns', 'add', n);
      ip('link', 'add', `kbg${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n);
      ip('link', 'set', `kbg${i}`, 'master', BR, 'up');
      ip('-n', n, 'addr', 'add', `10.214.9.${i + 1}/24`, 'dev', 'eth0');
      ip('-n', n, 'link', 'set', 'eth0', 'up');
      ip('-n', n, 'link', 'set', 'lo', 'up');
    });
  });
  afterAll(cleanup);

  for (const kind of ['reply', 'request'] as const) {
    it(`a ${kind} moves the client's neighbour entry to the new holder inside the locktime`, () => {
      const [client, from, to] = kind === 'reply' ? NS : [NS[0]!, NS[2]!, NS[1]!];
      ip('-n', client!, 'neigh', 'flush', 'all');
      ip('-n', from!, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0');
      // the client talks to the holder: its entry is fresh (updated just now)
      inNs(client!, 'python3', '-c', `import socket\ns=socket.socket()\ns.settimeout(2)\ntry: s.connect(("${VIP}", 9))\nexcept OSError: pass`);
      expect(neighbour()).toBe(mac(from!));
      ip('-n', from!, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0');
      ip('-n', to!, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0');
      inNs(to!, '/usr/bin/python3', GARP, 'eth0', VIP, kind);
      expect(neighbour()).toBe(mac(to!));
      ip('-n', to!, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0');
    });
  }
});
