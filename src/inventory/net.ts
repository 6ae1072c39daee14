/** IPv4 address and CIDR arithmetic for inventory validation. */

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined; // 010 is octal to some tools
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr { base: number; bits: number; text: string }

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

export function parseCidr(s: string): CidrResult {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return { ok: false, reason: 'expected an IPv4 CIDR like 10.244.0.0/16' };
  const ip = parseIPv4(m[1]!);
  const bits = Number(m[2]);
  if (ip === undefined || bits > 32) return { ok: false, reason: 'expected an IPv4 CIDR like 10.244.0.0/16' };
  const size = 2 ** (32 - bits);
  const base = Math.floor(ip / size) * size;
  if (base !== ip) {
    return { ok: false, reason: `host bits are set (did you mean ${formatIPv4(base)}/${bits}?)` };
  }
  return { ok: true, cidr: { base, bits, text: s } };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + 2 ** (32 - c.bits);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.base) || cidrContains(b, a.base);
}

/** host:port with an IPv4 address or DNS name. */
export function parseEndpoint(s: string): { host: string; port: number } | undefined {
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
