kb_prog=crictl
# `crictl images` against containerd's CRI named in /etc/crictl.yaml, serving (the images step's
# check, on every host at every run): the table runtime.mjs crictl() prints, IMAGE, TAG, IMAGE ID
# (the reference's sha256, 13 hex digits), SIZE, padded as its cols() pads them. No endpoint
# configured, another runtime, a CRI that does not answer, a lab VM, anything else: runtime.mjs.
if [[ -n $kb_fast && $* = images && ! -e /usr/lib/kblab/vm-host ]]; then
  # the first runtime-endpoint: line's value (sed -n 's/^runtime-endpoint:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -n 1)
  kb_ep=
  if [[ -r /etc/crictl.yaml ]]; then
    while IFS= read -r kb_l || [[ -n $kb_l ]]; do
      if [[ $kb_l =~ ^runtime-endpoint:[[:space:]]*([^[:space:]]+) ]]; then kb_ep=${BASH_REMATCH[1]}; break; fi
    done </etc/crictl.yaml
  fi
  kb_path=${kb_ep#unix://}
  case "$kb_path" in /var/run/*) kb_path=/run/${kb_path#/var/run/} ;; esac
  active=0
  # shellcheck disable=SC1091
  if [[ -f /var/lib/kblab/units.d/containerd.service ]]; then . /var/lib/kblab/units.d/containerd.service; fi
  if [[ $kb_path = /run/containerd/containerd.sock && $active = 1 && -e $kb_path ]] \
    && kb_slurp kb_cri /var/lib/kblab/containerd-cri && [[ $kb_cri = on ]]; then
    kb_log "$@"
    # images.json: JSON.stringify(refs, null, 2), one "ref" a line
    kb_refs=()
    if [[ -r /var/lib/kblab/images.json ]]; then
      while IFS= read -r kb_l || [[ -n $kb_l ]]; do
        if [[ $kb_l =~ ^\ *\"(.*)\",?$ ]]; then kb_refs+=("${BASH_REMATCH[1]}"); fi
      done </var/lib/kblab/images.json
    fi
    # every reference's sha256 in one sha256sum, each from its own pipe (a fork, no program); the
    # pipes must be on sha256sum's own command line (a <(...) lives as long as its command), so the
    # line is built, naming each reference by its index only, and evaluated
    kb_ids=()
    if ((${#kb_refs[@]})); then
      kb_cmd=sha256sum
      for kb_i in "${!kb_refs[@]}"; do kb_cmd+=" <(printf '%s' \"\${kb_refs[$kb_i]}\")"; done
      while read -r kb_h _; do kb_ids+=("${kb_h:0:13}"); done < <(eval "$kb_cmd")
    fi
    # cols(): each column as wide as its text plus one, at least 20 (kb_col VAR TEXT)
    kb_col() { local w=$((${#2} + 1)); ((w >= 20)) || w=20; printf -v "$1" '%-*s' "$w" "$2"; }
    kb_col kb_c1 IMAGE; kb_col kb_c2 TAG; kb_col kb_c3 'IMAGE ID'
    printf '%s%s%sSIZE\n' "$kb_c1" "$kb_c2" "$kb_c3"
    for kb_i in "${!kb_refs[@]}"; do
      kb_r=${kb_refs[kb_i]}
      kb_repo=$kb_r
      kb_tag=latest
      # a tag is what follows the last colon, when no slash follows it
      if [[ $kb_r =~ ^(.*):([^:/]*)$ ]]; then kb_repo=${BASH_REMATCH[1]}; kb_tag=${BASH_REMATCH[2]}; fi
      kb_col kb_c1 "$kb_repo"; kb_col kb_c2 "$kb_tag"; kb_col kb_c3 "${kb_ids[kb_i]}"
      printf '%s%s%s10MB\n' "$kb_c1" "$kb_c2" "$kb_c3"
    done
    exit 0
  fi
fi
