/**
 * Debian 12's own repositories, for bundle --with-os-packages tests, as a loopback mirror that no
 * test run needs the internet for: the real signed InRelease and Packages.gz of bookworm,
 * bookworm-updates (deb.debian.org/debian) and bookworm-security (/debian-security), and the real
 * .debs a bundle takes from them, all fetched once with apt's own downloader (apt-helper
 * download-file, each file checked against its SHA256) into the lab's cache folder, then copied into
 * the mirror's tree at the paths a packageMirror has them (debian/, debian-security/).
 * Each file is fetched once and kept (written beside and renamed, so a cut fetch leaves nothing
 * under the name); delete the folder to fetch today's indexes again.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import { cacheRoot, debianMirror } from '../lab/vm/image.js';
import { paragraphs } from '../../src/bundle/apt.js';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const SECURITY = 'http://deb.debian.org/debian-security';

/** The trees a bundle for Debian 12 reads (src/bundle/needs.ts osAptTrees): mirror path, upstream base, suite. */
export const BOOKWORM_TREES = [
  { path: 'debian', base: () => debianMirror(), suite: 'bookworm' },
  { path: 'debian', base: () => debianMirror(), suite: 'bookworm-updates' },
  { path: 'debian-security', base: () => SECURITY, suite: 'bookworm-security' },
] as const;

export function osTreeUnavailable(): string | undefined {
  if (!existsSync('/usr/lib/apt/apt-helper')) return 'no /usr/lib/apt/apt-helper (apt)';
  if (!existsSync(DEBIAN_KEYRING)) return `no ${DEBIAN_KEYRING} (apt-get install debian-archive-keyring)`;
  return undefined;
}

function fetchFile(url: string, dest: string, sha256?: string): void {
  if (existsSync(dest)) return;
  mkdirSync(dirname(dest), { recursive: true });
  const r = spawnSync('/usr/lib/apt/apt-helper', ['download-file', url, `${dest}.part`, ...(sha256 ? [`SHA256:${sha256}`] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apt-helper download-file ${url}: ${r.stdout}${r.stderr}`);
  renameSync(`${dest}.part`, dest);
}

const cacheDir = () => join(cacheRoot(), 'debian-os-tree', 'bookworm');

/**
 * The index files in the cache (fetched once); their Packages paragraphs, for the test to pick which
 * .debs to fetch. The InRelease is checked here only by apt-helper's transport; kbootstrap checks its
 * signature when it bundles.
 */
export function bookwormIndexes(): { suite: string; path: string; base: string; inRelease: string; packagesGz: string; sha256: string; packages: Map<string, string>[] }[] {
  const dir = cacheDir();
  return BOOKWORM_TREES.map((t) => {
    const inRelease = join(dir, t.path, 'dists', t.suite, 'InRelease');
    fetchFile(`${t.base()}/dists/${t.suite}/InRelease`, inRelease);
    const text = readFileSync(inRelease, 'utf8');
    // bookworm publishes Packages.gz and .xz; its -updates and -security suites .xz only
    const m = new RegExp(`^ ([0-9a-f]{64}) +\\d+ main/binary-amd64/Packages\\.(gz|xz)$`, 'm').exec(text.slice(text.indexOf('SHA256:')));
    if (!m) throw new Error(`${inRelease}: no SHA256 for main/binary-amd64/Packages.gz or .xz`);
    const packagesGz = join(dir, t.path, 'dists', t.suite, 'main', 'binary-amd64', `Packages.${m[2]}`);
    fetchFile(`${t.base()}/dists/${t.suite}/main/binary-amd64/Packages.${m[2]}`, packagesGz, m[1]);
    const raw = readFileSync(packagesGz);
    return { suite: t.suite, path: t.path, base: t.base(), inRelease, packagesGz, sha256: m[1]!, packages: paragraphs((m[2] === 'gz' ? gunzipSync(raw) : xz.decompressSync(raw)).toString('utf8')) };
  });
}

/**
 * Lay the trees out under `root` (root/debian/dists/…, root/debian-security/dists/…) with the .debs
 * `want` names (path under the tree, sha256), each fetched once into the cache.
 */
export function layOutBookworm(root: string, want: readonly { path: string; file: string; sha256: string }[]): void {
  const dir = cacheDir();
  for (const t of bookwormIndexes()) {
    for (const f of [t.inRelease, t.packagesGz]) {
      const rel = f.slice(dir.length + 1);
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      copyFileSync(f, join(root, rel));
    }
  }
  for (const w of want) {
    const base = BOOKWORM_TREES.find((t) => t.path === w.path)!.base();
    const cached = join(dir, w.path, w.file);
    fetchFile(`${base}/${w.file}`, cached, w.sha256);
    mkdirSync(dirname(join(root, w.path, w.file)), { recursive: true });
    copyFileSync(cached, join(root, w.path, w.file));
  }
}

/**
 * The dpkg status of a minimal installation of this machine's release: the installed packages of
 * Priority required or important and everything installed they depend on (the closure, read from
 * this machine's own /var/lib/dpkg/status). What bundle --with-os-packages leaves out must be there.
 */
export function minimalStatus(): string {
  const all = paragraphs(readFileSync('/var/lib/dpkg/status', 'utf8')).filter((p) => /install ok installed/.test(p.get('Status') ?? ''));
  const byName = new Map<string, Map<string, string>>();
  for (const p of all) {
    byName.set(p.get('Package')!, p);
    for (const v of (p.get('Provides') ?? '').split(',').map((x) => x.trim().split(/[\s(:]/)[0]!).filter(Boolean)) if (!byName.has(v)) byName.set(v, p);
  }
  const keep = new Map<string, Map<string, string>>();
  const queue = all.filter((p) => ['required', 'important'].includes(p.get('Priority') ?? '') || p.get('Essential') === 'yes');
  while (queue.length) {
    const p = queue.shift()!;
    if (keep.has(p.get('Package')!)) continue;
    keep.set(p.get('Package')!, p);
    for (const group of [p.get('Pre-Depends'), p.get('Depends')].filter(Boolean).join(',').split(',')) {
      for (const alt of group.split('|')) {
        const dep = byName.get(alt.trim().split(/[\s(:]/)[0]!);
        if (dep) { queue.push(dep); break; }
      }
    }
  }
  return [...keep.values()].map((p) => [...p].map(([k, v]) => `${k}: ${v.replace(/\n/g, '\n ')}`).join('\n')).join('\n\n') + '\n';
}
