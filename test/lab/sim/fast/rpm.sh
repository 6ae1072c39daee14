kb_prog=rpm
if [[ -n $kb_fast && $1 = -q && $2 = --qf && $# -ge 4 ]]; then
  kb_log "$@"
  kb_fmt=$3
  shift 3
  kb_rc=0
  for kb_n in "$@"; do
    case "$kb_n" in *[!A-Za-z0-9._+-]*) kb_rc=1; continue ;; esac
    if kb_slurp kb_v "/var/lib/kblab/pkgs.d/$kb_n"; then
      kb_f=${kb_fmt//'%{NAME}'/"$kb_n"}
      kb_f=${kb_f//'%{VERSION}'/"$kb_v"}
      kb_f=${kb_f//'%{RELEASE}'/150500.1.1}
      kb_f=${kb_f//'%'/'%%'}
      while [[ $kb_f == *$'\n' ]]; do kb_f=${kb_f%$'\n'}; done
      # shellcheck disable=SC2059
      printf "$kb_f"
    else
      echo "package $kb_n is not installed"
      kb_rc=1
    fi
  done
  exit $kb_rc
fi
