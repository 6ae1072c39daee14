/**
 * The API server behind a kube-vip VIP, as a client on the machine sees it:
 * one connection to VIP:6443 (the lab's listener answers `kblab-apiserver HOST`),
 * and a prober that keeps connecting while a command runs (the upgrade and
 * certs renew tests: every connection must be answered).
 */
import { connect } from 'node:net';

/** The first line the API server listener behind vip:6443 answers from the machine: `kblab-apiserver HOST`. */
export function apiserverBehindVip(vip: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: vip, port: 6443, timeout: timeoutMs });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data.trim()));
    sock.on('timeout', () => { sock.destroy(); resolve('timeout'); });
    sock.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

export interface Probe { at: number; ms: number; answer: string }

/**
 * Connect to vip:6443 every 200 ms until stop() (a client as patient as kbootstrap's own kubectl calls,
 * --request-timeout=10s: a handover costs a retransmitted SYN, an API server restarting behind the VIP
 * refuses the connection outright). stop() resolves to every probe.
 */
export function probeVip(vip: string): { stop: () => Promise<Probe[]> } {
  const probes: Probe[] = [];
  let stopped = false;
  const t0 = Date.now();
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const answer = await apiserverBehindVip(vip, 10_000);
      probes.push({ at: at - t0, ms: Date.now() - at, answer });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return { stop: async () => { stopped = true; await loop; return probes; } };
}
