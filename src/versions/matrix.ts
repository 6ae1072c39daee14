/**
 * The versions table as people read it: `kbootstrap versions` (text, JSON)
 * and the generated matrix in docs/compatibility.md (Markdown,
 * scripts/write-compat-matrix.ts; test/versions-table.test.ts fails when the
 * document and the table disagree).
 */
import { table } from '../table.js';
import { ADDONS, CNI_NFTABLES, KUBE_MINORS, NFTABLES_PROXY, OS_RELEASES, SUPPORTED_MINORS, TABLE_DATE, compareVersions, defaultAddonVersion, defaultKubernetesVersion, minorStatus, type Source } from './index.js';
import type { CniName } from '../cni/names.js';

const dash = (v: string | undefined): string => v ?? '—';
const srcText = (s: readonly Source[]): string => s.map((x) => `${x.ref}${x.for ? ` (${x.for})` : ''}, read ${x.read}`).join('; ');
const range = (t: readonly [number, number] | undefined): string => (t ? `1.${t[0]}–1.${t[1]}` : 'no list published');
const modes = (m: Record<string, string | undefined>): string => Object.entries(m).filter(([, v]) => v).map(([k, v]) => `${k} (${v})`).join(', ');

function minorCells(r: (typeof KUBE_MINORS)[number]): string[] {
  return [
    `1.${r.minor}`, minorStatus(r.minor), dash(r.released), `${dash(r.eol)}${r.eolNote ? ` (${r.eolNote})` : ''}`,
    r.latestPatch ? `${r.latestPatch}${r.latestPatchDate ? ` (${r.latestPatchDate})` : ''}` : '—',
    r.kubeadmApis.map((a) => a.replace('kubeadm.k8s.io/', '')).join(', '), r.pause, dash(r.etcd), dash(r.coredns),
    dash(r.containerd), r.criRuntimeConfig ?? '—', r.kernel, r.cgroupV1, modes(r.kubeProxyModes),
  ];
}
const MINOR_HEAD = ['minor', 'status', 'released', 'end of life', 'latest patch', 'kubeadm APIs', 'pause', 'etcd', 'CoreDNS', 'containerd (recommended)', 'CRI RuntimeConfig', 'kernel rule', 'cgroup v1', 'kube-proxy modes'];

function addonCells(r: (typeof ADDONS)[number]): string[] {
  const covers = r.since ? `${r.since}+` : r.upTo ? `≤ ${r.upTo}` : `${r.line}.x`;
  const extra = [
    r.runtimeConfig !== undefined ? `RuntimeConfig: ${r.runtimeConfig ? 'yes' : 'no'}` : '',
    r.debDists ? `deb: ${r.debDists.join(' ')}` : '', r.rpmEl ? `rpm: ${r.rpmEl.map((e) => `el${e}`).join(' ')}` : '',
    r.subnetEnv ? `prefix env: ${r.subnetEnv}` : '', ...(r.notes ?? []),
  ].filter(Boolean).join('; ');
  return [r.addon, covers, `${r.latest}${r.latestDate ? ` (${r.latestDate})` : ''}`, range(r.tested), r.images.join(', ') || '—', extra || '—'];
}
const ADDON_HEAD = ['add-on', 'releases', 'latest seen', 'tested Kubernetes', 'images', 'notes'];

function osCells(r: (typeof OS_RELEASES)[number]): string[] {
  return [r.os, r.family, `${r.osId} ${r.versionId}${r.codename ? ` (${r.codename})` : ''}`, r.kernel, r.cgroup, `linux/${r.docker}${r.dockerNote ? ` — ${r.dockerNote}` : ''}`,
    'pkgs.k8s.io core:/stable:/v1.X (one tree for every distribution)', dash(r.released), dash(r.eol), r.tested ? 'yes' : 'no'];
}
const OS_HEAD = ['os:', 'family', 'os-release', 'kernel (dry run)', 'cgroup', 'Docker tree', 'Kubernetes packages', 'released', 'end of life', 'tested in kbootstrap\'s lab'];

/**
 * kube-proxy's nftables mode needs the CNI plugin's own nftables setting to match (CNI_NFTABLES): per plugin, the
 * setting, the first release with it, the first where it is generally available, and what each of the table's
 * release rows of the plugin has.
 */
const NFT_CNIS = Object.keys(CNI_NFTABLES) as CniName[];
const nftStage = (cni: CniName, version: string): 'no' | 'preview' | 'ga' => {
  const n = CNI_NFTABLES[cni];
  if (compareVersions(version, n.since) < 0) return 'no';
  return n.ga && compareVersions(version, n.ga) >= 0 ? 'ga' : 'preview';
};
/** each release row of the plugin: what the row's oldest and newest release have (a row may straddle `since` or `ga`) */
function nftRows(cni: CniName): string {
  const word = { no: 'no', preview: CNI_NFTABLES[cni].ga ? 'tech preview' : 'experimental', ga: 'GA' } as const;
  return ADDONS.filter((r) => r.addon === cni).map((r) => {
    const lo = nftStage(cni, r.since ?? `${r.line}.0`);
    const hi = nftStage(cni, r.upTo ?? r.latest);
    const covers = r.since ? `${r.since}+` : r.upTo ? `≤ ${r.upTo}` : `${r.line}.x`;
    return `${covers}: ${lo === hi ? word[lo] : `${word[lo]}, ${word[hi]} from ${hi === 'ga' ? CNI_NFTABLES[cni].ga : CNI_NFTABLES[cni].since}`}`;
  }).join('; ');
}
function nftCells(cni: CniName): string[] {
  const n = CNI_NFTABLES[cni];
  return [cni, n.setting, n.since, n.ga ?? 'not yet (experimental in every release read)', nftRows(cni)];
}
const NFT_HEAD = ['CNI plugin', 'its nftables setting', 'first release with it', 'generally available', 'the table\'s releases'];
const nftProxyText = (): string => {
  const by = (stage: string): string => KUBE_MINORS.filter((r) => r.kubeProxyModes.nftables === stage).map((r) => `1.${r.minor}`).join(', ');
  return `kube-proxy's nftables mode (feature gate ${NFTABLES_PROXY.gate}): alpha in ${by('alpha')}, beta (on by default) in ${by('beta')}, GA in ${by('ga')}; ` +
    `Linux ${NFTABLES_PROXY.minKernel.join('.')} or later; calico's nftables data plane asks for nft ${NFTABLES_PROXY.minNft} or later on the host.`;
};

function defaults(): string[][] {
  const minor = Number(defaultKubernetesVersion().split('.')[1]);
  return [
    ['kubernetesVersion (init)', defaultKubernetesVersion()],
    [`calico for 1.${minor}`, defaultAddonVersion('calico', minor)],
    ['flannel', defaultAddonVersion('flannel', minor)],
    ['kube-vip', defaultAddonVersion('kube-vip', minor)],
    ['cri-dockerd', defaultAddonVersion('cri-dockerd', minor)],
  ];
}

export function matrixJson(): object {
  return {
    tableDate: TABLE_DATE,
    supportedMinors: SUPPORTED_MINORS.map((m) => `1.${m}`),
    defaults: Object.fromEntries(defaults()),
    kubernetes: KUBE_MINORS.map((r) => ({ ...r, status: minorStatus(r.minor) })),
    addons: ADDONS,
    os: OS_RELEASES,
    nftablesProxy: NFTABLES_PROXY,
    cniNftables: Object.fromEntries(NFT_CNIS.map((c) => [c, { ...CNI_NFTABLES[c], releases: nftRows(c) }])),
  };
}

export function matrixText(): string {
  const minors = KUBE_MINORS.filter((r) => r.minor >= 30);
  return [
    `kbootstrap versions table, read ${TABLE_DATE}; supported minors: ${SUPPORTED_MINORS.map((m) => `1.${m}`).join(', ')}`,
    '',
    table([['minor', 'status', 'released', 'end of life', 'latest', 'kubeadm APIs', 'pause', 'cgroup v1', 'ipvs'],
      ...minors.map((r) => { const c = minorCells(r); return [c[0]!, c[1]!, c[2]!, dash(r.eol), dash(r.latestPatch), c[5]!, c[6]!, c[12]!, r.kubeProxyModes.ipvs ?? '—']; })]),
    table([['add-on', 'releases', 'latest', 'tested Kubernetes'], ...ADDONS.map((r) => addonCells(r).slice(0, 4))]),
    table([['os', 'codename', 'kernel', 'cgroup', 'Docker', 'end of life'],
      ...OS_RELEASES.map((r) => [r.os, r.codename || '—', r.kernel.replace(/-.*$/, ''), r.cgroup, r.dockerNote ? 'no longer built' : `linux/${r.docker}`, dash(r.eol)])]),
    table([NFT_HEAD.slice(0, 4), ...NFT_CNIS.map((c) => nftCells(c).slice(0, 4))]),
    table([['default', 'value'], ...defaults()]),
    'Sources for every row: kbootstrap versions --output json, or docs/compatibility.md.',
    '',
  ].join('\n');
}

const md = (head: string[], rows: string[][]): string => [
  `| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
].join('\n');

/** The generated section of docs/compatibility.md, between its BEGIN and END markers. */
export function matrixMarkdown(): string {
  return [
    `Generated from \`src/versions/table.ts\` by \`npm run docs:matrix\` (read ${TABLE_DATE}); do not edit by hand: a unit test fails when this and the table differ.`,
    `Supported minors on ${TABLE_DATE}: ${SUPPORTED_MINORS.map((m) => `1.${m}`).join(', ')}. Statuses are as of that date; older minors are accepted with a warning naming their end of life.`,
    '',
    '### Kubernetes minors',
    '',
    md([...MINOR_HEAD, 'sources'], KUBE_MINORS.map((r) => [...minorCells(r), srcText(r.sources)])),
    '',
    'Changelog items that touch what kbootstrap renders, and what it does about each:',
    '',
    ...KUBE_MINORS.flatMap((r) => (r.notes ?? []).map((n) => `- 1.${r.minor}: ${n}`)),
    '',
    '### Add-on releases',
    '',
    md([...ADDON_HEAD, 'sources'], ADDONS.map((r) => [...addonCells(r), srcText(r.sources)])),
    '',
    '### OS releases',
    '',
    md([...OS_HEAD, 'sources'], OS_RELEASES.map((r) => [...osCells(r), srcText(r.sources)])),
    '',
    'What a release changes for the commands kbootstrap renders, and what kbootstrap does about each (the audit of each row\'s sources):',
    '',
    ...OS_RELEASES.flatMap((r) => [
      ...(r.dockerEnded ? [`- ${r.os}: Docker stopped building for it on ${r.dockerEnded}: validate, check and up warn`] : []),
      ...(r.notes ?? []).map((n) => `- ${r.os}: ${n}`),
    ]),
    '',
    '### kube-proxy\'s nftables mode and the CNI plugins',
    '',
    `${nftProxyText()} Sources: ${srcText(NFTABLES_PROXY.sources)}.`,
    '',
    'With `kubeProxyMode: nftables` the CNI plugin must use nftables too, through its own setting:',
    '',
    md([...NFT_HEAD, 'sources'], NFT_CNIS.map((c) => [...nftCells(c), srcText(CNI_NFTABLES[c].sources)])),
    '',
    '### Defaults',
    '',
    md(['setting', 'default'], defaults()),
  ].join('\n');
}

export const MATRIX_BEGIN = '<!-- BEGIN versions matrix (generated: npm run docs:matrix) -->';
export const MATRIX_END = '<!-- END versions matrix -->';

/** The document with its generated section replaced by the table's current text. */
export function withMatrix(doc: string): string {
  const b = doc.indexOf(MATRIX_BEGIN);
  const e = doc.indexOf(MATRIX_END);
  if (b < 0 || e < b) throw new Error(`docs/compatibility.md has no ${MATRIX_BEGIN} … ${MATRIX_END} section`);
  return `${doc.slice(0, b + MATRIX_BEGIN.length)}\n${matrixMarkdown()}\n${doc.slice(e)}`;
}
