# Sourced by test scripts that take "--bin TOKALIGN --work DIR": sets BIN and WORK.
#   source tests/lib/bin_work.sh; parse_bin_work NAME "$@"
parse_bin_work() {
  local name=$1
  shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --bin) BIN=$2; shift 2 ;;
      --work) WORK=$2; shift 2 ;;
      *) echo "$name: unknown option $1" >&2; exit 2 ;;
    esac
  done
  [[ -n ${BIN:-} && -n ${WORK:-} ]] || { echo "usage: $name --bin TOKALIGN --work DIR" >&2; exit 2; }
}
