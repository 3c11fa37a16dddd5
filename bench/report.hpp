// The results: one Row per figure, always next to a baseline measured in the same run (or a
// labelled reference), the ratio, an optional goal and whether it passed. Where each repetition
// of a figure ran right next to a repetition of its baseline, the ratio is the median of those
// pairs' ratios (drift on a shared machine hits both halves of a pair alike), printed with
// their range; otherwise it is value/baseline.
// Prints the table (Markdown) and writes the JSON file. Thread-safe (the watchdog prints too).
#pragma once
#include <cmath>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace qbench {

struct Goal {
    enum Kind { ratio_le, ratio_ge, value_le, value_ge } kind;
    double limit;
};

struct Row {
    std::string group;           // the measurement (--only name)
    std::string metric;          // what, with its variant: "bulk 1 ch [unix]"
    std::string unit;            // "MiB/s", "us", "KiB", "ms", "calls/s"
    double value = std::nan("");
    double baseline = std::nan("");
    std::string baseline_label;  // "raw", "direct", "256 MiB", ...
    std::vector<Goal> goals;     // all must hold
    std::string note;
    std::vector<double> pairs;   // value/baseline of each repetition measured back to back

    double ratio() const;
    std::string range_text() const;  // "min-max" of the pairs, or "-"
    std::optional<bool> pass() const;
    std::string goal_text() const;
};

class Report {
public:
    void add(Row r);
    void note(std::string text);  // a line printed under the table (limits hit, fallbacks)
    void print(std::ostream& os) const;
    bool write_json(const std::string& path, const std::string& meta_json) const;
    int failures() const;

private:
    mutable std::mutex mu_;
    std::vector<Row> rows_;
    std::vector<std::string> notes_;
};

std::string format_number(double v);
// The ratios v[i] / base[i] of repetitions measured in pairs (the shorter length).
std::vector<double> pair_ratios(const std::vector<double>& v, const std::vector<double>& base);

}  // namespace qbench
