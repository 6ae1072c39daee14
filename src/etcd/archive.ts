/**
 * The backup archive on the operator's machine: one gzip'd tar (written with
 * node-tar) holding
 *
 *   manifest.json        what it is: cluster, Kubernetes version, etcd members and image, time, snapshot status
 *   etcd/snapshot.db     `etcdctl snapshot save`, checked with `etcdutl snapshot status`
 *   pki.tar              /etc/kubernetes/pki as tar made it on the control plane (modes kept)
 *   kubeadm-config.yaml  the kube-system/kubeadm-config ConfigMap
 *   SHA256SUMS           sha256 of every entry above (sha256sum's format), last
 *
 * and beside it FILE.sha256, the digest of the whole file (`sha256sum -c` reads it).
 * Reading refuses, naming the file, anything that is not exactly that: a tar
 * or gzip error (truncated, a bad header checksum, a broken stream), an entry
 * missing, unknown or twice, a digest that differs. The archive holds the
 * cluster's private keys: it is written 0600, and never through a link.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, Parser, type ReadEntry } from 'tar';
import { UsageError } from '../errors.js';
import { readIfThere, writeFileSafely } from '../local-file.js';

export const ARCHIVE_KIND = 'kbootstrap-etcd-backup';

export interface EtcdMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export interface BackupManifest {
  kind: typeof ARCHIVE_KIND;
  formatVersion: 1;
  cluster: string;
  kubernetesVersion: string;
  /** ISO time the snapshot was taken */
  createdAt: string;
  /** the control plane it was taken on */
  host: string;
  etcd: { image?: string; members: EtcdMember[]; snapshot: SnapshotStatus };
}

export interface BackupContents {
  manifest: BackupManifest;
  snapshot: Buffer;
  pkiTar: Buffer;
  kubeadmConfig: string;
}

const ENTRIES = ['manifest.json', 'etcd/snapshot.db', 'pki.tar', 'kubeadm-config.yaml'] as const;
const SUMS = 'SHA256SUMS';
/**
 * The gzip header of every archive kbootstrap writes: magic, deflate, no flags, mtime 0, no extra
 * flags, and OS 255 ("unknown"), which node-tar's `portable` option sets so that the bytes do not
 * depend on the machine (node-tar src/pack.ts, read 2026-12-07).
 */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function entryBytes(c: BackupContents): Record<(typeof ENTRIES)[number], Buffer> {
  return {
    'manifest.json': Buffer.from(JSON.stringify(c.manifest, null, 2) + '\n'),
    'etcd/snapshot.db': c.snapshot,
    'pki.tar': c.pkiTar,
    'kubeadm-config.yaml': Buffer.from(c.kubeadmConfig),
  };
}

/** The archive's bytes (deterministic for the same contents: every mtime is the manifest's time). */
export function packBackup(c: BackupContents): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kbootstrap-backup-'));
  try {
    const files = entryBytes(c);
    const sums = ENTRIES.map((n) => `${sha256(files[n])}  ${n}\n`).join('');
    writeFileSync(join(dir, SUMS), sums, { mode: 0o600 });
    mkdirSync(join(dir, 'etcd'), { mode: 0o700 });
    for (const n of ENTRIES) {
      writeFileSync(join(dir, n), files[n], { mode: 0o600 });
    }
    const chunks: Buffer[] = [];
    const pack = create({ gzip: true, sync: true, cwd: dir, portable: true, noDirRecurse: true, mtime: new Date(c.manifest.createdAt) }, [...ENTRIES, SUMS]);
    pack.on('data', (d: Buffer) => chunks.push(d));
    // a sync pack has written everything by now
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write the archive (0600, whole or not at all, never through a link) and FILE.sha256 beside it; returns the digest. */
export function writeBackup(path: string, c: BackupContents): { sha256: string; bytes: number } {
  const bytes = packBackup(c);
  const digest = sha256(bytes);
  writeFileSafely(path, bytes, { mode: 0o600 });
  writeFileSafely(`${path}.sha256`, `${digest}  ${path.split('/').pop()}\n`, { mode: 0o600 });
  return { sha256: digest, bytes: bytes.length };
}

/** Why the bytes are not a kbootstrap backup, as one line naming the file; undefined when they are one. */
function refuse(file: string, why: string): UsageError {
  return new UsageError(`${file}: not a usable kbootstrap backup: ${why}; nothing was changed on any host`);
}

/** Read and check a backup archive: every entry present once, every digest right, the manifest sane. */
export function readBackup(file: string): BackupContents & { sha256: string; sidecar: 'matches' | 'absent' } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const digest = sha256(bytes);
  const side = readIfThere(`${file}.sha256`);
  let sidecar: 'matches' | 'absent' = 'absent';
  if (side !== undefined) {
    const want = side.trim().split(/\s+/)[0];
    if (want !== digest) throw refuse(file, `its sha256 is ${digest}, ${file}.sha256 says ${want} (truncated or altered)`);
    sidecar = 'matches';
  }
  // gzip's CRC-32 and length cover every byte of the tar; its 10-byte header (mtime, flags, OS) is covered
  // by nothing, so it must be exactly the one kbootstrap writes (RFC 1952 section 2.3)
  if (bytes.length < 10 || !bytes.subarray(0, 10).equals(GZIP_HEADER)) throw refuse(file, 'it does not start as kbootstrap writes its archives (not gzip, or the header was altered)');
  const got = new Map<string, Buffer>();
  const problems: string[] = [];
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (d: Buffer) => chunks.push(d));
      entry.on('end', () => {
        if (got.has(entry.path)) problems.push(`${entry.path} appears twice`);
        got.set(entry.path, Buffer.concat(chunks));
      });
    },
  });
  parser.on('warn', (_code: string, message: string) => problems.push(message));
  parser.on('error', (e: Error) => problems.push(e.message));
  try {
    parser.end(bytes);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length) throw refuse(file, `the archive is damaged (${problems[0]})`);
  const sums = got.get(SUMS);
  if (!sums) throw refuse(file, `${SUMS} is missing (truncated?)`);
  const listed = new Map<string, string>();
  for (const line of sums.toString('utf8').split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) throw refuse(file, `${SUMS} has a malformed line`);
    listed.set(m[2]!, m[1]!);
  }
  for (const n of ENTRIES) {
    const b = got.get(n);
    if (!b) throw refuse(file, `${n} is missing`);
    if (listed.get(n) !== sha256(b)) throw refuse(file, `${n} does not match its sha256 in ${SUMS} (altered or damaged)`);
  }
  const extra = [...got.keys()].filter((k) => k !== SUMS && !(ENTRIES as readonly string[]).includes(k));
  if (extra.length) throw refuse(file, `unexpected entries: ${extra.join(', ')}`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(got.get('manifest.json')!.toString('utf8')) as BackupManifest;
  } catch {
    throw refuse(file, 'manifest.json is not JSON');
  }
  if (manifest.kind !== ARCHIVE_KIND || manifest.formatVersion !== 1) throw refuse(file, `manifest.json is not a ${ARCHIVE_KIND} of format 1`);
  return {
    manifest, snapshot: got.get('etcd/snapshot.db')!, pkiTar: got.get('pki.tar')!, kubeadmConfig: got.get('kubeadm-config.yaml')!.toString('utf8'),
    sha256: digest, sidecar,
  };
}

/** A plain tar of these files (path → bytes), each 0600, every mtime `at`: a stand-in pki.tar. */
export function packTar(files: Map<string, Buffer>, at = new Date(0)): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kbootstrap-tar-'));
  try {
    for (const [p, data] of files) {
      mkdirSync(join(dir, p, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, p), data, { mode: 0o600 });
    }
    const chunks: Buffer[] = [];
    const pack = create({ sync: true, cwd: dir, portable: true, noDirRecurse: true, mtime: at }, [...files.keys()]);
    pack.on('data', (d: Buffer) => chunks.push(d));
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The files of a tar (pki.tar), by path: regular files only. */
export function tarFiles(bytes: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (d: Buffer) => chunks.push(d));
      entry.on('end', () => { if (entry.type === 'File') files.set(entry.path.replace(/^\.\//, ''), Buffer.concat(chunks)); });
    },
  });
  parser.end(bytes);
  return files;
}
