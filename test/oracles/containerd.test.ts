/**
 * The real containerd as the oracle for the config.toml kbootstrap writes (issue 11):
 * the rendered kb_containerd_config function runs exactly as on a host, with a
 * `containerd` on PATH whose `config default` is either the real binary's
 * (Debian 12 ships containerd 1.6.x: config version 2) or containerd.io 2.1.4's
 * text (version 3, no SystemdCgroup line: containerd/containerd#12101), and the
 * result must load in the real `containerd --config FILE config dump`.
 * containerd 1.6 cannot judge a version 3 file (it loads it without reading the
 * 2.x plugin tables), so the 2.x output is parsed as TOML and read at the keys
 * containerd 2.x documents: https://github.com/containerd/containerd/blob/main/docs/cri/config.md
 * (containerd2.test.ts has the real containerd 2.1 from Debian sid judge the 2.x output.)
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { containerRuntimeStep } from '../../src/steps/container-runtime.js';
import { pauseImage } from '../../src/kube/runtime.js';
import type { Inventory } from '../../src/inventory/model.js';
import { ctxFor, exampleInventory } from '../support/contexts.js';

const V3_DEFAULT = join(import.meta.dirname, '..', 'lab', 'sim', 'fast', 'containerd-default-v3.toml');
const REAL = spawnSync('containerd', ['--version'], { encoding: 'utf8' });
const SKIP = REAL.status === 0 ? '' : 'the real containerd is not installed (apt-get install containerd; .ci/run does)';

/** The kb_containerd_config function exactly as rendered into the host's script. */
function renderedConfigFunction(inv: Inventory): string {
  const check = containerRuntimeStep.check(ctxFor(inv, 0, containerRuntimeStep));
  const script = typeof check === 'string' ? check : check.join('\n');
  const m = /^kb_containerd_config\(\) \{\n[\s\S]*?\n\}\n/m.exec(script);
  if (!m) throw new Error('no kb_containerd_config in the rendered check script');
  return m[0];
}

/** Run the function with `containerd config default` printing `defaults` (undefined: the real binary's). */
function wantedConfig(fn: string, defaults?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-ctrd-'));
  try {
    let path = process.env.PATH ?? '';
    if (defaults !== undefined) {
      writeFileSync(join(dir, 'containerd'), `#!/bin/sh\n[ "$*" = "config default" ] || exit 2\ncat '${defaults}'\n`);
      chmodSync(join(dir, 'containerd'), 0o755);
      path = `${dir}:${path}`;
    }
    return execFileSync('bash', ['-euo', 'pipefail', '-c', `${fn}kb_containerd_config`], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `containerd --config FILE config dump` of the real binary. */
function dump(config: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-ctrd-'));
  try {
    writeFileSync(join(dir, 'config.toml'), config);
    const r = spawnSync('containerd', ['--config', join(dir, 'config.toml'), 'config', 'dump'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`containerd config dump failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Table = Record<string, unknown>;
const at = (t: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((o, k) => (o as Table | undefined)?.[k], t);

// every example inventory running containerd, at the oldest and newest minors and the pause-tag boundaries
const CASES = ['lab', 'rocky-ha'].flatMap((name) => [24, 25, 30, 31, 34, 35].map((minor) => {
  const inv = exampleInventory(name);
  return [`${name} 1.${minor}`, { ...inv, cluster: { ...inv.cluster, minor, minorVersion: `v1.${minor}`, kubernetesVersion: `1.${minor}.0` } }] as const;
}));

describe.skipIf(!!SKIP)('rendered containerd config in the real containerd', () => {
  it.each(CASES)('%s: containerd 1.6 (version 2) loads it with SystemdCgroup, the pause image and config_path', (_n, inv) => {
    expect(inv.cluster.containerRuntime).toBe('containerd');
    const out = dump(wantedConfig(renderedConfigFunction(inv)));
    const cfg = parse(out);
    const cri = at(cfg, 'plugins', 'io.containerd.grpc.v1.cri');
    expect(at(cri, 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup')).toBe(true);
    expect(at(cri, 'sandbox_image')).toBe(pauseImage(inv.cluster));
    expect(at(cri, 'registry', 'config_path')).toBe('/etc/containerd/certs.d');
  });

  it.each(CASES)('%s: containerd 2.x (version 3, no SystemdCgroup line in its default) gets all three set', (_n, inv) => {
    const cfg = parse(wantedConfig(renderedConfigFunction(inv), V3_DEFAULT));
    expect(cfg.version).toBe(3);
    expect(at(cfg, 'plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup')).toBe(true);
    expect(at(cfg, 'plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox')).toBe(pauseImage(inv.cluster));
    expect(at(cfg, 'plugins', 'io.containerd.cri.v1.images', 'registry', 'config_path')).toBe('/etc/containerd/certs.d');
  });

  it('is a fixed point: the wanted config of a config that is already right is the same file', () => {
    const inv = CASES[0]![1];
    const fn = renderedConfigFunction(inv);
    const once = wantedConfig(fn);
    const dir = mkdtempSync(join(tmpdir(), 'kb-ctrd-'));
    try {
      writeFileSync(join(dir, 'once.toml'), once);
      expect(wantedConfig(fn, join(dir, 'once.toml'))).toBe(once);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (SKIP) describe('rendered containerd config in the real containerd', () => it.skip(`SKIPPED: ${SKIP}`, () => {}));
