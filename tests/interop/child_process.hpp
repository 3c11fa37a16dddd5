// A child process whose stdin/stdout are pipes to us (the checker drives peers this way,
// PROTOCOL §4.10); stderr is inherited.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <string>
#include <system_error>
#include <vector>

namespace qtalk::interop {

struct Child {
    pid_t pid = -1;
    int to_child = -1;    // write end: the child's stdin
    int from_child = -1;  // read end: the child's stdout
};

// Starts argv[0] (PATH lookup) with argv. Errors: pipe/fork failures.
std::error_code spawn(const std::vector<std::string>& argv, Child& out);
// SIGINT, wait up to `grace`, then SIGKILL. Returns the exit status (waitpid encoding).
int stop(Child& c, std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace qtalk::interop
