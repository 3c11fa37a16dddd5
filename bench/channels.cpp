// Figure 2, 64 channels x 16 MiB concurrently on one session: aggregate rate vs 64 plain
// streams moving the same bytes, and per-channel fairness (fastest / slowest completion time;
// 1.0 = all finish together) vs the same figure of the 64 plain streams; unix and tcp.
#include "bulk.hpp"
#include "measurements.hpp"

#include <algorithm>

namespace qbench {

void run_channels(const Config& cfg, Report& report) {
    const int n = 64;
    const std::size_t each = cfg.quick ? (1u << 20) : (16u << 20);
    const double total = double(n) * double(each);
    Loop la, lb;
    for (auto kind : kinds) {
        std::vector<double> raw_rate, mux_rate, raw_fair, mux_fair;
        auto record = [&](const std::vector<double>& t, std::vector<double>& rate, std::vector<double>& fair) {
            auto [lo, hi] = std::minmax_element(t.begin(), t.end());
            rate.push_back(total / MiB / *hi);
            fair.push_back(*lo / *hi);
        };
        for (int rep = 0; rep < cfg.reps; ++rep) {
            auto run_raw = [&] { record(raw_bulk_trial(cfg, kind, la, lb, n, each), raw_rate, raw_fair); };
            auto run_mux = [&] { record(mux_bulk_trial(cfg, kind, la, lb, n, each), mux_rate, mux_fair); };
            if (rep % 2) { run_mux(); run_raw(); } else { run_raw(); run_mux(); }
        }
        std::string v = std::to_string(n) + " x " + std::to_string(each >> 20) + " MiB [" + std::string(kind) + "]";
        Row r;
        r.group = "channels";
        r.metric = "aggregate " + v;
        r.unit = "MiB/s";
        r.value = median(mux_rate);
        r.baseline = median(raw_rate);
        r.pairs = pair_ratios(mux_rate, raw_rate);
        r.baseline_label = "64 raw streams";
        r.goals = {{Goal::ratio_ge, 0.80}};
        report.add(r);
        Row f;
        f.group = "channels";
        f.metric = "fairness min/max time " + v;
        f.unit = "";
        f.value = median(mux_fair);
        f.baseline = median(raw_fair);
        f.baseline_label = "64 raw streams";
        f.goals = {{Goal::value_ge, 0.80}};
        report.add(f);
        std::cout << "   " << r.metric << ": " << format_number(r.value) << " vs " << format_number(r.baseline)
                  << " MiB/s, fairness " << format_number(f.value) << " vs " << format_number(f.baseline) << std::endl;
    }
}

}  // namespace qbench
