# Sourced by tests: `llava_data WORKDIR` exits 77 (skip) without node, the oracle packages or
# ../shared/data/llava-samples, else writes WORKDIR/llava.json (tests/compile/make_dataset.js:
# LLaVA's own samples as multi-turn and single-turn conversations).
llava_data() {
  command -v node >/dev/null && [[ -d oracle/node_modules/@lenml ]] || { echo "SKIP: node or oracle/node_modules missing (make deps)"; exit 77; }
  [[ -d ../shared/data/llava-samples ]] || { echo "SKIP: ../shared/data/llava-samples is absent"; exit 77; }
  mkdir -p "$1"
  node tests/compile/make_dataset.js ../shared/data/llava-samples > "$1/llava.json"
}
