#!/bin/sh
# kblab: simulated kubelet (package kblab-sim), installed as /usr/bin/kubelet on the lab's VMs.
# While its configuration is missing, exit as the Node.js simulation does (test/lab/sim/runtime.mjs,
# kubelet: the same message and exit code, the same line in the call log) without starting Node.js;
# everything else goes to the simulation.
kb_config=/var/lib/kubelet/config.yaml
for kb_a in "$@"; do
  case "$kb_a" in --config=*) kb_config=${kb_a#--config=} ;; esac
done
if [ "${1:-}" != --version ] && [ ! -e "$kb_config" ]; then
  kb_args=
  for kb_a in "$@"; do
    kb_a=$(printf '%s' "$kb_a" | sed 's/\\/\\\\/g; s/"/\\"/g')
    kb_args="$kb_args${kb_args:+,}\"$kb_a\""
  done
  mkdir -p /var/log/kblab 2>/dev/null
  printf '{"prog":"kubelet","args":[%s],"mutating":false,"at":"%s"}\n' "$kb_args" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" >>/var/log/kblab/calls.jsonl 2>/dev/null
  printf 'E0000 run.go:74] "command failed" err="failed to load kubelet config file, path: %s, error: failed to load Kubelet config file %s, error failed to read kubelet config file \\"%s\\", error: open %s: no such file or directory"\n' "$kb_config" "$kb_config" "$kb_config" "$kb_config" >&2
  exit 1
fi
exec /usr/bin/node /usr/lib/kblab/lab/sim/main.mjs kubelet "$@"
