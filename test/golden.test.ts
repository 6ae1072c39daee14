/**
 * Golden files are the specification of what kbootstrap runs on a host.
 * Regenerate with `npm run golden:update`, then read the diff as a reviewer.
 */
import { ADDONS } from '../src/versions/index.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import { dryRun } from '../src/dry-run.js';
import { buildCertsRenewPlan, buildUpgradePlan } from '../src/plan.js';
import { checkScripts } from './support/shellcheck.js';

const ROOT = join(import.meta.dirname, '..');
const INVENTORIES = readdirSync(join(ROOT, 'inventories')).filter((f) => f.endsWith('.yaml')).sort();
const UPDATE = process.env.KBOOTSTRAP_UPDATE_GOLDEN === '1';

function unifiedDiff(expected: string, actual: string, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-golden-'));
  try {
    writeFileSync(join(dir, 'golden'), expected);
    writeFileSync(join(dir, 'rendered'), actual);
    const r = spawnSync('diff', ['-u', '--label', `golden/${label}`, '--label', 'rendered', join(dir, 'golden'), join(dir, 'rendered')], { encoding: 'utf8' });
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(INVENTORIES)('inventories/%s', (file) => {
  const name = basename(file, '.yaml');
  const goldenDir = join(ROOT, 'test', 'golden', name);

  it('renders every host to its golden script', async () => {
    const { inventory } = loadInventoryFile(join(ROOT, 'inventories', file));
    // a relative inventory path keeps absolute paths of this checkout out of the golden files
    inventory.file = join('inventories', file);
    const hosts = await dryRun(inventory);
    expect(hosts.map((h) => h.host)).toEqual(inventory.hosts.map((h) => h.name));
    if (UPDATE) {
      rmSync(goldenDir, { recursive: true, force: true });
      mkdirSync(goldenDir, { recursive: true });
      for (const h of hosts) writeFileSync(join(goldenDir, `${h.host}.sh`), h.script);
    }
    const problems: string[] = [];
    for (const h of hosts) {
      const path = join(goldenDir, `${h.host}.sh`);
      if (!existsSync(path)) { problems.push(`missing golden file ${path} (npm run golden:update)`); continue; }
      const want = readFileSync(path, 'utf8');
      if (want !== h.script) problems.push(unifiedDiff(want, h.script, `${name}/${h.host}.sh`));
    }
    const extra = existsSync(goldenDir) ? readdirSync(goldenDir).filter((f) => !hosts.some((h) => `${h.host}.sh` === f)) : [];
    for (const f of extra) problems.push(`stale golden file ${name}/${f}: no such host any more`);
    if (problems.length) throw new Error(`golden mismatch (npm run golden:update regenerates; review the diff):\n${problems.join('\n')}`);
  });

  it('golden scripts pass bash -n and shellcheck', () => {
    const scripts = readdirSync(goldenDir).map((f) => join(goldenDir, f));
    expect(scripts.length).toBeGreaterThan(0);
    checkScripts(scripts);
  });

  it('golden scripts hold no secrets, only placeholders', () => {
    // the digests downloads are checked against are public (pinned by kbootstrap, or the inventory's own)
    const publicDigests = [...ADDONS.flatMap((r) => (r.manifestSha256 ? [r.manifestSha256] : [])), '0'.repeat(64)];
    for (const f of readdirSync(goldenDir)) {
      const text = publicDigests.reduce((t, d) => t.split(d).join('<public digest>'), readFileSync(join(goldenDir, f), 'utf8'));
      expect(text).not.toMatch(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/); // bootstrap token
      expect(text).not.toMatch(/sha256:[a-f0-9]{64}/); // CA hash
      expect(text).not.toMatch(/\b[a-f0-9]{64}\b/); // certificate key
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/); // no timestamps
    }
  });
});

/**
 * The whole upgrade, per host, as bash: inventories with every kind of node
 * (first control plane, other control planes, workers), behind an external
 * load balancer and behind kube-vip (whose VIP each control plane hands over
 * before kubeadm restarts its API server), each asked to go to the minor after
 * its own (rocky-ha 1.36 -> 1.37.1, ubuntu-kube-vip 1.35 -> 1.36.4).
 */
const UPGRADE_TO: Record<string, string> = { 'rocky-ha': '1.37.1', 'ubuntu-kube-vip': '1.36.4' };
describe.each(['rocky-ha', 'ubuntu-kube-vip'])('kbootstrap upgrade --dry-run of inventories/%s.yaml to the next minor', (name) => {
  const to = UPGRADE_TO[name]!;
  const goldenDir = join(ROOT, 'test', 'golden', `upgrade-${name}`);

  it('renders every host to its golden script, and they pass bash -n and shellcheck', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-golden-'));
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, readFileSync(join(ROOT, 'inventories', `${name}.yaml`), 'utf8').replace(/kubernetesVersion: "[^"]+"/, `kubernetesVersion: "${to}"`));
    const { inventory } = loadInventoryFile(file);
    rmSync(dir, { recursive: true, force: true });
    inventory.file = `inventories/${name}.yaml`;
    const hosts = await dryRun(inventory, { plan: buildUpgradePlan(inventory) });
    expect(hosts.map((h) => h.host)).toEqual(inventory.hosts.map((h) => h.name));
    if (UPDATE) {
      rmSync(goldenDir, { recursive: true, force: true });
      mkdirSync(goldenDir, { recursive: true });
      for (const h of hosts) writeFileSync(join(goldenDir, `${h.host}.sh`), h.script);
    }
    const problems: string[] = [];
    for (const h of hosts) {
      const path = join(goldenDir, `${h.host}.sh`);
      if (!existsSync(path)) { problems.push(`missing golden file ${path} (npm run golden:update)`); continue; }
      const want = readFileSync(path, 'utf8');
      if (want !== h.script) problems.push(unifiedDiff(want, h.script, `upgrade-${name}/${h.host}.sh`));
    }
    if (problems.length) throw new Error(`golden mismatch (npm run golden:update regenerates; review the diff):\n${problems.join('\n')}`);
    checkScripts(readdirSync(goldenDir).map((f) => join(goldenDir, f)));
    // kubeadm's order: apply on the first control plane only, upgrade node on the others, every node drained through the first control plane
    const text = (n: string) => hosts.find((h) => h.host === n)!.script;
    expect(text('cp-1')).toContain(`kubeadm upgrade apply v${to} -y`);
    expect(text('cp-2')).toContain('kubeadm upgrade node');
    expect(text('cp-2')).not.toContain('kubeadm upgrade apply');
    expect(text('worker-1')).toContain('kubeadm upgrade node');
    expect(text('cp-1')).toContain("kb_kubectl drain worker-1 --ignore-daemonsets");
    // with kube-vip every control plane hands the VIP over before kubeadm touches its API server; workers never do
    const handover = "mv -f /etc/kubernetes/manifests/kube-vip.yaml /etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade";
    for (const cp of ['cp-1', 'cp-2', 'cp-3']) expect(text(cp).includes(handover), cp).toBe(name === 'ubuntu-kube-vip');
    expect(text('worker-1')).not.toContain(handover);
  });
});

/**
 * kbootstrap certs renew, per host, as bash: the preflight on the first control plane, then on each
 * control plane its certificates read with openssl and, when due, the VIP handed over (kube-vip),
 * kubeadm certs renew all and the static Pods restarted kubeadm's way; every node's kubelet rotation read.
 */
describe.each(['rocky-ha', 'ubuntu-kube-vip'])('kbootstrap certs renew --dry-run of inventories/%s.yaml', (name) => {
  const goldenDir = join(ROOT, 'test', 'golden', `certs-renew-${name}`);

  it('renders every host to its golden script, and they pass bash -n and shellcheck', async () => {
    const { inventory } = loadInventoryFile(join(ROOT, 'inventories', `${name}.yaml`));
    inventory.file = `inventories/${name}.yaml`;
    const hosts = await dryRun(inventory, { plan: buildCertsRenewPlan(inventory, 30 * 24 * 3600_000) });
    expect(hosts.map((h) => h.host)).toEqual(inventory.hosts.map((h) => h.name));
    if (UPDATE) {
      rmSync(goldenDir, { recursive: true, force: true });
      mkdirSync(goldenDir, { recursive: true });
      for (const h of hosts) writeFileSync(join(goldenDir, `${h.host}.sh`), h.script);
    }
    const problems: string[] = [];
    for (const h of hosts) {
      const path = join(goldenDir, `${h.host}.sh`);
      if (!existsSync(path)) { problems.push(`missing golden file ${path} (npm run golden:update)`); continue; }
      const want = readFileSync(path, 'utf8');
      if (want !== h.script) problems.push(unifiedDiff(want, h.script, `certs-renew-${name}/${h.host}.sh`));
    }
    if (problems.length) throw new Error(`golden mismatch (npm run golden:update regenerates; review the diff):\n${problems.join('\n')}`);
    checkScripts(readdirSync(goldenDir).map((f) => join(goldenDir, f)));
    const text = (n: string) => hosts.find((h) => h.host === n)!.script;
    for (const cp of ['cp-1', 'cp-2', 'cp-3']) {
      expect(text(cp)).toContain('kubeadm certs renew all');
      // kubeadm's documented restart: the manifests out of the kubelet's directory for its fileCheckFrequency, then back
      expect(text(cp)).toContain('mv -f "/etc/kubernetes/manifests/$kb_m.yaml" "$kb_aside/"');
    }
    expect(text('worker-1')).not.toContain('kubeadm certs renew');
    expect(text('cp-1')).toContain('### certs-preflight');
    expect(text('cp-2')).not.toContain('### certs-preflight');
    // with kube-vip each control plane hands the VIP over before its restart; without, nobody does
    const handover = 'mv -f /etc/kubernetes/manifests/kube-vip.yaml /etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade';
    for (const cp of ['cp-1', 'cp-2', 'cp-3']) {
      expect(text(cp).includes(handover), cp).toBe(name === 'ubuntu-kube-vip');
      if (name === 'ubuntu-kube-vip') expect(text(cp).indexOf(handover)).toBeLessThan(text(cp).indexOf('\nkubeadm certs renew all\n'));
    }
  });
});

