// Report: goal evaluation, the Markdown table and the JSON file (see report.hpp).
#include "report.hpp"

#include "common.hpp"  // median: the same one the figures' values use

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

namespace qbench {

std::string format_number(double v) {
    if (std::isnan(v)) return "-";
    char buf[64];
    double a = std::fabs(v);
    if (a >= 10000) std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (a >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
    else if (a >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
    else std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::vector<double> pair_ratios(const std::vector<double>& v, const std::vector<double>& base) {
    std::vector<double> r;
    for (std::size_t i = 0; i < std::min(v.size(), base.size()); ++i) r.push_back(v[i] / base[i]);
    return r;
}

double Row::ratio() const { return pairs.empty() ? value / baseline : median(pairs); }

std::string Row::range_text() const {
    if (pairs.size() < 2) return "-";
    auto [lo, hi] = std::minmax_element(pairs.begin(), pairs.end());
    return format_number(*lo) + "-" + format_number(*hi) + "x";
}

std::optional<bool> Row::pass() const {
    if (goals.empty()) return std::nullopt;
    for (auto& g : goals) {
        double x = (g.kind == Goal::ratio_le || g.kind == Goal::ratio_ge) ? ratio() : value;
        if (std::isnan(x)) return false;
        bool ok = (g.kind == Goal::ratio_le || g.kind == Goal::value_le) ? x <= g.limit : x >= g.limit;
        if (!ok) return false;
    }
    return true;
}

std::string Row::goal_text() const {
    std::string s;
    for (auto& g : goals) {
        if (!s.empty()) s += " & ";
        bool is_ratio = g.kind == Goal::ratio_le || g.kind == Goal::ratio_ge;
        s += (g.kind == Goal::ratio_le || g.kind == Goal::value_le) ? "<= " : ">= ";
        s += format_number(g.limit) + (is_ratio ? "x" : unit.empty() ? "" : " " + unit);
    }
    return s.empty() ? "-" : s;
}

void Report::add(Row r) {
    std::lock_guard lock(mu_);
    rows_.push_back(std::move(r));
}

void Report::note(std::string text) {
    std::lock_guard lock(mu_);
    notes_.push_back(std::move(text));
}

int Report::failures() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (auto& r : rows_)
        if (r.pass() == false) ++n;
    return n;
}

void Report::print(std::ostream& os) const {
    std::lock_guard lock(mu_);
    constexpr std::size_t cols = 7;
    std::vector<std::array<std::string, cols>> cells;
    cells.push_back({"metric", "value", "baseline", "ratio", "pairs", "goal", "pass"});
    for (auto& r : rows_) {
        auto p = r.pass();
        auto with_unit = [&](double v) { return format_number(v) + (r.unit.empty() ? "" : " " + r.unit); };
        std::string base = with_unit(r.baseline);
        if (!r.baseline_label.empty()) base += " (" + r.baseline_label + ")";
        cells.push_back({r.metric, with_unit(r.value), base, format_number(r.ratio()) + "x",
                         r.range_text(), r.goal_text(), p ? (*p ? "yes" : "NO") : ""});
    }
    std::array<std::size_t, cols> w{};
    for (auto& c : cells)
        for (std::size_t i = 0; i < cols; ++i) w[i] = std::max(w[i], c[i].size());
    auto line = [&](const std::array<std::string, cols>& c) {
        os << "|";
        for (std::size_t i = 0; i < cols; ++i) os << " " << c[i] << std::string(w[i] - c[i].size(), ' ') << " |";
        os << "\n";
    };
    line(cells[0]);
    os << "|";
    for (std::size_t i = 0; i < cols; ++i) os << std::string(w[i] + 2, '-') << "|";
    os << "\n";
    for (std::size_t i = 1; i < cells.size(); ++i) line(cells[i]);
    for (auto& r : rows_)
        if (!r.note.empty()) os << "\n* " << r.metric << ": " << r.note;
    for (auto& n : notes_) os << "\n* " << n;
    os << "\n";
}

bool Report::write_json(const std::string& path, const std::string& meta_json) const {
    std::lock_guard lock(mu_);
    nlohmann::json out;
    out["meta"] = nlohmann::json::parse(meta_json);
    auto num = [](double v) { return std::isnan(v) || std::isinf(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
    out["results"] = nlohmann::json::array();
    for (auto& r : rows_) {
        nlohmann::json j{{"group", r.group},       {"metric", r.metric},      {"unit", r.unit},
                         {"value", num(r.value)},  {"baseline", num(r.baseline)},
                         {"baseline_label", r.baseline_label},  {"ratio", num(r.ratio())},
                         {"goal", r.goals.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.goal_text())},
                         {"note", r.note}};
        j["pair_ratios"] = nlohmann::json::array();
        for (double x : r.pairs) j["pair_ratios"].push_back(num(x));
        auto p = r.pass();
        j["pass"] = p ? nlohmann::json(*p) : nlohmann::json(nullptr);
        out["results"].push_back(std::move(j));
    }
    out["notes"] = notes_;
    std::ofstream f(path);
    f << out.dump(2) << "\n";
    return bool(f);
}

}  // namespace qbench
