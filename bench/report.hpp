// The results: one Row per figure, always next to a baseline measured in the same run (or a
// labelled reference), the ratio value/baseline, an optional goal and whether it passed.
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

    double ratio() const { return value / baseline; }
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

}  // namespace qbench
