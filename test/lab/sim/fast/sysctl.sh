kb_prog=sysctl
if [[ -n $kb_fast && $# -ge 1 ]]; then
  kb_ok=1
  for kb_k in "$@"; do
    case "$kb_k" in net.*) case "$kb_k" in *[!A-Za-z0-9._-]*) kb_ok= ;; esac ;; *) kb_ok= ;; esac
  done
  if [[ -n $kb_ok ]]; then
    kb_log "$@"
    kb_rc=0
    kb_br=
    for kb_k in "$@"; do
      kb_p=/proc/sys/${kb_k//.//}
      kb_f=$kb_p
      # bridge keys exist only with br_netfilter loaded (simulated per host: a line "br_netfilter ..." in the list)
      if [[ $kb_k = net.bridge.* ]]; then
        if [[ -z $kb_br ]]; then
          kb_br=no
          while read -r kb_m _; do if [[ $kb_m = br_netfilter ]]; then kb_br=yes; break; fi; done </var/lib/kblab/modules
        fi
        [[ $kb_br = yes ]] || kb_f=/nonexistent
      fi
      if kb_slurp kb_v "$kb_f"; then
        echo "$kb_k = $kb_v"
      else
        echo "sysctl: cannot stat $kb_p: No such file or directory" >&2
        kb_rc=255
      fi
    done
    exit $kb_rc
  fi
fi
