// Subcommands of the `tokalign` command. Each registers its options on the CLI11 app and
// returns the function that runs it (exit code: 0 ok, 1 problems found, 2 usage error,
// 3 input or I/O error).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace tokalign::cli {

using Run = std::function<int()>;

Run add_encode(CLI::App& app);
Run add_decode(CLI::App& app);
Run add_compile(CLI::App& app);
Run add_inspect(CLI::App& app);
Run add_stats(CLI::App& app);
Run add_export_tokenizer(CLI::App& app);
Run add_audit(CLI::App& app);
Run add_vision(CLI::App& app);
Run add_guard(CLI::App& app);
Run add_merge(CLI::App& app);
Run add_render(CLI::App& app);

}  // namespace tokalign::cli
