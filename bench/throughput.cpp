// Figure 1, bulk throughput over one channel: a qmux channel vs the same transport without
// qmux, moving the same bytes in 64 KiB writes, writer and reader on separate threads; unix
// and tcp. With the default options (1 GiB window, 16 MiB max packet) and with the hub's
// (4 MiB window, 1 MiB max packet). Goal: >= 80% of raw.
#include "bulk.hpp"
#include "measurements.hpp"

#include <functional>

namespace qbench {

void run_throughput(const Config& cfg, Report& report) {
    const std::size_t total = cfg.quick ? (64u << 20) : (1u << 30);
    qtalk::mux::Options hub_opts;
    hub_opts.window = 4u << 20;
    hub_opts.max_packet = 1u << 20;
    Loop la, lb;
    for (auto kind : kinds) {
        std::vector<double> raw, mux, mux_hub;
        auto rate = [&](std::vector<double> t) { return total / MiB / t[0]; };
        for (int rep = 0; rep < cfg.reps; ++rep) {
            // Rotate the order so drift on a shared machine hits all alike.
            std::function<void()> runs[] = {
                [&] { raw.push_back(rate(raw_bulk_trial(cfg, kind, la, lb, 1, total))); },
                [&] { mux.push_back(rate(mux_bulk_trial(cfg, kind, la, lb, 1, total))); },
                [&] { mux_hub.push_back(rate(mux_bulk_trial(cfg, kind, la, lb, 1, total, hub_opts))); },
            };
            for (int i = 0; i < 3; ++i) runs[(rep + i) % 3]();
        }
        auto add = [&](std::string what, const std::vector<double>& v) {
            Row r;
            r.group = "throughput";
            r.metric = "bulk 1 channel, " + what + ", " + std::to_string(total >> 20) + " MiB [" + std::string(kind) + "]";
            r.unit = "MiB/s";
            r.value = median(v);
            r.baseline = median(raw);
            r.pairs = pair_ratios(v, raw);
            r.baseline_label = "raw stream";
            r.goals = {{Goal::ratio_ge, 0.80}};
            report.add(r);
            std::cout << "   " << r.metric << ": " << format_number(r.value) << " vs " << format_number(r.baseline)
                      << " MiB/s" << std::endl;
        };
        add("default window", mux);
        add("hub window", mux_hub);
    }
}

}  // namespace qbench
