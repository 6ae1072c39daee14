/**
 * The one duration parser of the CLI (--ttl, --command-timeout,
 * --verify-timeout): Go-style durations as kubeadm takes them (30m, 2h,
 * 1h30m, 24h0m0s, 0), or a whole number of seconds (300). Seconds, or
 * undefined when the text is neither.
 */
export function parseDuration(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
    end = (m.index ?? 0) + m[0].length;
  }
  return end === s.length && end > 0 ? total : undefined;
}

/** A duration as Go's time.ParseDuration reads it (kubeadm's flags): a bare number of seconds gets its unit. */
export function goDuration(s: string): string {
  return /^\d+$/.test(s) && s !== '0' ? `${s}s` : s;
}
