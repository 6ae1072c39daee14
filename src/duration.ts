/** Go-style durations as kubeadm takes them (30m, 2h, 1h30m, 24h0m0s, 0). */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
    end = (m.index ?? 0) + m[0].length;
  }
  return end === s.length && end > 0 ? total : undefined;
}
