kb_prog=dpkg-query
# only with names: without any, dpkg-query lists every package it knows (the slow path, sim/packages.mjs)
if [ -n "$kb_fast" ] && [ "$1" = -W ] && [ $# -ge 3 ]; then
  case "$2" in -f=*) kb_fmt=${2#-f=} ;; *) kb_fmt= ;; esac
  if [ -n "$kb_fmt" ]; then
    kb_log "$@"
    shift 2
    kb_rc=0
    for kb_n in "$@"; do
      case "$kb_n" in *[!A-Za-z0-9._+-]*) kb_rc=1; continue ;; esac
      if [ -f "/var/lib/kblab/pkgs.d/$kb_n" ]; then
        kb_v=$(cat "/var/lib/kblab/pkgs.d/$kb_n")
        # real dpkg: the selection letter is h for a held package (apt-mark hold)
        kb_sel=i
        if [ -f "/var/lib/kblab/pkgs.d/$kb_n.held" ]; then kb_sel=h; fi
        # shellcheck disable=SC2059
        printf "$(printf '%s' "$kb_fmt" | sed "s/\${binary:Package}/$kb_n/g; s/\${Package}/$kb_n/g; s/\${Version}/$kb_v/g; s/\${db:Status-Abbrev}/${kb_sel}i /g; s/\${Status}/install ok installed/g; s/%/%%/g")"
      else
        echo "dpkg-query: no packages found matching $kb_n" >&2
        kb_rc=1
      fi
    done
    exit $kb_rc
  fi
fi
