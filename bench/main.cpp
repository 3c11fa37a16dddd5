// qtalk-bench: the driver. Parses options, makes the run's temp dir, runs the selected
// measurements (each prints figures next to a baseline measured in the same run), prints the
// table, writes the JSON file; a watchdog bounds the whole run in time.
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "measurements.hpp"
#include "process.hpp"
#include "relay.hpp"

using namespace qbench;

namespace {

const std::vector<std::pair<std::string, void (*)(const Config&, Report&)>> measurements = {
    {"throughput", run_throughput}, {"channels", run_channels},       {"rpc", run_rpc},
    {"scale", run_scale},           {"slow_consumer", run_slow_consumer}, {"startup", run_startup},
};

void usage(std::ostream& os) {
    os << "usage: qtalk-bench [--quick] [--reps N] [--only NAME[,NAME...]] [--json PATH]\n"
          "       qtalk-bench --hub-load URL [SECONDS] [IN_FLIGHT] [json|cbor] [one-thread]\n"
          "measurements:";
    for (auto& [name, _] : measurements) os << " " << name;
    os << "\n";
}

std::string meta_json(const Config& cfg, double seconds) {
    utsname u{};
    ::uname(&u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::time_t now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    nlohmann::json m{{"date", date},
                     {"host", host},
                     {"kernel", std::string(u.sysname) + " " + u.release},
                     {"cpus", std::thread::hardware_concurrency()},
                     {"quick", cfg.quick},
                     {"reps", cfg.reps},
                     {"seconds", seconds}};
    return m.dump();
}

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && std::strcmp(argv[1], "--serve-raw") == 0) return serve_raw_main(argc, argv);
    if (argc >= 2 && std::strcmp(argv[1], "--hub-load") == 0) return hub_load_main(argc, argv);
    if (argc >= 2 && std::strcmp(argv[1], "--relay") == 0) return relay_main(argc, argv);

    Config cfg;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "qtalk-bench: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--quick") cfg.quick = true;
        else if (a == "--reps") cfg.reps = std::max(1, std::atoi(next().c_str()));
        else if (a == "--json") cfg.json_path = next();
        else if (a == "--only") {
            std::string list = next();
            for (std::size_t p = 0; p <= list.size();) {
                auto c = list.find(',', p);
                if (c == std::string::npos) c = list.size();
                if (c > p) cfg.only.insert(list.substr(p, c - p));
                p = c + 1;
            }
        } else if (a == "-h" || a == "--help") {
            usage(std::cout);
            return 0;
        } else {
            std::cerr << "qtalk-bench: unknown option " << a << "\n";
            usage(std::cerr);
            return 2;
        }
    }
    for (auto& n : cfg.only) {
        if (std::none_of(measurements.begin(), measurements.end(), [&](auto& m) { return m.first == n; })) {
            std::cerr << "qtalk-bench: unknown measurement " << n << "\n";
            usage(std::cerr);
            return 2;
        }
    }
    cfg.bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    char tmpl[] = "/tmp/qtalk-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return 1;
    }
    cfg.tmp = tmpl;
    long nofile = raise_nofile();

    Report report;
    auto t0 = Clock::now();
    auto finish = [&](int code) {
        auto secs = std::chrono::duration<double>(Clock::now() - t0).count();
        std::cout << "\n";
        report.print(std::cout);
        std::cout << "\n" << report.failures() << " goal(s) missed; " << format_number(secs) << " s\n";
        if (!cfg.json_path.empty()) {
            if (report.write_json(cfg.json_path, meta_json(cfg, secs))) std::cout << "wrote " << cfg.json_path << "\n";
            else std::cerr << "qtalk-bench: cannot write " << cfg.json_path << "\n";
        }
        std::cout.flush();
        std::error_code ec;
        std::filesystem::remove_all(cfg.tmp, ec);
        return code;
    };

    // The whole run is bounded: on expiry print what we have, kill children, exit 3.
    auto limit = cfg.quick ? std::chrono::seconds(120) : std::chrono::seconds(900);
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
        auto end = Clock::now() + limit;
        while (!done && Clock::now() < end) std::this_thread::sleep_for(100ms);
        if (done) return;
        std::cerr << "qtalk-bench: suite time limit (" << limit.count() << " s) reached\n";
        kill_all_children();
        report.note("suite time limit reached: results incomplete");
        std::_Exit(finish(3));
    });

    std::cout << "qtalk-bench: " << (cfg.quick ? "quick, " : "") << cfg.reps << " rep(s), median reported; fd limit "
              << nofile << "\n";
    int errors = 0;
    for (auto& [name, fn] : measurements) {
        if (!cfg.wants(name)) continue;
        std::cout << "== " << name << std::endl;
        auto ts = Clock::now();
        try {
            fn(cfg, report);
        } catch (const std::exception& e) {
            ++errors;
            std::cerr << "qtalk-bench: " << name << " failed: " << e.what() << "\n";
            report.note(name + " failed: " + e.what());
        }
        std::cout << "   (" << format_number(std::chrono::duration<double>(Clock::now() - ts).count()) << " s)"
                  << std::endl;
    }
    done = true;
    watchdog.join();
    return finish(errors ? 1 : 0);
}
