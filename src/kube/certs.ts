/**
 * Certificates kubeadm manages, as templates/certs/read.sh.hbs reads them with
 * openssl on a host: each one's expiry and what is left of it. `certs check`,
 * `status`, `check` and the certs-renew step read them through this one parser.
 */
import { first, kv } from '../shell/kv.js';

export type CertKind = 'kubeconfig' | 'certificate' | 'ca' | 'kubelet';

export interface CertInfo {
  /** as kubeadm certs check-expiration names it: admin.conf, apiserver, etcd-server, ca ... ; kubelet-client */
  name: string;
  kind: CertKind;
  /** ISO time of notAfter; absent when the file is missing or could not be read */
  expires?: string;
  /** ms from the host's clock to notAfter (negative: expired) */
  residualMs?: number;
  missing?: boolean;
}

export interface CertFacts {
  /** the host's clock, ms */
  now: number;
  certs: CertInfo[];
  /** openssl is not on the host: nothing could be read */
  noOpenssl?: boolean;
  /** the kubelet's client certificate rotates itself (kubelet.conf names kubelet-client-current.pem, rotateCertificates on) */
  kubeletRotation?: { file: boolean; enabled: boolean };
}

export const DAY_MS = 24 * 3600_000;
/** status and check warn below this; certs renew's --min-remaining default */
export const WARN_DAYS = 30;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** openssl x509 -enddate's notAfter, e.g. "Dec  7 02:25:01 2027 GMT" (ASN1_TIME_print), as ms since the epoch. */
export function parseOpensslDate(s: string): number | undefined {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(s.trim());
  if (!m || !MONTHS.includes(m[1]!)) return undefined;
  return Date.UTC(Number(m[6]), MONTHS.indexOf(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

export function parseCerts(stdout: string): CertFacts {
  const m = kv(stdout);
  const now = Number(first(m, 'now') ?? '') * 1000 || Date.now();
  const certs: CertInfo[] = [];
  for (const line of m.get('cert') ?? []) {
    const [name, kind, ...rest] = line.split(' ');
    if (!name || !kind) continue;
    const date = rest.join(' ');
    const at = parseOpensslDate(date);
    const c: CertInfo = { name, kind: kind as CertKind };
    if (date === 'missing' || at === undefined) c.missing = true;
    else Object.assign(c, { expires: new Date(at).toISOString().replace(/\.\d+Z$/, 'Z'), residualMs: at - now });
    certs.push(c);
  }
  const client = first(m, 'kubelet-client');
  return {
    now,
    certs,
    ...(first(m, 'openssl') === 'missing' ? { noOpenssl: true } : {}),
    ...(client ? { kubeletRotation: { file: client === 'rotating', enabled: first(m, 'kubelet-rotate') === 'on' } } : {}),
  };
}

/**
 * A residual time as kubeadm prints it (k8s.io/apimachinery/pkg/util/duration
 * ShortHumanDuration, which check-expiration uses): 45s, 12m, 20h, 364d, 9y.
 */
export function residual(ms: number): string {
  if (ms < 0) return `expired ${residual(-ms)} ago`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

export type CertState = 'ok' | 'warn' | 'expired' | 'missing';

export function certState(c: CertInfo, warnMs = WARN_DAYS * DAY_MS): CertState {
  if (c.missing || c.residualMs === undefined) return 'missing';
  if (c.residualMs <= 0) return 'expired';
  return c.residualMs < warnMs ? 'warn' : 'ok';
}

/** What `kubeadm certs renew all` renews: the kubeconfigs and leaf certificates (never the CAs, never the kubelet's). */
export const renewable = (c: CertInfo): boolean => c.kind === 'kubeconfig' || c.kind === 'certificate';

/** The certificate that runs out first, among those given. */
export function earliest(certs: CertInfo[]): CertInfo | undefined {
  return certs.filter((c) => c.residualMs !== undefined).sort((a, b) => a.residualMs! - b.residualMs!)[0];
}

/** "apiserver 20d, admin.conf 20d" for the first few of a list. */
export function describe(certs: CertInfo[], max = 3): string {
  const parts = certs.slice(0, max).map((c) => c.missing ? `${c.name} missing` : `${c.name} ${residual(c.residualMs!)}`);
  return parts.join(', ') + (certs.length > max ? ` and ${certs.length - max} more` : '');
}

/**
 * A duration flag: 30d, 720h, 90m (days are 24 h). Returns ms, or undefined when it does not parse.
 */
export function parseDurationFlag(s: string): number | undefined {
  const m = /^(\d+)(d|h|m)$/.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1]) * { d: DAY_MS, h: 3600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
}

export interface CertVerdict {
  verdict: 'pass' | 'warn' | 'fail';
  /** one line: what runs out first, or what is wrong */
  detail: string;
}

/**
 * A host's certificates judged as status and check show them: fail when one has expired (or a control
 * plane's is missing), warn under WARN_DAYS, else pass with the first to expire.
 */
export function certVerdict(f: CertFacts, controlPlane: boolean): CertVerdict {
  if (f.noOpenssl) return { verdict: 'warn', detail: 'openssl is not installed: certificates not read' };
  const watched = f.certs.filter((c) => c.kind !== 'ca' || controlPlane);
  if (!watched.length) return { verdict: controlPlane ? 'warn' : 'pass', detail: 'no kubeadm certificates (not joined)' };
  const expired = watched.filter((c) => certState(c) === 'expired');
  const missing = watched.filter((c) => certState(c) === 'missing' && c.kind !== 'kubelet');
  const low = watched.filter((c) => certState(c) === 'warn').sort((a, b) => a.residualMs! - b.residualMs!);
  if (expired.length || missing.length) {
    return { verdict: 'fail', detail: [...(expired.length ? [`expired: ${expired.map((c) => c.name).join(', ')}`] : []), ...(missing.length ? [`missing: ${missing.map((c) => c.name).join(', ')}`] : [])].join('; ') + (controlPlane ? ': run kbootstrap certs renew' : '') };
  }
  const renewableLow = low.filter((c) => c.kind !== 'kubelet');
  if (low.length) {
    const how = renewableLow.length ? 'run kbootstrap certs renew' : 'the kubelet renews its own before it runs out';
    return { verdict: 'warn', detail: `${describe(low)} left, under ${WARN_DAYS} days: ${how}` };
  }
  const e = earliest(watched)!;
  return { verdict: 'pass', detail: `first to expire: ${e.name} in ${residual(e.residualMs!)}` };
}
