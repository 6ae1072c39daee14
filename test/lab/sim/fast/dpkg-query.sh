kb_prog=dpkg-query
# only with names: without any, dpkg-query lists every package it knows (the slow path, sim/packages.mjs)
if [[ -n $kb_fast && $1 = -W && $# -ge 3 && $2 = -f=?* ]]; then
  kb_fmt=${2#-f=}
  kb_log "$@"
  shift 2
  kb_rc=0
  for kb_n in "$@"; do
    case "$kb_n" in *[!A-Za-z0-9._+-]*) kb_rc=1; continue ;; esac
    if kb_slurp kb_v "/var/lib/kblab/pkgs.d/$kb_n"; then
      # real dpkg: the selection letter is h for a held package (apt-mark hold)
      kb_sel=i
      if [[ -f /var/lib/kblab/pkgs.d/$kb_n.held ]]; then kb_sel=h; fi
      kb_f=${kb_fmt//'${binary:Package}'/"$kb_n"}
      kb_f=${kb_f//'${Package}'/"$kb_n"}
      kb_f=${kb_f//'${Version}'/"$kb_v"}
      kb_f=${kb_f//'${db:Status-Abbrev}'/"${kb_sel}i "}
      kb_f=${kb_f//'${Status}'/'install ok installed'}
      kb_f=${kb_f//'%'/'%%'}
      while [[ $kb_f == *$'\n' ]]; do kb_f=${kb_f%$'\n'}; done
      # the format's escapes (\n) are printf's, as dpkg-query's are its own
      # shellcheck disable=SC2059
      printf "$kb_f"
    else
      echo "dpkg-query: no packages found matching $kb_n" >&2
      kb_rc=1
    fi
  done
  exit $kb_rc
fi
