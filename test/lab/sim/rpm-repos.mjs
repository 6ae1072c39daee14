// dnf's reading of a repository on the lab network (the bundle server of `up --bundle`): real HTTP
// GETs of repodata/repomd.xml, the primary metadata it lists and each package it installs, checked
// as dnf (librepo) checks them. Each failure is dnf 4's, with the source of its words (read 2026-12-07).
import http from 'node:http';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { appendFileSync, mkdirSync } from 'node:fs';
import { exists } from './lib.mjs';

/** The lab network (test/lab/README.md): the only place a lab host can reach. */
export const LAB_NET = /^https?:\/\/10\.213\.0\.\d{1,3}(:\d+)?\//;

/**
 * Every contact a host's simulated package manager or curl makes with a place outside the lab network,
 * answered or not: the lab's stand-in for the internet's access log (the VM lab has a real repository
 * server with a real log). `up --bundle` must leave it empty.
 */
export const OUTSIDE_LOG = '/var/log/kblab/outside.log';
export function logOutside(prog, url) {
  try {
    mkdirSync('/var/log/kblab', { recursive: true });
    appendFileSync(OUTSIDE_LOG, `${new Date().toISOString()} ${prog} ${url}\n`);
  } catch { /* the record must never break the call */ }
}

/** A host made offline (setOffline in test/lab/lab.ts): no place outside the lab network answers it. */
export const offline = () => exists('/var/lib/kblab/offline');

/** GET over the lab network: { status, body } or { error: [curl code, words] } as libcurl reports it. */
export function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 20_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    const u = new URL(url);
    req.on('timeout', () => { req.destroy(); resolve({ error: [28, `Operation timed out after 20000 milliseconds with 0 bytes received`] }); });
    req.on('error', (e) => resolve({ error: e.code === 'ECONNREFUSED' ? [7, `Failed to connect to ${u.hostname} port ${u.port || 80}: Connection refused`] : [56, e.message] }));
  });
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const attr = (tag, name) => (new RegExp(`\\b${name}="([^"]*)"`).exec(tag) ?? [])[1];

/** librepo's line for a failed download (the Status code / Curl error lines of "Errors during downloading metadata", dnf issue tracker texts). */
function why(url, r) {
  return r.error ? `Curl error (${r.error[0]}): ${r.error[0] === 7 ? "Couldn't connect to server" : 'Failure'} for ${url} [${r.error[1]}]` : `Status code: ${r.status} for ${url} (IP: ${new URL(url).hostname})`;
}

/**
 * A repository's packages, from repomd.xml and the primary metadata it lists. Throws the text dnf
 * prints when it cannot load the repository:
 * - repomd.xml that does not come: "Errors during downloading metadata for repository 'ID': - Status
 *   code: 404 for URL ... Error: Failed to download metadata for repo 'ID': Cannot download repomd.xml:
 *   Cannot download repodata/repomd.xml: All mirrors were tried" (libdnf, as in the dnf issue tracker);
 * - primary metadata whose sha256 is not the one repomd.xml gives: librepo's "Downloading successful,
 *   but checksum doesn't match. Calculated: X(sha256)  Expected: Y(sha256)" (e.g. irontec/sngrep#302);
 * - repo_gpgcheck=1 and no repomd.xml.asc: librepo fetches it and fails like a missing repomd.xml.
 */
export async function loadRepo(repo) {
  const base = repo.baseurl.replace(/\/?$/, '/');
  const fail = (line) => {
    const err = new Error(`Errors during downloading metadata for repository '${repo.id}':\n  - ${line}\nError: Failed to download metadata for repo '${repo.id}': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried`);
    err.repoId = repo.id;
    throw err;
  };
  const repomdUrl = `${base}repodata/repomd.xml`;
  const repomd = await get(repomdUrl);
  if (repomd.error || repomd.status !== 200) fail(why(repomdUrl, repomd));
  if (repo.repoGpgcheck) {
    const ascUrl = `${repomdUrl}.asc`;
    const asc = await get(ascUrl);
    if (asc.error || asc.status !== 200) fail(why(ascUrl, asc));
  }
  const xml = repomd.body.toString('utf8');
  const primary = /<data type="primary">([\s\S]*?)<\/data>/.exec(xml)?.[1];
  if (!primary) fail(`repomd.xml of ${base} lists no primary metadata`);
  const href = attr(/<location[^>]*>/.exec(primary)[0], 'href');
  const want = /<checksum type="sha256">([0-9a-f]+)<\/checksum>/.exec(primary)?.[1];
  const url = `${base}${href}`;
  const r = await get(url);
  if (r.error || r.status !== 200) fail(why(url, r));
  if (sha256(r.body) !== want) fail(`Downloading successful, but checksum doesn't match. Calculated: ${sha256(r.body)}(sha256)  Expected: ${want}(sha256)`);
  const text = (href.endsWith('.gz') ? gunzipSync(r.body) : r.body).toString('utf8');
  const packages = [];
  for (const m of text.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const p = m[1];
    const v = /<version[^>]*>/.exec(p)[0];
    const deps = (kind) => [...(new RegExp(`<rpm:${kind}>([\\s\\S]*?)</rpm:${kind}>`).exec(p)?.[1] ?? '').matchAll(/<rpm:entry[^>]*>/g)].map((e) => ({ name: attr(e[0], 'name'), flags: attr(e[0], 'flags'), ver: attr(e[0], 'ver') }));
    packages.push({
      name: /<name>([^<]*)<\/name>/.exec(p)[1], arch: /<arch>([^<]*)<\/arch>/.exec(p)[1],
      epoch: attr(v, 'epoch') ?? '0', ver: attr(v, 'ver'), rel: attr(v, 'rel'),
      sha256: /<checksum type="sha256"[^>]*>([0-9a-f]+)<\/checksum>/.exec(p)[1],
      href: attr(/<location[^>]*>/.exec(p)[0], 'href'),
      requires: deps('requires'), provides: deps('provides'), repo,
    });
  }
  return packages;
}

/**
 * Fetch a package dnf chose and check it as dnf does before rpm sees it: the sha256 the primary
 * metadata gives ("[MIRROR] F: Downloading successful, but checksum doesn't match ... [FAILED] F: No
 * more mirrors to try ... Error: Error downloading packages: Cannot download F: All mirrors were
 * tried", irontec/sngrep#302); with gpgcheck=1, the repository's gpgkey= file must be there
 * ("Curl error (37): Couldn't read a file:// file for file:///K [Couldn't open file K]" then "Error:
 * GPG check FAILED", FZUG/repo#122, SagerNet/sing-box#2522). The signature itself is not checked
 * here: the lab's packages are made-up bytes (test/bundle-rpm.test.ts runs real dnf on signed ones).
 */
export async function fetchPackage(p) {
  const file = p.href.split('/').pop();
  const url = `${p.repo.baseurl.replace(/\/?$/, '/')}${p.href}`;
  const r = await get(url);
  if (r.error || r.status !== 200) return { error: `[MIRROR] ${file}: ${why(url, r)}\n[FAILED] ${file}: No more mirrors to try - All mirrors were already tried without success\nError: Error downloading packages:\n  Cannot download ${file}: All mirrors were tried` };
  if (sha256(r.body) !== p.sha256) {
    return { error: `[MIRROR] ${file}: Downloading successful, but checksum doesn't match. Calculated: ${sha256(r.body)}(sha256)  Expected: ${p.sha256}(sha256)\n[FAILED] ${file}: No more mirrors to try - All mirrors were already tried without success\nError: Error downloading packages:\n  Cannot download ${file}: All mirrors were tried` };
  }
  if (p.repo.gpgcheck) {
    const key = (p.repo.gpgkey ?? '').replace(/^file:\/\//, '');
    if (!key || !exists(key)) return { error: `Curl error (37): Couldn't read a file:// file for file://${key} [Couldn't open file ${key}]\nThe downloaded packages were saved in cache until the next successful transaction.\nYou can remove cached packages by executing 'dnf clean packages'.\nError: GPG check FAILED` };
  }
  return {};
}
