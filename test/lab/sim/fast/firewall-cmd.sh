kb_prog=firewall-cmd
if [[ -n $kb_fast ]]; then
  case "$*" in
    --list-ports) kb_which=runtime ;;
    "--permanent --list-ports") kb_which=permanent ;;
    --list-protocols) kb_which=runtime-protocols ;;
    "--permanent --list-protocols") kb_which=permanent-protocols ;;
    *) kb_which= ;;
  esac
  if [[ -n $kb_which ]]; then
    kb_log "$@"
    active=0
    # shellcheck disable=SC1091
    if [[ -f /var/lib/kblab/units.d/firewalld.service ]]; then . /var/lib/kblab/units.d/firewalld.service; fi
    if [[ $active != 1 ]]; then echo 'FirewallD is not running' >&2; exit 252; fi
    # the file as it is (cat), or an empty line
    if [[ -r /var/lib/kblab/fw.d/$kb_which ]]; then IFS= read -r -d '' kb_c <"/var/lib/kblab/fw.d/$kb_which"; printf '%s' "$kb_c"; else echo; fi
    exit 0
  fi
fi
