kb_prog=rpm
if [ -n "$kb_fast" ] && [ "$1" = -q ] && [ "$2" = --qf ] && [ $# -ge 4 ]; then
  kb_log "$@"
  kb_fmt=$3
  shift 3
  kb_rc=0
  for kb_n in "$@"; do
    case "$kb_n" in *[!A-Za-z0-9._+-]*) kb_rc=1; continue ;; esac
    if [ -f "/var/lib/kblab/pkgs.d/$kb_n" ]; then
      kb_v=$(cat "/var/lib/kblab/pkgs.d/$kb_n")
      # shellcheck disable=SC2059
      printf "$(printf '%s' "$kb_fmt" | sed "s/%{NAME}/$kb_n/g; s/%{VERSION}/$kb_v/g; s/%{RELEASE}/150500.1.1/g; s/%/%%/g")"
    else
      echo "package $kb_n is not installed"
      kb_rc=1
    fi
  done
  exit $kb_rc
fi
