/**
 * "The internet" of the offline VM lab (`npm run lab -- up --vm --offline`, issue 21): the lab's
 * repository server (Docker's and pkgs.k8s.io's trees, cri-dockerd) and a real registry (Debian's
 * docker-registry, distribution 2.8 from trixie: TLS from a lab CA, htpasswd credentials) holding
 * real OCI images the lab builds from Debian binaries. Both listen on a loopback address of this
 * machine (INTERNET_ADDR): `kbootstrap bundle` here reaches them, and no VM can, whatever it does
 * inside: a packet a VM sends to 127.0.0.0/8 never leaves it, and this machine drops one that
 * arrives on the bridge with a loopback destination as a martian (route_localnet is off; a VM
 * cannot change this machine's sysctls or routes).
 *
 * What the VMs do reach besides each other: the site's own Debian mirror (the lab's /debian tree
 * alone, served on the bridge address), as an air-gapped site keeps a mirror of its OS release's
 * repositories; containerd, runc and the CNI plugins the lab's stand-in packages depend on come from
 * there, like the OS packages a bundle lists and does not carry (README "Offline / air-gapped").
 *
 * registryRelay() opens the registry to the VMs for the length of one check (a TCP relay on the
 * bridge address), for the pull through kbootstrap's hosts.toml.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { LAB_DIR, GATEWAY } from '../lab.js';
import { fetchDebianPackages } from '../../support/debian-suites.js';
import { buildOciImage } from '../../support/oci-image.js';
import { pushImage } from '../../support/registry-push.js';
import { labCa, registryBinary, registryConfig } from '../../support/registry.js';
import { loadInventoryFile } from '../../../src/inventory/load.js';
import { kubeadmImages } from '../../../src/bundle/needs.js';
import { parseImageRef } from '../../../src/bundle/images.js';

/** A loopback address of this machine no VM can reach (any 127/8 address is local on Linux). */
export const INTERNET_ADDR = process.env.KBLAB_INTERNET_ADDR ?? '127.21.0.1';
export const REGISTRY_PORT = Number(process.env.KBLAB_REGISTRY_PORT ?? 5000);
/** Where registryRelay() opens the registry to the VMs, on the bridge address. */
export const REGISTRY_RELAY_PORT = REGISTRY_PORT + 443;
export const REGISTRY_USER = 'kblab';
/** An image in the registry that no bundle holds: what a VM pulls through kbootstrap's hosts.toml. */
export const PROBE_IMAGE = { repo: 'kblab/probe', tag: '1' };

export interface OfflineState {
  /** the site's Debian mirror on the bridge (the only lab server a VM reaches) */
  siteMirror: { url: string; pid: number };
  registry: {
    /** host:port as image names and cluster.registries spell it (the loopback address) */
    host: string;
    ca: string;
    user: string;
    /** the password, mode 0600 (cluster.registries[].credentials.passwordFile) */
    passwordFile: string;
    pid: number;
    log: string;
  };
  /** what the lab pushed: every image kubeadm's list names for the lab's version, and the probe image */
  images: string[];
}

const dir = () => join(LAB_DIR, 'internet');
const pidOf = (name: string) => join(LAB_DIR, `${name}.pid`);

async function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function waitPort(host: string, port: number, what: string, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await portAnswers(host, port))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start on ${host}:${port} (${log})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start argv detached (it outlives `npm run lab -- up`), its output appended to log, its pid in LAB_DIR/<name>.pid. */
function daemon(name: string, argv: string[], log: string): number {
  const fd = openSync(log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  writeFileSync(pidOf(name), String(child.pid));
  return child.pid!;
}

/** Stop a daemon this lab dir started, checked by its command line so a reused pid is never killed. */
export function stopDaemon(name: string, cmdline: string): void {
  const f = pidOf(name);
  if (!existsSync(f)) return;
  const pid = Number(readFileSync(f, 'utf8').trim());
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cmdline)) process.kill(pid, 'SIGKILL');
  } catch { /* gone */ }
  rmSync(f, { force: true });
}

/** The site's Debian mirror: the repository's /debian tree alone, on the bridge address. */
async function startSiteMirror(repoRoot: string, port: number, say: (m: string) => void): Promise<{ url: string; pid: number }> {
  const root = join(dir(), 'site-mirror');
  mkdirSync(root, { recursive: true });
  symlinkSync(join(repoRoot, 'debian'), join(root, 'debian'));
  const log = join(LAB_DIR, 'site-mirror.log');
  const pid = daemon('site-mirror', [process.execPath, join(import.meta.dirname, 'repo-server.mjs'), root, GATEWAY, String(port)], log);
  await waitPort(GATEWAY, port, 'the site mirror', log);
  const url = `http://${GATEWAY}:${port}`;
  say(`site Debian mirror (the VMs' only lab server): ${url}/debian`);
  return { url, pid };
}

/** The registry, its CA and credentials, and the images in it. */
async function startRegistry(version: string, say: (m: string) => void): Promise<OfflineState['registry'] & { images: string[] }> {
  const reg = registryBinary();
  if ('skip' in reg) throw new Error(`the offline lab needs Debian's docker-registry: ${reg.skip}`);
  const d = join(dir(), 'registry');
  mkdirSync(d, { recursive: true });
  const host = `${INTERNET_ADDR}:${REGISTRY_PORT}`;
  // the certificate names the bridge address too: registryRelay() serves the same registry there
  const tls = labCa(join(d, 'ca'), 'kblab registry CA', [INTERNET_ADDR, GATEWAY]);
  const password = randomBytes(12).toString('hex');
  const passwordFile = join(LAB_DIR, 'registry-password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  const conf = registryConfig(d, host, tls, { [REGISTRY_USER]: password });
  const log = join(LAB_DIR, 'registry.log');
  const pid = daemon('registry', [reg.bin, 'serve', conf], log);
  await waitPort(INTERNET_ADDR, REGISTRY_PORT, 'docker-registry', log);
  say(`registry: https://${host} (TLS from the lab CA ${tls.ca}, user ${REGISTRY_USER}, password in ${passwordFile})`);

  // a real image from Debian's busybox-static: a static binary, so the image runs on its own
  const bb = fetchDebianPackages('trixie', 'busybox-static', ['busybox-static']);
  const image = buildOciImage(join(d, 'busybox.oci.tar'), 'kblab/busybox:1', { [join(bb.root, 'usr', 'bin', 'busybox')]: 'bin/busybox' });
  // kubeadm's image list for the lab's version, as a bundle asks for it (the registry mirrors registry.k8s.io)
  const invFile = join(d, 'images.yaml');
  writeFileSync(invFile, ['apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: lab', `  kubernetesVersion: "${version}"`, '  cni: { plugin: none }',
    'hosts:', '  - { name: lab-01, address: 10.213.0.11, role: control-plane, os: debian12 }', ''].join('\n'));
  const refs = kubeadmImages(loadInventoryFile(invFile).inventory);
  const ca = readFileSync(tls.ca);
  const pushed: string[] = [];
  for (const ref of refs) {
    const r = parseImageRef(ref);
    await pushImage(image.archive, host, r.repo, r.tag, ca, REGISTRY_USER, password);
    pushed.push(ref);
  }
  await pushImage(image.archive, host, PROBE_IMAGE.repo, PROBE_IMAGE.tag, ca, REGISTRY_USER, password);
  pushed.push(`${host}/${PROBE_IMAGE.repo}:${PROBE_IMAGE.tag}`);
  say(`registry: ${pushed.length} images pushed (one busybox-static layer): ${pushed.join(', ')}`);
  return { host, ca: tls.ca, user: REGISTRY_USER, passwordFile, pid, log, images: pushed };
}

/** Start the site mirror and the registry (the repository server itself is started by vmUp on INTERNET_ADDR). */
export async function startOffline(repoRoot: string, sitePort: number, version: string, say: (m: string) => void): Promise<OfflineState> {
  rmSync(dir(), { recursive: true, force: true });
  mkdirSync(dir(), { recursive: true });
  const siteMirror = await startSiteMirror(repoRoot, sitePort, say);
  const { images, ...registry } = await startRegistry(version, say);
  return { siteMirror, registry, images };
}

export function stopOffline(): void {
  stopDaemon('registry', 'docker-registry');
  stopDaemon('site-mirror', 'repo-server.mjs');
}

/**
 * Open the registry to the VMs: a TCP relay from GATEWAY:REGISTRY_RELAY_PORT to the registry, until
 * close(). TLS stays end to end (the certificate names GATEWAY too). The relay is a child process: a
 * test's synchronous SSH call (labSh) blocks its own event loop, and a relay in it would stall.
 */
export async function registryRelay(): Promise<{ host: string; close: () => void }> {
  const code = [
    "const net = require('node:net');",
    `net.createServer((c) => { const up = net.connect({ host: ${JSON.stringify(INTERNET_ADDR)}, port: ${REGISTRY_PORT} });`,
    "  c.pipe(up).pipe(c); c.on('error', () => up.destroy()); up.on('error', () => c.destroy()); })",
    `  .listen(${REGISTRY_RELAY_PORT}, ${JSON.stringify(GATEWAY)});`,
  ].join('\n');
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  try {
    await waitPort(GATEWAY, REGISTRY_RELAY_PORT, 'the registry relay', 'node -e');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { host: `${GATEWAY}:${REGISTRY_RELAY_PORT}`, close: () => { child.kill('SIGKILL'); } };
}

/** Client addresses in an access log (the repository server's first field; docker-registry's remote addr / http.request.remoteaddr). */
export function logClients(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/^(\d+\.\d+\.\d+\.\d+) (?:GET|HEAD|POST|PUT)\b/gm)) out.add(m[1]!);
  for (const m of text.matchAll(/http\.request\.remoteaddr="?(\d+\.\d+\.\d+\.\d+)/g)) out.add(m[1]!);
  return [...out].sort();
}

/** Is `spawnSync` of docker-registry possible here (for vmUnavailable-like checks)? */
export function offlineUnavailable(): string | undefined {
  for (const t of ['openssl', 'python3', 'gzip']) if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing`;
  return undefined;
}
