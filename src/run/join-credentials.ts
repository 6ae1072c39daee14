/**
 * Join credentials are fetched from the first control plane at run time,
 * once per kind of join, held in memory only, registered with the redactor.
 * dispose() deletes the tokens this run created and says when it could not.
 */
import type { Host } from '../host/host.js';
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { DEFAULTS } from '../defaults.js';

export interface JoinSecrets {
  endpoint: string;
  token: string;
  caCertHash: string;
  certificateKey?: string;
}

export const PLACEHOLDERS = {
  token: '<JOIN_TOKEN>',
  caCertHash: '<CA_CERT_HASH>',
  certificateKey: '<CERTIFICATE_KEY>',
} as const;

export function parseJoinCommand(stdout: string): Omit<JoinSecrets, 'certificateKey'> {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('kubeadm join')) ?? '';
  const endpoint = /kubeadm join\s+(\S+)/.exec(line)?.[1];
  const token = /--token\s+(\S+)/.exec(line)?.[1];
  const caCertHash = /--discovery-token-ca-cert-hash\s+(\S+)/.exec(line)?.[1];
  if (!endpoint || !token || !caCertHash) throw new KbError('kubeadm token create printed no join command');
  return { endpoint, token, caCertHash };
}

export function parseCertificateKey(stdout: string): string {
  const key = stdout.trim().split('\n').map((l) => l.trim()).reverse().find((l) => /^([a-f0-9]{64}|<CERTIFICATE_KEY>)$/.test(l));
  if (!key) throw new KbError('kubeadm init phase upload-certs printed no certificate key');
  return key;
}

/** A fresh join command (token create --print-join-command): shared by `up` and `kbootstrap token`. */
export function tokenCreateScript(ttl: string, description: string): string {
  return render('join-credentials/token-create', { ttl, description });
}

export const uploadCertsScript = (): string => render('join-credentials/upload-certs', {});
export const tokenDeleteScript = (ids: string[]): string => render('join-credentials/token-delete', { ids });

const STEP = 'join';

export class JoinCredentials {
  private worker?: Promise<JoinSecrets>;
  private controlPlane?: Promise<JoinSecrets>;
  private created: string[] = [];

  constructor(private readonly cp: () => Host, private readonly endpoint: string) {}

  forWorkers(): Promise<JoinSecrets> {
    this.worker ??= this.fetchToken('the workers');
    return this.worker;
  }

  forControlPlanes(): Promise<JoinSecrets> {
    this.controlPlane ??= (async () => {
      const base = await this.fetchToken('the control planes');
      const res = await this.cp().exec(uploadCertsScript(), {
        step: STEP, mutates: true, secretOutput: true,
        note: 'upload the control-plane certificates and print a fresh certificate key (secret, kept in memory)',
        dryRunStdout: PLACEHOLDERS.certificateKey,
        timeoutMs: 120_000,
      });
      const certificateKey = parseCertificateKey(res.stdout);
      this.cp().redactor.add(certificateKey);
      return { ...base, certificateKey };
    })();
    return this.controlPlane;
  }

  private async fetchToken(forWhom: string): Promise<JoinSecrets> {
    const cp = this.cp();
    const res = await cp.exec(tokenCreateScript(DEFAULTS.joinTokenTtl, 'kbootstrap: join during up'), {
      step: STEP, mutates: true, secretOutput: true, timeoutMs: 60_000,
      note: `create a ${DEFAULTS.joinTokenTtl.replace(/^(\d+)m$/, '$1-minute')} join token for ${forWhom} (secret, kept in memory, deleted after the joins)`,
      dryRunStdout: `kubeadm join ${this.endpoint} --token ${PLACEHOLDERS.token} --discovery-token-ca-cert-hash ${PLACEHOLDERS.caCertHash}`,
    });
    const parsed = parseJoinCommand(res.stdout);
    cp.redactor.add(parsed.token, parsed.caCertHash);
    this.created.push(parsed.token);
    // Join through the inventory's endpoint, not whatever kubeadm thinks it is.
    return { ...parsed, endpoint: this.endpoint };
  }

  /** Tokens this run created and whose id may be used to delete them. */
  get tokenIds(): string[] {
    return this.created.map((t) => (t.includes('.') ? t.split('.')[0]! : '<JOIN_TOKEN_ID>'));
  }

  /**
   * Delete the tokens this run created. Returns why that failed (the tokens
   * then live until their TTL runs out), or undefined when all went well.
   */
  async dispose(): Promise<string | undefined> {
    const ids = this.tokenIds;
    if (!ids.length) return undefined;
    let cp: Host;
    try {
      cp = this.cp();
    } catch (e) {
      return `the join tokens were not deleted (${(e as Error).message}); they expire within ${DEFAULTS.joinTokenTtl}`;
    }
    try {
      const res = await cp.exec(tokenDeleteScript(ids), {
        step: STEP, mutates: true, allowFailure: true, note: 'delete the join tokens this run created',
      });
      if (res.code !== 0) return `${cp.name}: deleting the join tokens failed (${res.stderr.trim().split('\n')[0] ?? `exit ${res.code}`}); they expire within ${DEFAULTS.joinTokenTtl}`;
    } catch (e) {
      return `${cp.name}: deleting the join tokens failed (${(e as Error).message.split('\n')[0]}); they expire within ${DEFAULTS.joinTokenTtl}`;
    }
    return undefined;
  }
}
