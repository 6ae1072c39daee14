/**
 * Join credentials are fetched from the first control plane at run time,
 * once per join phase, held in memory only, registered with the redactor,
 * and the token is deleted again when the run ends.
 */
import type { Host } from './host/host.js';
import { KbError } from './errors.js';

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

const TOKEN_CMD = "kubeadm token create --print-join-command --ttl 30m --description 'kbootstrap: join during up'";
const CERT_KEY_CMD = 'kubeadm init phase upload-certs --upload-certs';

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

export class JoinCredentials {
  private worker?: Promise<JoinSecrets>;
  private controlPlane?: Promise<JoinSecrets>;
  private created: string[] = [];

  constructor(private readonly cp: () => Host, private readonly endpoint: string) {}

  forWorkers(): Promise<JoinSecrets> {
    this.worker ??= this.fetchToken('join-workers');
    return this.worker;
  }

  forControlPlanes(): Promise<JoinSecrets> {
    this.controlPlane ??= (async () => {
      const base = await this.fetchToken('join-control-planes');
      const res = await this.cp().exec(CERT_KEY_CMD, {
        step: 'join', mutates: true, secretOutput: true,
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

  private async fetchToken(why: string): Promise<JoinSecrets> {
    const cp = this.cp();
    const res = await cp.exec(TOKEN_CMD, {
      step: 'join', mutates: true, secretOutput: true, timeoutMs: 60_000,
      note: `create a 30-minute join token for ${why === 'join-workers' ? 'the workers' : 'the control planes'} (secret, kept in memory, deleted after the joins)`,
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
}
