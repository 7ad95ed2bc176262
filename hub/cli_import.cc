// `ahub import-arxiv FILE`: one declared package per entry of an arXiv API Atom feed, written as
// DIR/<id>/package.yaml (hub/arxiv_import.h; rules in schemas/arxiv-import.md).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "hub/arxiv_feed.h"
#include "hub/arxiv_import.h"
#include "hub/cli.h"
#include "hub/keyword_map.h"

namespace ahub::cli {

Command RegisterImportArxiv(CLI::App& app) {
  struct Args {
    std::string file;
    std::string out = "packages";
    std::string keyword_map;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand(
      "import-arxiv", "Make one declared package per paper of an arXiv API feed (Atom).");
  sub->add_option("FILE", args->file, "the arXiv API's Atom response; - reads standard input")
      ->required();
  sub->add_option("--out", args->out, "where the package folders go: DIR/<id>/package.yaml")
      ->capture_default_str();
  sub->add_option("--keyword-map", args->keyword_map,
                  "YAML file of tags and their phrases, instead of the built-in "
                  "schemas/arxiv-keywords.yaml")
      ->check(CLI::ExistingFile);
  sub->add_flag("--json", args->json, "print the report as JSON");
  sub->footer(
      "Per entry: created, unchanged (the same package.yaml is there), new version (a newer\n"
      "arXiv version of a paper already imported) or refused with the reason. Ids, tags and the\n"
      "headline claim follow the rules of schemas/arxiv-import.md.\n"
      "Exit status: 0 every entry imported or unchanged, 1 some entries refused (the others were\n"
      "imported), 2 usage error, a feed that is not XML, not Atom or truncated, or a bad keyword\n"
      "map (nothing written), 4 I/O error.");

  return [args]() -> int {
    const std::string source = args->file == "-" ? "<stdin>" : args->file;
    auto fail = [&](const std::string& message, int status) {
      std::cerr << "ahub import-arxiv: " << message << "\n";
      if (args->json) {
        std::cout << nlohmann::json{{"source", source}, {"error", message}}.dump(2) << "\n";
      }
      return status;
    };
    std::string xml;
    if (args->file == "-") {
      xml.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(args->file, ec)) {
        return fail(args->file + ": no such file; expected the arXiv API's Atom response",
                    kExitInvalid);
      }
      std::ifstream in(args->file, std::ios::binary);
      if (!in) return fail(args->file + ": cannot be read", kExitEnvironment);
      std::stringstream text;
      text << in.rdbuf();
      if (in.bad()) return fail(args->file + ": read error", kExitEnvironment);
      xml = text.str();
    }
    hub::KeywordMap loaded;
    const hub::KeywordMap* keywords = &hub::KeywordMap::BuiltIn();
    if (!args->keyword_map.empty()) {
      Result<hub::KeywordMap> map = hub::KeywordMap::Load(args->keyword_map);
      if (!map.ok()) {
        return fail(
            "--keyword-map " + map.status().ToString(),
            map.status().code() == Status::Code::kIoError ? kExitEnvironment : kExitInvalid);
      }
      loaded = std::move(map.value());
      keywords = &loaded;
    }
    Result<hub::ArxivFeed> feed = hub::ParseArxivFeed(xml, source);
    if (!feed.ok()) return fail(feed.status().ToString() + " (nothing was imported)", kExitInvalid);

    hub::DirectoryTarget target(args->out);
    const hub::ImportReport report = hub::ImportFeed(feed.value(), source, *keywords, target);
    if (args->json) {
      std::cout << report.ToJson().dump(2) << "\n";
    } else {
      std::cout << report.ToText();
    }
    if (report.HasIoError()) return kExitEnvironment;
    return report.Count(hub::ImportOutcome::kRefused) > 0 ? kExitSomeRefused : kExitOk;
  };
}

}  // namespace ahub::cli
