/** A fixed stand-in backup for tests: placeholder bytes where a real one has keys and a snapshot. */
import { packTar, type BackupContents } from '../../src/etcd/archive.js';
import { SHARED_PKI } from '../../src/steps/etcd-restore.js';

export function fixtureBackup(cluster: string): BackupContents {
  const pki = new Map<string, Buffer>(SHARED_PKI.map((f) => [`pki/${f}`, Buffer.from(f.endsWith('.key') ? `FIXTURE CA KEY ${f}\n` : `FIXTURE ${f}\n`)]));
  pki.set('pki/apiserver.crt', Buffer.from('FIXTURE apiserver.crt\n'));
  return {
    manifest: {
      kind: 'kbootstrap-etcd-backup', formatVersion: 1, cluster, kubernetesVersion: '1.31.2', createdAt: '2026-12-01T00:00:00.000Z', host: 'cp-1',
      etcd: { image: 'registry.k8s.io/etcd:3.5.15-0', members: [{ id: '8e9e05c52164694d', name: 'cp-1', peerUrls: ['https://192.168.60.11:2380'], clientUrls: ['https://192.168.60.11:2379'] }], snapshot: { hash: 1, revision: 42, totalKey: 7, totalSize: 20480 } },
    },
    snapshot: Buffer.concat([Buffer.from([0xff, 0x00, 0x80]), Buffer.alloc(20509, 7)]),
    pkiTar: packTar(pki, new Date('2026-12-01T00:00:00Z')),
    kubeadmConfig: 'apiVersion: v1\nkind: ConfigMap\n',
  };
}
