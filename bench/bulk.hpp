// Bulk transfer trials shared by throughput.cpp and channels.cpp: N streams of B bytes each,
// written in 64 KiB writes on one loop thread and read on another, either as N qmux channels
// of one session or as N plain streams (the baseline). Returns each stream's completion time
// in seconds from the moment the writers started.
#pragma once
#include <cstddef>
#include <vector>

#include "common.hpp"
#include "qtalk/mux/session.hpp"

namespace qbench {

inline constexpr std::size_t bulk_write_size = 64 * 1024;

std::vector<double> raw_bulk_trial(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int streams,
                                   std::size_t bytes_each);
std::vector<double> mux_bulk_trial(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int channels,
                                   std::size_t bytes_each, qtalk::mux::Options opts = {});

}  // namespace qbench
