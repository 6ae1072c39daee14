/**
 * Secrets (join tokens, CA hashes, certificate keys, passwords) are known by
 * value once fetched; every message that leaves kbootstrap passes through a
 * Redactor that replaces them.
 */
export class Redactor {
  private secrets = new Set<string>();

  add(...values: (string | undefined)[]): void {
    for (const v of values) if (v && v.length >= 4) this.secrets.add(v);
  }

  redact(text: string): string {
    let out = text;
    // longest first so a secret that contains another is hidden whole
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('<redacted>');
    // patterns that look like kubeadm secrets even when we did not fetch them ourselves
    out = out.replace(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g, '<redacted-token>');
    // (an image pinned by digest, repo@sha256:..., and a file's digest written "sha256 <hex>" are public: kept)
    out = out.replace(/(?<!@)sha256:[a-f0-9]{64}\b/g, 'sha256:<redacted>');
    out = out.replace(/(--certificate-key[ =])[a-f0-9]{64}\b/g, '$1<redacted>');
    // HTTP basic credentials (a registry's Authorization header in a hosts.toml or a curl config), whoever printed them
    out = out.replace(/(Authorization\s*[=:]\s*"?Basic\s+)[A-Za-z0-9+/]{4,}={0,2}/gi, '$1<redacted>');
    out = out.replace(/(?<!@sha256:|sha256 )\b[a-f0-9]{64}\b/g, '<redacted-key>');
    return out;
  }
}
