kb_prog=sysctl
if [ -n "$kb_fast" ] && [ $# -ge 1 ]; then
  kb_ok=1
  for kb_k in "$@"; do
    case "$kb_k" in net.*) case "$kb_k" in *[!A-Za-z0-9._-]*) kb_ok= ;; esac ;; *) kb_ok= ;; esac
  done
  if [ -n "$kb_ok" ]; then
    kb_log "$@"
    kb_rc=0
    for kb_k in "$@"; do
      kb_p=/proc/sys/$(printf '%s' "$kb_k" | tr . /)
      kb_f=$kb_p
      # bridge keys exist only with br_netfilter loaded (simulated per host)
      case "$kb_k" in net.bridge.*) grep -q '^br_netfilter ' /var/lib/kblab/modules || kb_f=/nonexistent ;; esac
      if [ -r "$kb_f" ]; then
        echo "$kb_k = $(cat "$kb_f")"
      else
        echo "sysctl: cannot stat $kb_p: No such file or directory" >&2
        kb_rc=255
      fi
    done
    exit $kb_rc
  fi
fi
