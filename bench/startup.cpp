// Figure 6, daemon start: time from fork/exec of qtalkd (one unix listener, no admin socket)
// to the READY=1 datagram on a NOTIFY_SOCKET we bind (falls back to "first successful connect
// to its unix socket", labelled so, if no READY=1 comes); baseline: fork/exec/exit of /bin/true.
#include <filesystem>

#include "measurements.hpp"
#include "process.hpp"

namespace qbench {

void run_startup(const Config& cfg, Report& report) {
    auto bin = qtalkd_path(cfg);
    if (!bin) throw std::runtime_error("qtalkd not found next to qtalk-bench");
    auto dir = cfg.tmp / "startup";
    std::filesystem::create_directories(dir);
    std::vector<double> base, daemon;
    bool fallback = false;
    int reps = std::max(cfg.reps, 5);  // cheap: always at least 5
    for (int rep = 0; rep < reps; ++rep) {
        auto t0 = Clock::now();
        pid_t p = spawn_process({"/bin/true"}, {}, dir / "true.log");
        wait_process(p);
        base.push_back(ms_between(t0, Clock::now()));

        NotifySocket notify(dir / "notify.sock");
        auto sock = dir / "qtalkd.sock";
        t0 = Clock::now();
        pid_t q = spawn_process({bin->string(), "--listen", "unix://" + sock.string(), "--admin", "none", "--log-level",
                                 "warn"},
                                {"NOTIFY_SOCKET=" + notify.path().string()}, dir / "qtalkd.log");
        bool ready = notify.wait_ready(Clock::now() + 5s);
        if (!ready) {
            fallback = true;
            ready = wait_connectable(sock, Clock::now() + 5s);
        }
        auto t1 = Clock::now();
        stop_process(q);
        if (!ready) throw std::runtime_error("qtalkd did not become ready (see " + (dir / "qtalkd.log").string() + ")");
        daemon.push_back(ms_between(t0, t1));
    }
    Row r;
    r.group = "startup";
    r.metric = fallback ? "qtalkd exec to first connect (no READY=1)" : "qtalkd exec to READY=1";
    r.unit = "ms";
    r.value = median(daemon);
    r.baseline = median(base);
    r.pairs = pair_ratios(daemon, base);
    r.baseline_label = "/bin/true exec+exit";
    report.add(r);
    std::cout << "   " << r.metric << ": " << format_number(r.value) << " ms (/bin/true " << format_number(r.baseline)
              << " ms)" << std::endl;
}

}  // namespace qbench
