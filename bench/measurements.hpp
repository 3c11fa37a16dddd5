// The measurements qtalk-bench runs, one file each; every one adds its Rows to the report.
#pragma once
#include "common.hpp"
#include "report.hpp"

#include <iostream>

namespace qbench {

void run_throughput(const Config& cfg, Report& report);     // throughput.cpp: 1 channel bulk vs raw
void run_channels(const Config& cfg, Report& report);       // channels.cpp: 64 channels vs 64 raw streams
void run_rpc(const Config& cfg, Report& report);            // rpc_latency.cpp: unary echo direct/hub vs raw
void run_scale(const Config& cfg, Report& report);          // scale.cpp: idle sessions, many services
void run_slow_consumer(const Config& cfg, Report& report);  // slow_consumer.cpp: hub RSS under backpressure
void run_startup(const Config& cfg, Report& report);        // startup.cpp: exec to READY=1

// `qtalk-bench --serve-raw URL N` (scale.cpp): the raw-acceptor baseline process.
int serve_raw_main(int argc, char** argv);
// `qtalk-bench --hub-load URL [SECONDS] [IN_FLIGHT] [json|cbor]` (hub_load.cpp): echo load on a running qtalkd.
int hub_load_main(int argc, char** argv);

}  // namespace qbench
