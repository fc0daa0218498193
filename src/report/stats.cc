#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "shard/parts.h"
#include "shard/reader.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::report {

namespace {

std::string fmt(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string pct(uint64_t a, uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 0.0);
  return buf;
}

std::string canon(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

Distribution Distribution::of(std::vector<uint32_t> v, size_t bins) {
  Distribution d;
  d.n = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  // Nearest-rank percentiles.
  auto rank = [&](double p) { return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - (p > 0 ? 1 : 0))]); };
  d.min = v.front();
  d.max = v.back();
  double sum = 0;
  for (uint32_t x : v) sum += x;
  d.mean = sum / static_cast<double>(v.size());
  d.median = rank(0.5);
  d.p95 = rank(0.95);
  d.p99 = rank(0.99);
  // Equal-width integer bins over [min, max].
  const double span = d.max - d.min + 1;
  const size_t nb = static_cast<size_t>(std::min<double>(static_cast<double>(bins), span));
  const double w = std::ceil(span / static_cast<double>(nb));
  for (size_t b = 0; b < nb; ++b) d.histogram.push_back({d.min + static_cast<double>(b) * w, d.min + static_cast<double>(b + 1) * w - 1, 0});
  for (uint32_t x : v) d.histogram[std::min(nb - 1, static_cast<size_t>((x - d.min) / w))].count++;
  while (!d.histogram.empty() && d.histogram.back().count == 0) d.histogram.pop_back();
  return d;
}

void Stats::add(const shard::Sample& s, uint32_t turns) {
  ++in_;
  ++out_;
  tokens_ += s.input_ids.size();
  const uint64_t t = s.trained_tokens();
  trained_ += t;
  lengths_.push_back(static_cast<uint32_t>(s.input_ids.size()));
  trained_per_.push_back(static_cast<uint32_t>(t));
  images_.push_back(static_cast<uint32_t>(s.images.size()));
  image_slots_ += s.images.size();
  if (turns) {
    turns_known_ = true;
    turns_.push_back(turns);
  }
  for (const shard::ImageSlot& im : s.images)
    if (im.visual_tokens) image_tokens_.push_back(im.visual_tokens);
  const uint64_t with_images = s.length_with_images();
  lengths_with_images_.push_back(static_cast<uint32_t>(with_images));
  if (max_len_ && with_images > max_len_) ++over_max_len_;
  boundary_merge_ += (s.flags & shard::kBoundaryMerge) != 0;
  truncated_ += (s.flags & shard::kTruncated) != 0;
  special_in_content_ += (s.flags & shard::kSpecialInContent) != 0;
  for (const std::string& x : s.special_strings) ++special_strings_[x];
}

void Stats::add_shard(const std::string& path) {
  for (const std::string& dir : shard::output_shards(path)) {
    shard::ShardReader r(dir);
    for (size_t i = 0; i < r.size(); ++i) add(r.get(i), 0);
    for (const auto& q : r.quarantine()) add_quarantined(q.reason);
  }
}

void Stats::add_quarantined(const std::string& reason) {
  ++in_;
  ++quarantined_;
  ++reasons_[reason];
  if (reason == "too_long") ++over_max_len_;
}

std::vector<std::string> Stats::metric_names() {
  return {"samples_in", "samples_out", "quarantined", "quarantined_fraction", "zero_trained", "tokens", "trained_tokens",
          "trained_fraction", "over_max_len", "boundary_merge", "truncated", "special_in_content", "max_tokens", "image_slots"};
}

double Stats::metric(const std::string& raw) const {
  const std::string n = canon(raw);
  if (n == "samples_in") return static_cast<double>(in_);
  if (n == "samples_out") return static_cast<double>(out_);
  if (n == "quarantined") return static_cast<double>(quarantined_);
  if (n == "quarantined_fraction") return in_ ? static_cast<double>(quarantined_) / static_cast<double>(in_) : 0;
  if (n == "zero_trained") {
    auto it = reasons_.find("zero_trained");
    return it == reasons_.end() ? 0 : static_cast<double>(it->second);
  }
  if (n == "tokens") return static_cast<double>(tokens_);
  if (n == "trained_tokens") return static_cast<double>(trained_);
  if (n == "trained_fraction") return tokens_ ? static_cast<double>(trained_) / static_cast<double>(tokens_) : 0;
  if (n == "over_max_len") return static_cast<double>(over_max_len_);
  if (n == "boundary_merge") return static_cast<double>(boundary_merge_);
  if (n == "truncated") return static_cast<double>(truncated_);
  if (n == "special_in_content") return static_cast<double>(special_in_content_);
  if (n == "max_tokens") return lengths_.empty() ? 0 : *std::max_element(lengths_.begin(), lengths_.end());
  if (n == "image_slots") return static_cast<double>(image_slots_);
  // A quarantine reason by name counts its samples.
  auto it = reasons_.find(n);
  if (it != reasons_.end()) return static_cast<double>(it->second);
  std::string known;
  for (const std::string& k : metric_names()) known += (known.empty() ? "" : ", ") + k;
  throw Error("unknown statistic '" + raw + "' (known: " + known + ", or a quarantine reason)");
}

bool Stats::holds(const std::string& cond, double& value) const {
  static const char* ops[] = {">=", "<=", "==", "!=", ">", "<"};
  for (const char* op : ops) {
    const size_t at = cond.find(op);
    if (at == std::string::npos) continue;
    std::string name = cond.substr(0, at);
    const std::string rhs = cond.substr(at + std::string(op).size());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    char* end = nullptr;
    const double x = std::strtod(rhs.c_str(), &end);
    if (name.empty() || rhs.empty() || (end && *end && *end != ' '))
      throw Error("malformed condition '" + cond + "' (expected NAME OP NUMBER, e.g. zero-trained>0)");
    value = metric(name);
    const std::string o = op;
    if (o == ">=") return value >= x;
    if (o == "<=") return value <= x;
    if (o == "==") return value == x;
    if (o == "!=") return value != x;
    if (o == ">") return value > x;
    return value < x;
  }
  throw Error("malformed condition '" + cond + "' (expected NAME OP NUMBER, e.g. zero-trained>0)");
}

std::string Stats::table() const {
  std::string t;
  auto line = [&](const std::string& k, const std::string& v) {
    t += "  " + k;
    for (size_t i = k.size(); i < 24; ++i) t.push_back(' ');
    if (k.size() >= 24) t.push_back(' ');
    t += v + "\n";
  };
  auto dist_line = [&](const char* k, const std::vector<uint32_t>& v) {
    const Distribution d = Distribution::of(v);
    if (!d.n) return;
    line(k, "min " + fmt(d.min) + "  median " + fmt(d.median) + "  mean " + fmt(std::round(d.mean * 10) / 10) + "  p95 " +
                fmt(d.p95) + "  p99 " + fmt(d.p99) + "  max " + fmt(d.max));
  };
  line("samples", std::to_string(in_) + " in, " + std::to_string(out_) + " out, " + std::to_string(quarantined_) +
                      " quarantined (" + pct(quarantined_, in_) + ")");
  line("tokens", std::to_string(tokens_) + ", trained " + std::to_string(trained_) + " (" + pct(trained_, tokens_) + ")");
  dist_line("tokens per sample", lengths_);
  dist_line("trained per sample", trained_per_);
  if (turns_known_) dist_line("messages per sample", turns_);
  dist_line("images per sample", images_);
  if (!image_tokens_.empty()) {
    dist_line("tokens per image", image_tokens_);
    dist_line("length with images", lengths_with_images_);
  }
  // The length histogram, as bars.
  const Distribution d = Distribution::of(lengths_);
  if (d.histogram.size() > 1) {
    uint64_t top = 1;
    for (const auto& b : d.histogram) top = std::max(top, b.count);
    t += "  length histogram\n";
    for (const auto& b : d.histogram) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "    %7s-%-7s %7llu ", fmt(b.from).c_str(), fmt(b.to).c_str(),
                    static_cast<unsigned long long>(b.count));
      t += buf;
      const size_t w = static_cast<size_t>(std::ceil(40.0 * static_cast<double>(b.count) / static_cast<double>(top)));
      for (size_t i = 0; i < w; ++i) t += "\xE2\x96\x88";
      t += "\n";
    }
  }
  if (max_len_) line("over --max-len " + std::to_string(max_len_), std::to_string(over_max_len_));
  line("boundary merges", std::to_string(boundary_merge_) + " samples");
  line("truncated", std::to_string(truncated_) + " samples");
  line("special in content", std::to_string(special_in_content_) + " samples");
  for (const auto& [k, v] : special_strings_) line("  \"" + k + "\"", std::to_string(v) + " samples");
  if (reasons_.empty()) line("quarantine reasons", "none");
  else {
    line("quarantine reasons", "");
    for (const auto& [k, v] : reasons_) line("  " + k, std::to_string(v));
  }
  return t;
}

namespace {
void dist_json(std::string& o, const char* key, const std::vector<uint32_t>& v) {
  const Distribution d = Distribution::of(v);
  o += ",\"";
  o += key;
  o += "\":{\"n\":" + std::to_string(d.n) + ",\"min\":" + fmt(d.min) + ",\"median\":" + fmt(d.median) + ",\"mean\":" +
       fmt(d.mean) + ",\"p95\":" + fmt(d.p95) + ",\"p99\":" + fmt(d.p99) + ",\"max\":" + fmt(d.max) + ",\"histogram\":[";
  for (size_t i = 0; i < d.histogram.size(); ++i)
    o.append(i ? "," : "")
        .append("{\"from\":")
        .append(fmt(d.histogram[i].from))
        .append(",\"to\":")
        .append(fmt(d.histogram[i].to))
        .append(",\"count\":")
        .append(std::to_string(d.histogram[i].count))
        .append("}");
  o += "]}";
}
void map_json(std::string& o, const char* key, const std::map<std::string, uint64_t>& m) {
  o += ",\"";
  o += key;
  o += "\":{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) o += ",";
    first = false;
    append_json_string(o, k);
    o.append(":").append(std::to_string(v));
  }
  o += "}";
}
}  // namespace

std::string Stats::json() const {
  std::string o = "{\"samples_in\":" + std::to_string(in_) + ",\"samples_out\":" + std::to_string(out_) +
                  ",\"quarantined\":" + std::to_string(quarantined_) + ",\"tokens\":" + std::to_string(tokens_) +
                  ",\"trained_tokens\":" + std::to_string(trained_) + ",\"trained_fraction\":" + fmt(metric("trained_fraction")) +
                  ",\"max_len\":" + std::to_string(max_len_) + ",\"over_max_len\":" + std::to_string(over_max_len_) +
                  ",\"boundary_merge\":" + std::to_string(boundary_merge_) + ",\"truncated\":" + std::to_string(truncated_) +
                  ",\"special_in_content\":" + std::to_string(special_in_content_) +
                  ",\"image_slots\":" + std::to_string(image_slots_);
  map_json(o, "quarantine_reasons", reasons_);
  map_json(o, "special_strings", special_strings_);
  dist_json(o, "tokens_per_sample", lengths_);
  dist_json(o, "trained_per_sample", trained_per_);
  if (turns_known_) dist_json(o, "messages_per_sample", turns_);
  dist_json(o, "images_per_sample", images_);
  if (!image_tokens_.empty()) {
    dist_json(o, "tokens_per_image", image_tokens_);
    dist_json(o, "length_with_images", lengths_with_images_);
  }
  return o + "}\n";
}

namespace {
std::string esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o.push_back(c);
  }
  return o;
}

// A bar chart of a histogram as inline SVG.
std::string svg_histogram(const std::string& title, const std::vector<uint32_t>& v) {
  const Distribution d = Distribution::of(v);
  std::string s = "<figure><figcaption>" + esc(title) + "</figcaption>";
  if (d.histogram.empty()) return s + "<p>no data</p></figure>\n";
  const int W = 560, H = 200, pad = 30;
  uint64_t top = 1;
  for (const auto& b : d.histogram) top = std::max(top, b.count);
  const double bw = static_cast<double>(W - 2 * pad) / static_cast<double>(d.histogram.size());
  s += "<svg class=\"hist\" width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H + 30) +
       "\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H + 30) + "\" role=\"img\">";
  for (size_t i = 0; i < d.histogram.size(); ++i) {
    const auto& b = d.histogram[i];
    const double h = (H - pad) * static_cast<double>(b.count) / static_cast<double>(top);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7fc1\"><title>%s-%s: %llu</title></rect>"
                  "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                  pad + static_cast<double>(i) * bw + 1, H - h, bw - 2, h, fmt(b.from).c_str(), fmt(b.to).c_str(),
                  static_cast<unsigned long long>(b.count), pad + (static_cast<double>(i) + 0.5) * bw, H + 14,
                  fmt(b.from).c_str());
    s += buf;
  }
  s += "<line x1=\"" + std::to_string(pad) + "\" y1=\"" + std::to_string(H) + "\" x2=\"" + std::to_string(W - pad) +
       "\" y2=\"" + std::to_string(H) + "\" stroke=\"#333\"/></svg>";
  s += "<p class=\"d\">min " + fmt(d.min) + " &middot; median " + fmt(d.median) + " &middot; p95 " + fmt(d.p95) +
       " &middot; p99 " + fmt(d.p99) + " &middot; max " + fmt(d.max) + "</p></figure>\n";
  return s;
}
}  // namespace

std::string Stats::html(const std::string& title) const {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title><style>"
                  "body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#222}pre{background:#f4f4f4;padding:12px}"
                  "figure{display:inline-block;margin:10px 20px 10px 0}figcaption{font-weight:600}.d{color:#555;font-size:12px}"
                  "</style></head><body>\n<h1>" + esc(title) + "</h1>\n<pre>" + esc(table()) + "</pre>\n";
  h += svg_histogram("Tokens per sample", lengths_);
  h += svg_histogram("Trained tokens per sample", trained_per_);
  if (turns_known_) h += svg_histogram("Messages per sample", turns_);
  h += svg_histogram("Images per sample", images_);
  if (!image_tokens_.empty()) {
    h += svg_histogram("Tokens per image", image_tokens_);
    h += svg_histogram("Sample length with images", lengths_with_images_);
  }
  return h + "</body></html>\n";
}

}  // namespace tokalign::report
